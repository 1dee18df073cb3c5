// fugue/nn/dropout.hpp — inverted dropout with a counter-based (Philox) mask.
//
// Contract:
//  * train mode: y = x * keep / (1 - p), keep_i = (philox{seed, stream}.uniform(i) >= p) for
//    element i of the row-major input; eval mode (or p == 0): y = x (the same Var, no node).
//  * On a tape, dropout is active when both the module (train()) and the tape
//    (tape.training()) are in training mode, and the mask's stream is tape.next_rng(), so a
//    step is reproducible from the tape's seed. The tape-free forward(x) draws from the
//    module's own stream (advanced by one per call; reseed(seed) restarts it).
//  * p must be in [0, 1); p outside throws fugue::error.
//  * No parameters (visit_parameters visits nothing). dropout_op(tape, x, p, rng) is the
//    fused op (backward multiplies by the same mask); dropout_tensor(x, p, rng) the plain one.
#pragma once

#include <string_view>

#include "fugue/autodiff/registry.hpp"
#include "fugue/autodiff/tape.hpp"
#include "fugue/autodiff/ops/nn.hpp"
#include "fugue/core/rng.hpp"
#include "fugue/nn/module.hpp"
#include "fugue/ops.hpp"

FUGUE_AD_OP(nn_dropout)

namespace fugue::nn {

template <class T, class B>
Tensor<T, B> dropout_tensor(const Tensor<T, B>& x, T p, Philox rng) {
  if (p == T(0)) return x;
  return ops::mul(x, ad::detail::dropout_mask<T, B>(x.shape(), p, rng));
}

template <class T, class B>
ad::Var<T, B> dropout_op(ad::Tape<T, B>& tape, const ad::Var<T, B>& x, T p, Philox rng) {
  FUGUE_CHECK(p >= T(0) && p < T(1), "dropout probability ", p, " outside [0, 1)");
  if (p == T(0)) return x;
  Tensor<T, B> mask = ad::detail::dropout_mask<T, B>(x.shape(), p, rng);
  return tape.record(
      ops::mul(x.value(), mask), {x},
      [mask](const Tensor<T, B>& g, auto& sink) {
        if (sink.needs(0)) sink.accumulate(0, ops::mul(g, mask));
      },
      "nn_dropout");
}

template <Scalar T, Backend B = cpu::native>
class Dropout {
 public:
  using tensor_type = Tensor<T, B>;
  using var_type = ad::Var<T, B>;
  explicit Dropout(T p = T(0.1), std::uint64_t seed = 0x0d0d) : p_(p), rng_{seed, 0} {
    FUGUE_CHECK(p >= T(0) && p < T(1), "Dropout: probability ", p, " outside [0, 1)");
  }
  void train(bool on = true) noexcept { training_ = on; }
  void eval() noexcept { training_ = false; }
  bool training() const noexcept { return training_; }
  T p() const noexcept { return p_; }
  void reseed(std::uint64_t seed) noexcept { rng_ = {seed, 0}; }
  // The stream the next call will use (then advanced).
  Philox next_rng() noexcept { return {rng_.seed, rng_.stream++}; }

  var_type operator()(ad::Tape<T, B>& tape, const var_type& x) {
    if (!training_ || !tape.training() || p_ == T(0)) return x;
    return dropout_op(tape, x, p_, tape.next_rng());
  }
  tensor_type forward(const tensor_type& x) {
    if (!training_ || p_ == T(0)) return x;
    return dropout_tensor(x, p_, next_rng());
  }
  template <class F>
  void visit_parameters(F&&, std::string_view = {}) {}

 private:
  T p_;
  Philox rng_;
  bool training_ = true;
};

}  // namespace fugue::nn
