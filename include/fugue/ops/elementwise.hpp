// fugue/ops/elementwise.hpp — tensor-level elementwise operations.
//
// Contract: unary(x, f) and binary(a, b, f) return new contiguous tensors; binary
// ops broadcast NumPy-style and throw fugue::error naming both shapes when they
// cannot. Inputs may be any views (non-contiguous, broadcast). The functor is
// applied by the backend (SIMD on the CPU); it must accept both the backend's
// vector type and T. Named wrappers (add, mul, exp, sigmoid, ...) use the portable
// functors of fugue/core/functors.hpp, so they also run on the CUDA backend.
#pragma once

#include <cmath>

#include "fugue/tensor.hpp"
#include "fugue/core/functors.hpp"

namespace fugue::ops {

template <class T, class B, class F>
Tensor<T, B> unary(const Tensor<T, B>& x, F f) {
  Tensor<T, B> xc = x.contiguous();
  auto y = Tensor<T, B>::empty(x.shape());
  B::map(y.numel(), xc.data(), y.data(), f);
  return y;
}

// In-place variant: x must be contiguous and writable.
template <class T, class B, class F>
void unary_(Tensor<T, B>& x, F f) {
  FUGUE_CHECK(x.is_contiguous(), "in-place op on a non-contiguous view of shape ", x.shape().str());
  B::map(x.numel(), x.data(), x.data(), f);
}

template <class T, class B, class F>
Tensor<T, B> binary(const Tensor<T, B>& a, const Tensor<T, B>& b, F f) {
  const Shape out = broadcast_shapes(a.shape(), b.shape());
  auto y = Tensor<T, B>::empty(out);
  if (a.shape() == out && b.shape() == out && a.is_contiguous() && b.is_contiguous()) {
    B::zip(y.numel(), a.data(), b.data(), y.data(), f);
    return y;
  }
  // Row broadcast (the bias-add pattern): a is [..., N] contiguous, b is [N].
  if (a.shape() == out && a.is_contiguous() && b.rank() == 1 && b.is_contiguous() && out.rank() >= 1 &&
      b.dim(0) == out[-1]) {
    const index_t n = b.dim(0), rows = n ? y.numel() / n : 0;
    for (index_t r = 0; r < rows; ++r) B::zip(n, a.data() + r * n, b.data(), y.data() + r * n, f);
    return y;
  }
  Tensor<T, B> ac = a.broadcast_to(out).clone(), bc = b.broadcast_to(out).clone();
  B::zip(y.numel(), ac.data(), bc.data(), y.data(), f);
  return y;
}

// --- named operations (fugue::fn functors: the same on every backend) ---------
template <class T, class B>
Tensor<T, B> add(const Tensor<T, B>& a, const Tensor<T, B>& b) {
  return binary(a, b, fn::add{});
}
template <class T, class B>
Tensor<T, B> sub(const Tensor<T, B>& a, const Tensor<T, B>& b) {
  return binary(a, b, fn::sub{});
}
template <class T, class B>
Tensor<T, B> mul(const Tensor<T, B>& a, const Tensor<T, B>& b) {
  return binary(a, b, fn::mul{});
}
template <class T, class B>
Tensor<T, B> div(const Tensor<T, B>& a, const Tensor<T, B>& b) {
  return binary(a, b, fn::div{});
}
template <class T, class B>
Tensor<T, B> scale(const Tensor<T, B>& a, T s) {
  return unary(a, fn::scale_by<T>{s});
}
template <class T, class B>
Tensor<T, B> add_scalar(const Tensor<T, B>& a, T s) {
  return unary(a, fn::add_value<T>{s});
}
template <class T, class B>
Tensor<T, B> neg(const Tensor<T, B>& a) {
  return unary(a, fn::neg{});
}
template <class T, class B>
Tensor<T, B> square(const Tensor<T, B>& a) {
  return unary(a, fn::square{});
}
template <class T, class B>
Tensor<T, B> exp(const Tensor<T, B>& a) {
  return unary(a, fn::exp{});
}
template <class T, class B>
Tensor<T, B> log(const Tensor<T, B>& a) {
  return unary(a, fn::log{});
}
template <class T, class B>
Tensor<T, B> sqrt(const Tensor<T, B>& a) {
  return unary(a, fn::sqrt{});
}
template <class T, class B>
Tensor<T, B> tanh(const Tensor<T, B>& a) {
  return unary(a, fn::tanh{});
}
template <class T, class B>
Tensor<T, B> sigmoid(const Tensor<T, B>& a) {
  return unary(a, fn::sigmoid{});
}
template <class T, class B>
Tensor<T, B> relu(const Tensor<T, B>& a) {
  return unary(a, fn::relu{});
}

}  // namespace fugue::ops
