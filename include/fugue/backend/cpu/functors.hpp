// fugue/backend/cpu/functors.hpp — named elementwise functors for the CPU kernels.
//
// Contract: every functor in fugue::cpu::fn is callable with a T (float or
// double) and with an xsimd::batch<T, Arch>, so one object serves the SIMD body
// and the scalar tail of kernels::map / zip / zip3. The T overloads are also
// __host__ __device__ under nvcc (FUGUE_PORTABLE_OP*, core/host_device.hpp), so the
// CUDA backend's Thrust transforms run the same functors. The scalar overloads use
// <cmath>; the batch overloads use xsimd's vector math. Results agree with the
// mathematical function to a few ulps (tests/backend_kernels measures and bounds
// the error of each one against a long-double reference); body and tail of one
// array may therefore differ in the last bits.
//
// Numerically stable forms are used where the textbook form over/underflows or
// cancels:
//   sigmoid(x)     = x >= 0 ? 1/(1+e) : e/(1+e),  e = exp(-|x|)
//   softplus(x)    = max(x,0) + log1p(exp(-|x|))
//   exp_sigmoid(x) = max_value * sigmoid(x)^ln(exponent) + threshold   (DDSP core.exp_sigmoid,
//                    defaults 2, 10, 1e-7), evaluated as
//                    max_value * exp(-ln(exponent) * softplus(-x)) + threshold
//   gelu_tanh(x)   = 0.5 x (1 + tanh(u)) = x * sigmoid(2u),  u = sqrt(2/pi) (x + 0.044715 x^3)
//   gelu_erf(x)    = 0.5 x (1 + erf(x/sqrt2)) = 0.5 x erfc(-x/sqrt2)
//   silu(x)        = x * sigmoid(x)
// rsqrt is the exact 1/sqrt(x), not the hardware estimate (xsimd 8.1's AVX-512
// rsqrt needs AVX-512ER, and the AVX one has only 12 bits).
#pragma once

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <type_traits>

#include <xsimd/xsimd.hpp>

#include "fugue/core/host_device.hpp"

