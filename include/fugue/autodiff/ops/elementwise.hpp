// fugue/autodiff/ops/elementwise.hpp — differentiable elementwise ops.
//
// Contract: binary ops (add, sub, mul, div) broadcast NumPy-style and their
// backward sums the gradient over the broadcast axes; shapes that do not
// broadcast throw fugue::error. Unary ops keep the shape. Derivatives at kinks
// follow PyTorch: relu'(0) = 0, abs'(0) = 0, clamp passes the gradient for
// lo <= x <= hi. sigmoid/softplus use the overflow-free forms of
// fugue/core/functors.hpp. pow_scalar(x, p) is defined where x^p is
// (x > 0 for non-integer p). where(mask, a, b) takes mask as a constant tensor
// (nonzero = true) broadcastable with a and b; mask_mul(x, mask) multiplies by
// a constant tensor broadcastable to x's shape (the result has x's shape).
// Operators + - * / on Vars (and Var with a scalar) call these functions.
#pragma once

#include <cmath>

#include "fugue/autodiff/ops/common.hpp"
#include "fugue/autodiff/ops/grad_functors.hpp"

namespace fugue::ad {

FUGUE_AD_OP(add)
FUGUE_AD_OP(sub)
FUGUE_AD_OP(mul)
FUGUE_AD_OP(div)
FUGUE_AD_OP(scale)
FUGUE_AD_OP(add_scalar)
FUGUE_AD_OP(neg)
FUGUE_AD_OP(exp)
FUGUE_AD_OP(log)
FUGUE_AD_OP(sqrt)
FUGUE_AD_OP(square)
FUGUE_AD_OP(abs)
FUGUE_AD_OP(tanh)
FUGUE_AD_OP(sigmoid)
FUGUE_AD_OP(relu)
FUGUE_AD_OP(softplus)
FUGUE_AD_OP(pow_scalar)
FUGUE_AD_OP(clamp)
FUGUE_AD_OP(where)
FUGUE_AD_OP(mask_mul)

namespace detail {
// Unary op whose derivative is a function of (grad, x).
template <class T, class B, class Fwd, class Dx>
Var<T, B> unary_dx(const Var<T, B>& x, Fwd fwd, Dx dx, const char* name) {
  return x.tape().record(
      ops::unary(x.value(), fwd), {x},
      [dx](const Tensor<T, B>& g, GradSink<T, B>& s) {
        if (s.needs(0)) s.accumulate(0, zip(g, s.input(0), dx));
      },
      name);
}
// Unary op whose derivative is a function of (grad, y) with y the output.
template <class T, class B, class Fwd, class Dy>
Var<T, B> unary_dy(const Var<T, B>& x, Fwd fwd, Dy dy, const char* name) {
  return x.tape().record(
      ops::unary(x.value(), fwd), {x},
      [dy](const Tensor<T, B>& g, GradSink<T, B>& s) {
        if (s.needs(0)) s.accumulate(0, zip(g, s.output(), dy));
      },
      name);
}
}  // namespace detail

// --- binary -------------------------------------------------------------------------
template <Scalar T, Backend B>
Var<T, B> add(const Var<T, B>& a, const Var<T, B>& b) {
  auto& t = detail::common_tape({&a, &b}, "add");
  return t.record(
      ops::add(a.value(), b.value()), {a, b},
      [](const Tensor<T, B>& g, GradSink<T, B>& s) {
        s.accumulate_broadcast(0, g);
        s.accumulate_broadcast(1, g);
      },
      "add");
}

template <Scalar T, Backend B>
Var<T, B> sub(const Var<T, B>& a, const Var<T, B>& b) {
  auto& t = detail::common_tape({&a, &b}, "sub");
  return t.record(
      ops::sub(a.value(), b.value()), {a, b},
      [](const Tensor<T, B>& g, GradSink<T, B>& s) {
        s.accumulate_broadcast(0, g);
        if (s.needs(1)) s.accumulate_broadcast(1, ops::neg(g));
      },
      "sub");
}

template <Scalar T, Backend B>
Var<T, B> mul(const Var<T, B>& a, const Var<T, B>& b) {
  auto& t = detail::common_tape({&a, &b}, "mul");
  return t.record(
      ops::mul(a.value(), b.value()), {a, b},
      [](const Tensor<T, B>& g, GradSink<T, B>& s) {
        if (s.needs(0)) s.accumulate_broadcast(0, ops::mul(g, s.input(1)));
        if (s.needs(1)) s.accumulate_broadcast(1, ops::mul(g, s.input(0)));
      },
      "mul");
}

template <Scalar T, Backend B>
Var<T, B> div(const Var<T, B>& a, const Var<T, B>& b) {
  auto& t = detail::common_tape({&a, &b}, "div");
  return t.record(
      ops::div(a.value(), b.value()), {a, b},
      [](const Tensor<T, B>& g, GradSink<T, B>& s) {
        Tensor<T, B> gq = ops::div(g, s.input(1));  // g / b, output shape
        if (s.needs(0)) s.accumulate_broadcast(0, gq);
        if (s.needs(1))  // d(a/b)/db = -(a/b)/b
          s.accumulate_broadcast(1, detail::zip(gq, s.output(), fn::neg_mul{}));
      },
      "div");
}

// --- scalar -------------------------------------------------------------------------
template <Scalar T, Backend B>
Var<T, B> scale(const Var<T, B>& x, std::type_identity_t<T> c) {
  return x.tape().record(
      ops::scale(x.value(), c), {x},
      [c](const Tensor<T, B>& g, GradSink<T, B>& s) {
        if (s.needs(0)) s.accumulate(0, ops::scale(g, c));
      },
      "scale");
}

template <Scalar T, Backend B>
Var<T, B> add_scalar(const Var<T, B>& x, std::type_identity_t<T> c) {
  return x.tape().record(
      ops::add_scalar(x.value(), c), {x}, [](const Tensor<T, B>& g, GradSink<T, B>& s) { s.accumulate(0, g); },
      "add_scalar");
}

template <Scalar T, Backend B>
Var<T, B> neg(const Var<T, B>& x) {
  return x.tape().record(
      ops::neg(x.value()), {x},
      [](const Tensor<T, B>& g, GradSink<T, B>& s) {
        if (s.needs(0)) s.accumulate(0, ops::neg(g));
      },
      "neg");
}

// --- unary --------------------------------------------------------------------------
template <Scalar T, Backend B>
Var<T, B> exp(const Var<T, B>& x) {
  return detail::unary_dy(x, fn::exp{}, fn::mul{}, "exp");
}
template <Scalar T, Backend B>
Var<T, B> log(const Var<T, B>& x) {
  return detail::unary_dx(x, fn::log{}, fn::div{}, "log");
}
template <Scalar T, Backend B>
Var<T, B> sqrt(const Var<T, B>& x) {
  return detail::unary_dy(x, fn::sqrt{}, fn::half_over{}, "sqrt");
}
template <Scalar T, Backend B>
Var<T, B> square(const Var<T, B>& x) {
  return detail::unary_dx(x, fn::square{}, fn::twice_mul{}, "square");
}
template <Scalar T, Backend B>
Var<T, B> abs(const Var<T, B>& x) {
  return detail::unary_dx(x, fn::abs{}, fn::sign_grad{}, "abs");
}
template <Scalar T, Backend B>
Var<T, B> tanh(const Var<T, B>& x) {
  return detail::unary_dy(x, fn::tanh{}, fn::tanh_grad{}, "tanh");
}
template <Scalar T, Backend B>
Var<T, B> sigmoid(const Var<T, B>& x) {
  return detail::unary_dy(x, fn::sigmoid{}, fn::sigmoid_grad{}, "sigmoid");
}
template <Scalar T, Backend B>
Var<T, B> relu(const Var<T, B>& x) {
  return detail::unary_dx(x, fn::relu{}, fn::relu_grad{}, "relu");
}
template <Scalar T, Backend B>
Var<T, B> softplus(const Var<T, B>& x) {
  return detail::unary_dx(x, fn::softplus{}, fn::softplus_grad{}, "softplus");
}

template <Scalar T, Backend B>
Var<T, B> pow_scalar(const Var<T, B>& x, std::type_identity_t<T> p) {
  return detail::unary_dx(x, fn::pow_by{double(p)}, fn::pow_grad{double(p)}, "pow_scalar");
}

template <Scalar T, Backend B>
Var<T, B> clamp(const Var<T, B>& x, std::type_identity_t<T> lo, std::type_identity_t<T> hi) {
  FUGUE_CHECK(lo <= hi, "clamp: lo ", lo, " > hi ", hi);
  return detail::unary_dx(x, fn::clamp_to<T>{lo, hi}, fn::clamp_grad<T>{lo, hi}, "clamp");
}

// --- masks --------------------------------------------------------------------------
// out = mask ? a : b, elementwise, broadcasting mask, a and b together.
template <Scalar T, Backend B>
Var<T, B> where(const Tensor<T, B>& mask, const Var<T, B>& a, const Var<T, B>& b) {
  auto& t = detail::common_tape({&a, &b}, "where");
  const Shape out = broadcast_shapes(broadcast_shapes(a.shape(), b.shape()), mask.shape());
  Tensor<T, B> m = mask.broadcast_to(out).contiguous();
  Tensor<T, B> y = detail::zip3(m, a.value().broadcast_to(out), b.value().broadcast_to(out), fn::pick_where_nonzero{});
  return t.record(
      std::move(y), {a, b},
      [m](const Tensor<T, B>& g, GradSink<T, B>& s) {
        if (s.needs(0)) s.accumulate_broadcast(0, detail::zip(m, g, fn::keep_where_nonzero{}));
        if (s.needs(1)) s.accumulate_broadcast(1, detail::zip(m, g, fn::keep_where_zero{}));
      },
      "where");
}

// x * mask with a constant mask (broadcast to x's shape).
template <Scalar T, Backend B>
Var<T, B> mask_mul(const Var<T, B>& x, const Tensor<T, B>& mask) {
  Tensor<T, B> m = mask.broadcast_to(x.shape()).contiguous();
  return x.tape().record(
      detail::zip(x.value(), m, fn::mul{}), {x},
      [m](const Tensor<T, B>& g, GradSink<T, B>& s) {
        if (s.needs(0)) s.accumulate(0, detail::zip(g, m, fn::mul{}));
      },
      "mask_mul");
}

// --- operators ------------------------------------------------------------------------
template <Scalar T, Backend B>
Var<T, B> operator+(const Var<T, B>& a, const Var<T, B>& b) {
  return add(a, b);
}
template <Scalar T, Backend B>
Var<T, B> operator-(const Var<T, B>& a, const Var<T, B>& b) {
  return sub(a, b);
}
template <Scalar T, Backend B>
Var<T, B> operator*(const Var<T, B>& a, const Var<T, B>& b) {
  return mul(a, b);
}
template <Scalar T, Backend B>
Var<T, B> operator/(const Var<T, B>& a, const Var<T, B>& b) {
  return div(a, b);
}
template <Scalar T, Backend B>
Var<T, B> operator-(const Var<T, B>& a) {
  return neg(a);
}
template <Scalar T, Backend B>
Var<T, B> operator+(const Var<T, B>& a, std::type_identity_t<T> c) {
  return add_scalar(a, c);
}
template <Scalar T, Backend B>
Var<T, B> operator+(std::type_identity_t<T> c, const Var<T, B>& a) {
  return add_scalar(a, c);
}
template <Scalar T, Backend B>
Var<T, B> operator-(const Var<T, B>& a, std::type_identity_t<T> c) {
  return add_scalar(a, -c);
}
template <Scalar T, Backend B>
Var<T, B> operator-(std::type_identity_t<T> c, const Var<T, B>& a) {
  return add_scalar(neg(a), c);
}
template <Scalar T, Backend B>
Var<T, B> operator*(const Var<T, B>& a, std::type_identity_t<T> c) {
  return scale(a, c);
}
template <Scalar T, Backend B>
Var<T, B> operator*(std::type_identity_t<T> c, const Var<T, B>& a) {
  return scale(a, c);
}
template <Scalar T, Backend B>
Var<T, B> operator/(const Var<T, B>& a, std::type_identity_t<T> c) {
  return scale(a, T(1) / c);
}

}  // namespace fugue::ad
