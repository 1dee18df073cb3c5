// fugue/nn/mlp.hpp — a stack of [Linear -> (LayerNorm) -> activation] blocks.
//
// Contract
//  * MLP<T, B, In, Ch, Layers, Act, Norm>: input [..., In] -> output [..., Ch]. Block k is
//    Linear(k == 0 ? In : Ch, Ch), then LayerNorm(Ch) when Norm, then Act elementwise.
//    Layers == 0 is the identity (DDSP's FcStack with 0 layers).
//  * DDSP's fc stacks (training/nn.py Fc / FcStack): FcStack<T, B, In, Ch, Layers> =
//    Dense -> LayerNormalization (Keras eps 1e-3, learnable gamma/beta) -> leaky ReLU 0.2.
//    The norm eps is a constructor argument (default 1e-3, Keras); the activation object
//    (e.g. its slope) too.
//  * Parameters: "<k>.linear.weight" [Ch, in], "<k>.linear.bias" [Ch], and when Norm
//    "<k>.norm.weight" [Ch] (gamma), "<k>.norm.bias" [Ch] (beta).
//  * operator()(tape, x) / forward(x) as the member layers (one node per Linear,
//    LayerNorm and activation). input_extent / output_extent for nn::Sequential.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "fugue/nn/activation.hpp"
#include "fugue/nn/layer_norm.hpp"
#include "fugue/nn/linear.hpp"
#include "fugue/nn/module.hpp"

namespace fugue::nn {

template <Scalar T, Backend B = cpu::native, index_t In = dyn, index_t Ch = dyn, int Layers = 1,
          class Act = act::LeakyReLU, bool Norm = true>
class MLP {
  static_assert(Layers >= 0);

 public:
  using tensor_type = Tensor<T, B>;
  using var_type = ad::Var<T, B>;
  static constexpr index_t input_extent = In;
  static constexpr index_t output_extent = Layers == 0 ? In : Ch;
  template <index_t X>
  static constexpr index_t output_extent_for = Layers == 0 ? X : Ch;

  explicit MLP(index_t in = In, index_t ch = Ch, Philox init = {0x5eed, 0}, double norm_eps = 1e-3, Act act = {})
      : in_(in), ch_(ch), act_(act) {
    FUGUE_CHECK(In == dyn || in_ == In, "MLP: in ", in_, " but the type says ", In);
    FUGUE_CHECK(Ch == dyn || ch_ == Ch, "MLP: channels ", ch_, " but the type says ", Ch);
    for (int k = 0; k < Layers; ++k) {
      linears_.emplace_back(k == 0 ? in_ : ch_, ch_, Philox{init.seed, init.stream + 2 * std::uint64_t(k)});
      if (Norm) norms_.emplace_back(LayerNormOptions{ch_, norm_eps, true});
    }
  }

  var_type operator()(ad::Tape<T, B>& tape, const var_type& x) {
    var_type cur = x;
    for (int k = 0; k < Layers; ++k) {
      cur = linears_[std::size_t(k)](tape, cur);
      if constexpr (Norm) cur = norms_[std::size_t(k)](tape, cur);
      cur = activation_op(tape, cur, act_);
    }
    return cur;
  }
  tensor_type forward(const tensor_type& x) const {
    tensor_type cur = x;
    for (int k = 0; k < Layers; ++k) {
      cur = linears_[std::size_t(k)].forward(cur);
      if constexpr (Norm) cur = norms_[std::size_t(k)].forward(cur);
      B::map(cur.numel(), cur.data(), cur.data(), act::forward_of<Act>{act_});
    }
    return cur;
  }

  Linear<T, B>& linear(int k) { return linears_.at(std::size_t(k)); }
  LayerNorm<T, B>& norm(int k) { return norms_.at(std::size_t(k)); }
  const Linear<T, B>& linear(int k) const { return linears_.at(std::size_t(k)); }
  const LayerNorm<T, B>& norm(int k) const { return norms_.at(std::size_t(k)); }

  template <class F>
  void visit_parameters(F&& f, std::string_view prefix = {}) {
    for (int k = 0; k < Layers; ++k) {
      const std::string p = join_name(prefix, std::to_string(k));
      linears_[std::size_t(k)].visit_parameters(f, join_name(p, "linear"));
      if constexpr (Norm) norms_[std::size_t(k)].visit_parameters(f, join_name(p, "norm"));
    }
  }

 private:
  index_t in_, ch_;
  Act act_;
  std::vector<Linear<T, B>> linears_;
  std::vector<LayerNorm<T, B>> norms_;
};

// DDSP's FcStack(ch, layers): Dense -> LayerNorm(eps 1e-3) -> leaky_relu(0.2), `Layers` times.
template <Scalar T, Backend B, index_t In, index_t Ch, int Layers = 3>
using FcStack = MLP<T, B, In, Ch, Layers, act::LeakyReLU, true>;

}  // namespace fugue::nn