namespace fugue::cpu::fn {

namespace detail {

template <class V>
inline constexpr bool is_scalar_v = std::is_arithmetic_v<V>;

template <class V>
struct value_type_of {
  using type = V;
};
template <class T, class A>
struct value_type_of<xsimd::batch<T, A>> {
  using type = T;
};
template <class V>
using value_t = typename value_type_of<V>::type;

// A constant of V's element type (broadcast for batches by the implicit conversion).
template <portable_scalar V>
FUGUE_HOST_DEVICE inline V k(double c) {
  return V(c);
}
template <portable_batch V>
inline V k(double c) {
  return V(static_cast<value_t<V>>(c));
}

// One-argument helpers: a scalar overload usable in CUDA device code, a batch one for xsimd.
#define FUGUE_FN_HELPER1(name, scalar_expr, batch_expr) \
  template <portable_scalar V>                          \
  FUGUE_HOST_DEVICE inline V name(V x) {                \
    return scalar_expr;                                 \
  }                                                     \
  template <portable_batch V>                           \
  inline V name(const V& x) {                           \
    return batch_expr;                                  \
  }
FUGUE_FN_HELPER1(vexp, std::exp(x), xsimd::exp(x))
FUGUE_FN_HELPER1(vlog, std::log(x), xsimd::log(x))
FUGUE_FN_HELPER1(vlog1p, std::log1p(x), xsimd::log1p(x))
FUGUE_FN_HELPER1(vsqrt, std::sqrt(x), xsimd::sqrt(x))
FUGUE_FN_HELPER1(vabs, std::abs(x), xsimd::abs(x))
#undef FUGUE_FN_HELPER1

// tanh: for float batches, xsimd 8.1's algorithm (odd polynomial below |x| = 0.625,
// 1 - 2 / (1 + exp(2|x|)) above) without its data-dependent any()/all() branches,
// which mispredict on mixed inputs (2.5x slower with AVX2 on random data). Same results.
template <portable_scalar V>
FUGUE_HOST_DEVICE inline V vtanh(V x) {
  return std::tanh(x);
}
template <portable_batch V>
inline V vtanh(const V& x) {
  if constexpr (std::is_same_v<value_t<V>, float>) {
    const V a = xsimd::abs(x), a2 = a * a;
    const auto c = [](std::uint32_t bits) { return V(std::bit_cast<float>(bits)); };
    V p = xsimd::fma(c(0xbbbaf0ea), a2, c(0x3ca9134e));  // -5.70498872745e-3, 2.06390887954e-2
    p = xsimd::fma(p, a2, c(0xbd5c1e2d));                // -5.37397155531e-2
    p = xsimd::fma(p, a2, c(0x3e088393));                // 1.33314422036e-1
    p = xsimd::fma(p, a2, c(0xbeaaaa99));                // -3.33332819422e-1
    const V small = xsimd::fma(p * a2, a, a);
    const V large = xsimd::fma(V(-2.f), V(1.f) / (V(1.f) + xsimd::exp(a + a)), V(1.f));
    return xsimd::copysign(xsimd::select(a < V(0.625f), small, large), x);
  } else {
    return xsimd::tanh(x);
  }
}
// erfc: xsimd 8.1's double erfc is off by up to 2e4 ulp at x = 2.5 and 1e7 ulp in the far
// tail (its float one is within ~2x the function's conditioning), so double batches use
// std::erfc lane by lane: slower, but double is the precision of reference and
// gradient-check runs, where accuracy is the point.
template <portable_scalar V>
FUGUE_HOST_DEVICE inline V verfc(V x) {
  return std::erfc(x);
}
template <portable_batch V>
inline V verfc(const V& x) {
  if constexpr (std::is_same_v<value_t<V>, double>) {
    alignas(64) double buf[V::size];
    x.store_aligned(buf);
    for (auto& v : buf) v = std::erfc(v);
    return V::load_aligned(buf);
  } else {
    return xsimd::erfc(x);
  }
}
template <portable_scalar V>
FUGUE_HOST_DEVICE inline V vmax(V a, V b) {
  return a < b ? b : a;
}
template <portable_batch V>
inline V vmax(const V& a, const V& b) {
  return xsimd::max(a, b);
}
template <portable_scalar V>
FUGUE_HOST_DEVICE inline V vmin(V a, V b) {
  return b < a ? b : a;
}
template <portable_batch V>
inline V vmin(const V& a, const V& b) {
  return xsimd::min(a, b);
}
template <portable_scalar V>
FUGUE_HOST_DEVICE inline V vfma(V a, V b, V c) {
  return a * b + c;
}
template <portable_batch V>
inline V vfma(const V& a, const V& b, const V& c) {
  return xsimd::fma(a, b, c);
}
// Lane-wise select: c ? a : b.
template <class C, portable_scalar V>
FUGUE_HOST_DEVICE inline V vselect(C c, V a, V b) {
  return c ? a : b;
}
template <class C, portable_batch V>
inline V vselect(const C& c, const V& a, const V& b) {
  return xsimd::select(c, a, b);
}

// sigmoid(x) without overflow and without cancellation for negative x.
template <portable_scalar V>
FUGUE_HOST_DEVICE inline V sigmoid(V x) {
  const V e = vexp(-vabs(x));
  const V s = V(1) / (V(1) + e);
  return x >= V(0) ? s : e * s;
}
template <portable_batch V>
inline V sigmoid(const V& x) {
  const V e = vexp(-vabs(x));
  const V s = k<V>(1) / (k<V>(1) + e);
  return vselect(x >= k<V>(0), s, e * s);
}

// softplus(x) = log(1 + exp(x)) without overflow.
template <portable_scalar V>
FUGUE_HOST_DEVICE inline V softplus(V x) {
  return vmax(x, k<V>(0)) + vlog1p(vexp(-vabs(x)));
}
template <portable_batch V>
inline V softplus(const V& x) {
  return vmax(x, k<V>(0)) + vlog1p(vexp(-vabs(x)));
}

}  // namespace detail

// --- unary ---------------------------------------------------------------------
// Every functor: FUGUE_PORTABLE_OP* (core/host_device.hpp) = a scalar overload for host and
// device, a batch overload for the SIMD kernels, one body.
struct identity {
  FUGUE_PORTABLE_OP1(x, x)
};
struct neg {
  FUGUE_PORTABLE_OP1(x, -x)
};
struct exp {
  FUGUE_PORTABLE_OP1(x, detail::vexp(x))
};
struct log {
  FUGUE_PORTABLE_OP1(x, detail::vlog(x))
};
struct sqrt {
  FUGUE_PORTABLE_OP1(x, detail::vsqrt(x))
};
struct rsqrt {
  FUGUE_PORTABLE_OP1(x, detail::k<V>(1) / detail::vsqrt(x))
};
struct square {
  FUGUE_PORTABLE_OP1(x, x* x)
};
struct abs {
  FUGUE_PORTABLE_OP1(x, detail::vabs(x))
};
struct tanh {
  FUGUE_PORTABLE_OP1(x, detail::vtanh(x))
};
struct sigmoid {
  FUGUE_PORTABLE_OP1(x, detail::sigmoid(x))
};
struct relu {
  FUGUE_PORTABLE_OP1(x, detail::vmax(x, detail::k<V>(0)))
};
struct softplus {
  FUGUE_PORTABLE_OP1(x, detail::softplus(x))
};

// DDSP's core.exp_sigmoid: max_value * sigmoid(x)^ln(exponent) + threshold, evaluated as
// max_value * exp(-p * softplus(-x)) + threshold with p = ln(exponent).
struct exp_sigmoid {
  double log_exponent, max_value, threshold;
  explicit exp_sigmoid(double exponent = 10.0, double max_value_ = 2.0, double threshold_ = 1e-7)
      : log_exponent(std::log(exponent)), max_value(max_value_), threshold(threshold_) {}
  FUGUE_PORTABLE_OP1(x, detail::vfma(detail::k<V>(max_value),
                                     detail::vexp(-detail::k<V>(log_exponent) * detail::softplus(-x)),
                                     detail::k<V>(threshold)))
};

// GELU, tanh approximation (PyTorch approximate="tanh"), as x * sigmoid(2u).
struct gelu_tanh {
  FUGUE_PORTABLE_OP1(x, x* detail::sigmoid(detail::k<V>(2 * 0.7978845608028654) *
                                           detail::vfma(detail::k<V>(0.044715) * x, x* x, x)))
};

// GELU, exact erf form (PyTorch's default), as 0.5 x erfc(-x/sqrt2).
struct gelu_erf {
  FUGUE_PORTABLE_OP1(x, detail::k<V>(0.5) * x * detail::verfc(x * detail::k<V>(-0.7071067811865476)))
};
using gelu = gelu_erf;

struct silu {
  FUGUE_PORTABLE_OP1(x, x* detail::sigmoid(x))
};

// --- binary --------------------------------------------------------------------
struct add {
  FUGUE_PORTABLE_OP2(a, b, a + b)
};
struct sub {
  FUGUE_PORTABLE_OP2(a, b, a - b)
};
struct mul {
  FUGUE_PORTABLE_OP2(a, b, a* b)
};
struct div {
  FUGUE_PORTABLE_OP2(a, b, a / b)
};
struct max {
  FUGUE_PORTABLE_OP2(a, b, detail::vmax(a, b))
};
struct min {
  FUGUE_PORTABLE_OP2(a, b, detail::vmin(a, b))
};

// --- ternary -------------------------------------------------------------------
// fma(a, b, c) = a * b + c (fused in the SIMD body).
struct fma {
  FUGUE_PORTABLE_OP3(a, b, c, detail::vfma(a, b, c))
};

}  // namespace fugue::cpu::fn
