// fugue/nn/detail/conv_ops.hpp — the convolution ops as fused tape nodes.
//
// Contract: conv_op(tape, x, w, b, g, out_shape) records y = conv(x, w) + b for the
// geometry g (see conv_kernels.hpp) and a hand-written backward (col2im for dx, GEMM
// for dw, a sum for db). conv_transpose_op records the adjoint: y = conv^T(x, w) + b,
// where g describes the *forward* convolution that maps y's shape to x's shape
// (g.c_in = C_out of the transposed conv, g.c_out = its C_in, weight [C_in, C_out/g, kH, kW]).
// x must hold g.n * g.c_in * g.h * g.w elements (any rank; it is read contiguously).
// The plain-tensor functions conv_forward_tensor / conv_transpose_forward_tensor are the
// tape-free inference paths. Shape validation is the caller's job (nn/conv*.hpp).
#pragma once

#include <optional>

#include "fugue/autodiff/registry.hpp"
#include "fugue/autodiff/tape.hpp"
#include "fugue/nn/detail/conv_kernels.hpp"

FUGUE_AD_OP(nn_conv)
FUGUE_AD_OP(nn_conv_transpose)

namespace fugue::nn::detail {

template <class T, class B>
Tensor<T, B> conv_forward_tensor(const conv_geometry& g, const Tensor<T, B>& x, const Tensor<T, B>& w,
                                 const Tensor<T, B>* b, const Shape& out_shape) {
  Tensor<T, B> xc = x.contiguous(), wc = w.contiguous();
  Tensor<T, B> bc = b ? b->contiguous() : Tensor<T, B>{};
  auto y = Tensor<T, B>::empty(out_shape);
  conv_forward<B>(g, xc.data(), wc.data(), b ? bc.data() : nullptr, y.data());
  return y;
}

// y (shape of the forward conv's input, out_shape) = conv^T(x) + b (b per y channel).
template <class T, class B>
Tensor<T, B> conv_transpose_forward_tensor(const conv_geometry& g, const Tensor<T, B>& x, const Tensor<T, B>& w,
                                           const Tensor<T, B>* b, const Shape& out_shape) {
  Tensor<T, B> xc = x.contiguous(), wc = w.contiguous();
  auto y = Tensor<T, B>::zeros(out_shape);
  conv_backward_data<B>(g, xc.data(), wc.data(), y.data());
  if (b) {
    Tensor<T, B> bc = b->contiguous();
    add_channel_bias<B>(g.n, g.c_in, g.h * g.w, bc.data(), y.data());
  }
  return y;
}

template <class T, class B>
ad::Var<T, B> conv_op(ad::Tape<T, B>& tape, const ad::Var<T, B>& x, const ad::Var<T, B>& w,
                      const std::optional<ad::Var<T, B>>& b, const conv_geometry& g, const Shape& out_shape) {
  Tensor<T, B> xv = x.value().contiguous(), wv = w.value().contiguous();
  Tensor<T, B> bv = b ? b->value() : Tensor<T, B>{};
  Tensor<T, B> y = conv_forward_tensor(g, xv, wv, b ? &bv : nullptr, out_shape);
  const Shape xs = x.shape(), ws = w.shape();
  auto bw = [g, xv, wv, xs, ws, has_b = bool(b)](const Tensor<T, B>& gy, auto& sink) {
    Tensor<T, B> gc = gy.contiguous();
    if (sink.needs(0)) {
      auto dx = Tensor<T, B>::zeros(xs);
      conv_backward_data<B>(g, gc.data(), wv.data(), dx.data());
      sink.accumulate(0, dx);
    }
    if (sink.needs(1)) {
      auto dw = Tensor<T, B>::zeros(ws);
      conv_backward_weight<B>(g, xv.data(), gc.data(), dw.data());
      sink.accumulate(1, dw);
    }
    if (has_b && sink.needs(2)) {
      auto db = Tensor<T, B>::zeros({g.c_out});
      conv_backward_bias<B>(g.n, g.c_out, g.col_cols(), gc.data(), db.data());
      sink.accumulate(2, db);
    }
  };
  if (b) return tape.record(std::move(y), {x, w, *b}, std::move(bw), "nn_conv");
  return tape.record(std::move(y), {x, w}, std::move(bw), "nn_conv");
}

template <class T, class B>
ad::Var<T, B> conv_transpose_op(ad::Tape<T, B>& tape, const ad::Var<T, B>& x, const ad::Var<T, B>& w,
                                const std::optional<ad::Var<T, B>>& b, const conv_geometry& g, const Shape& out_shape) {
  Tensor<T, B> xv = x.value().contiguous(), wv = w.value().contiguous();
  Tensor<T, B> bv = b ? b->value() : Tensor<T, B>{};
  Tensor<T, B> y = conv_transpose_forward_tensor(g, xv, wv, b ? &bv : nullptr, out_shape);
  const Shape xs = x.shape(), ws = w.shape();
  auto bw = [g, xv, wv, xs, ws, has_b = bool(b)](const Tensor<T, B>& gy, auto& sink) {
    Tensor<T, B> gc = gy.contiguous();
    if (sink.needs(0)) {  // dx = conv(gy, w)
      auto dx = Tensor<T, B>::empty(xs);
      conv_forward<B>(g, gc.data(), wv.data(), static_cast<const T*>(nullptr), dx.data());
      sink.accumulate(0, dx);
    }
    if (sink.needs(1)) {  // dw[ci, co, :] = sum x[ci] * col(gy)[co, :]
      auto dw = Tensor<T, B>::zeros(ws);
      conv_backward_weight<B>(g, gc.data(), xv.data(), dw.data());
      sink.accumulate(1, dw);
    }
    if (has_b && sink.needs(2)) {
      auto db = Tensor<T, B>::zeros({g.c_in});
      conv_backward_bias<B>(g.n, g.c_in, g.h * g.w, gc.data(), db.data());
      sink.accumulate(2, db);
    }
  };
  if (b) return tape.record(std::move(y), {x, w, *b}, std::move(bw), "nn_conv_transpose");
  return tape.record(std::move(y), {x, w}, std::move(bw), "nn_conv_transpose");
}

}  // namespace fugue::nn::detail
