// fugue/models/music_vae/layers.hpp — MusicVAE's building blocks (docs/music_vae.md, "Building blocks").
//
// Contract
//  * DenseTF<T, B, In, Out>: nn::Linear initialised as MusicVAE's dense layers (kernel
//    N(0, 0.001), bias 0); parameters "weight" [Out, In], "bias" [Out].
//  * StateInit<T, B, Cond, H, Layers>: the LSTM initial state from a conditioning vector:
//    tanh(Dense(cond)) of width 2 * H * Layers, split in the order c0, h0, c1, h1, ... (docs/music_vae.md,
//    "Building blocks"). Training: vars(tape, cond [N, Cond]); inference: state(cond) -> LSTM::State.
//  * BidirectionalLstmEncoder<T, B, In, H, Layers>: a stacked bidirectional LSTM (layer l+1
//    reads [fw | bw] of layer l); encoding = [final h of the top fw | top bw], width 2H.
//    Parameters "lstm.<l>.fw.kernel", ... Input [N, T, In] -> [N, 2H].
//  * broadcast_time(tape, v [N, C], T) -> [N, T, C] (gradient summed over time).
//  * All sizes are template arguments, so a mis-wired composition does not compile.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "fugue/autodiff/ops/elementwise.hpp"
#include "fugue/autodiff/ops/shape.hpp"
#include "fugue/autodiff/tape.hpp"
#include "fugue/core/host_span.hpp"
#include "fugue/core/rng.hpp"
#include "fugue/nn/linear.hpp"
#include "fugue/nn/lstm.hpp"
#include "fugue/nn/module.hpp"
#include "fugue/ops/concat.hpp"

namespace fugue::models::music_vae {

template <Scalar T, Backend B, index_t In, index_t Out>
struct DenseTF : nn::Linear<T, B, In, Out> {
  explicit DenseTF(Philox init) : nn::Linear<T, B, In, Out>(In, Out, init) {
    this->weight.value = Tensor<T, B>::normal({Out, In}, init, T(0), T(0.001));
    this->bias.value = Tensor<T, B>::zeros({Out});
  }
};

template <Scalar T, Backend B>
ad::Var<T, B> broadcast_time(ad::Tape<T, B>& tape, const ad::Var<T, B>& v, index_t steps) {
  const index_t n = v.dim(0), c = v.dim(1);
  return ad::add(ad::reshape(v, {n, 1, c}), tape.constant(Tensor<T, B>::zeros({n, steps, c})));
}

template <Scalar T, Backend B, index_t Cond, index_t H, int Layers>
class StateInit {
 public:
  static constexpr index_t width = 2 * H * Layers;
  using lstm_state = typename nn::LSTM<T, B, dyn, H, Layers>::State;

  explicit StateInit(Philox init) : dense(init) {}

  // Tape: c / h Vars per layer, as LSTM::operator() takes them.
  template <class StateVars>
  StateVars vars(ad::Tape<T, B>& tape, const ad::Var<T, B>& cond) {
    auto all = ad::tanh(dense(tape, cond));
    auto parts = ad::split(all, 2 * Layers, -1);
    StateVars s;
    for (int l = 0; l < Layers; ++l) {
      s.c.push_back(parts[std::size_t(2 * l)]);
      s.h.push_back(parts[std::size_t(2 * l + 1)]);
    }
    return s;
  }

  // Inference: the same split into an LSTM::State (contiguous [N, H] tensors).
  template <class State>
  void state(const Tensor<T, B>& cond, State& s) const {
    const Tensor<T, B> all = dense.forward(cond);
    const HostReadSpan<T, B> av(all);
    const index_t n = cond.dim(0);
    s.h.resize(Layers);
    s.c.resize(Layers);
    for (int l = 0; l < Layers; ++l)
      for (int which = 0; which < 2; ++which) {
        Tensor<T, B>& dst = which == 0 ? s.c[std::size_t(l)] : s.h[std::size_t(l)];
        if (dst.shape() != Shape{n, H}) dst = Tensor<T, B>::empty({n, H});
        const index_t off = (2 * l + which) * H;
        HostSpan<T, B> dv(dst, false);
        for (index_t r = 0; r < n; ++r)
          for (index_t j = 0; j < H; ++j) dv[r * H + j] = std::tanh(av[r * width + off + j]);
        dv.commit();
      }
  }

  template <class F>
  void visit_parameters(F&& f, std::string_view prefix = {}) {
    dense.visit_parameters(f, prefix);
  }

  DenseTF<T, B, Cond, width> dense;
};

template <Scalar T, Backend B, index_t In, index_t H, int Layers = 1>
class BidirectionalLstmEncoder {
 public:
  static constexpr index_t input_extent = In;
  static constexpr index_t output_extent = 2 * H;
  using lstm_type = nn::LSTM<T, B, In, H, Layers, true>;

  explicit BidirectionalLstmEncoder(Philox init = {0xe4c0, 0}) : lstm(In, H, init) {}

  ad::Var<T, B> operator()(ad::Tape<T, B>& tape, const ad::Var<T, B>& x) { return lstm(tape, x).last_h; }

  Tensor<T, B> forward(const Tensor<T, B>& x) const {
    typename lstm_type::State fin;
    lstm.forward(x, nullptr, &fin);
    return ops::concat_last(fin.h[std::size_t(2 * (Layers - 1))], fin.h[std::size_t(2 * (Layers - 1) + 1)]);
  }

  template <class F>
  void visit_parameters(F&& f, std::string_view prefix = {}) {
    lstm.visit_parameters(f, nn::join_name(prefix, "lstm"));
  }

  lstm_type lstm;
};

}  // namespace fugue::models::music_vae
