// fugue/backend/cpu/functors.hpp — named elementwise functors for the CPU kernels.
//
// Contract: every functor in fugue::cpu::fn is callable with a T (float or
// double) and with an xsimd::batch<T, Arch>, so one object serves the SIMD body
// and the scalar tail of kernels::map / zip / zip3. The scalar overloads use
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
template <class V>
inline V k(double c) {
  return V(static_cast<value_t<V>>(c));
}

template <class V> inline V vexp(const V& x) { if constexpr (is_scalar_v<V>) return std::exp(x); else return xsimd::exp(x); }
template <class V> inline V vlog(const V& x) { if constexpr (is_scalar_v<V>) return std::log(x); else return xsimd::log(x); }
template <class V> inline V vlog1p(const V& x) { if constexpr (is_scalar_v<V>) return std::log1p(x); else return xsimd::log1p(x); }
template <class V> inline V vsqrt(const V& x) { if constexpr (is_scalar_v<V>) return std::sqrt(x); else return xsimd::sqrt(x); }
template <class V> inline V vabs(const V& x) { if constexpr (is_scalar_v<V>) return std::abs(x); else return xsimd::abs(x); }
// tanh: for float batches, xsimd 8.1's algorithm (odd polynomial below |x| = 0.625,
// 1 - 2 / (1 + exp(2|x|)) above) without its data-dependent any()/all() branches,
// which mispredict on mixed inputs (2.5x slower with AVX2 on random data). Same results.
template <class V>
inline V vtanh(const V& x) {
  if constexpr (is_scalar_v<V>) {
    return std::tanh(x);
  } else if constexpr (std::is_same_v<value_t<V>, float>) {
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
template <class V>
inline V verfc(const V& x) {
  if constexpr (is_scalar_v<V>) {
    return std::erfc(x);
  } else if constexpr (std::is_same_v<value_t<V>, double>) {
    alignas(64) double buf[V::size];
    x.store_aligned(buf);
    for (auto& v : buf) v = std::erfc(v);
    return V::load_aligned(buf);
  } else {
    return xsimd::erfc(x);
  }
}
template <class V> inline V vmax(const V& a, const V& b) { if constexpr (is_scalar_v<V>) return a < b ? b : a; else return xsimd::max(a, b); }
template <class V> inline V vmin(const V& a, const V& b) { if constexpr (is_scalar_v<V>) return b < a ? b : a; else return xsimd::min(a, b); }
template <class V> inline V vfma(const V& a, const V& b, const V& c) {
  if constexpr (is_scalar_v<V>) return a * b + c; else return xsimd::fma(a, b, c);
}

// sigmoid(x) without overflow and without cancellation for negative x.
template <class V>
inline V sigmoid(const V& x) {
  const V e = vexp(-vabs(x));
  const V s = k<V>(1) / (k<V>(1) + e);
  if constexpr (is_scalar_v<V>) return x >= 0 ? s : e * s;
  else return xsimd::select(x >= k<V>(0), s, e * s);
}

// softplus(x) = log(1 + exp(x)) without overflow.
template <class V>
inline V softplus(const V& x) {
  return vmax(x, k<V>(0)) + vlog1p(vexp(-vabs(x)));
}

}  // namespace detail

// --- unary ---------------------------------------------------------------------
struct identity {
  template <class V> V operator()(const V& x) const { return x; }
};
struct neg {
  template <class V> V operator()(const V& x) const { return -x; }
};
struct exp {
  template <class V> V operator()(const V& x) const { return detail::vexp(x); }
};
struct log {
  template <class V> V operator()(const V& x) const { return detail::vlog(x); }
};
struct sqrt {
  template <class V> V operator()(const V& x) const { return detail::vsqrt(x); }
};
struct rsqrt {
  template <class V> V operator()(const V& x) const { return detail::k<V>(1) / detail::vsqrt(x); }
};
struct square {
  template <class V> V operator()(const V& x) const { return x * x; }
};
struct abs {
  template <class V> V operator()(const V& x) const { return detail::vabs(x); }
};
struct tanh {
  template <class V> V operator()(const V& x) const { return detail::vtanh(x); }
};
struct sigmoid {
  template <class V> V operator()(const V& x) const { return detail::sigmoid(x); }
};
struct relu {
  template <class V> V operator()(const V& x) const { return detail::vmax(x, detail::k<V>(0)); }
};
struct softplus {
  template <class V> V operator()(const V& x) const { return detail::softplus(x); }
};

// DDSP's core.exp_sigmoid: max_value * sigmoid(x)^ln(exponent) + threshold.
struct exp_sigmoid {
  double log_exponent, max_value, threshold;
  explicit exp_sigmoid(double exponent = 10.0, double max_value_ = 2.0, double threshold_ = 1e-7)
      : log_exponent(std::log(exponent)), max_value(max_value_), threshold(threshold_) {}
  template <class V>
  V operator()(const V& x) const {
    using detail::k;
    // sigmoid(x)^p = exp(p * log sigmoid(x)) = exp(-p * softplus(-x)), p = ln(exponent).
    const V p = k<V>(log_exponent);
    return detail::vfma(k<V>(max_value), detail::vexp(-p * detail::softplus(-x)), k<V>(threshold));
  }
};

// GELU, tanh approximation (PyTorch approximate="tanh"), as x * sigmoid(2u).
struct gelu_tanh {
  template <class V>
  V operator()(const V& x) const {
    using detail::k;
    const V u = k<V>(2 * 0.7978845608028654) * detail::vfma(k<V>(0.044715) * x, x * x, x);
    return x * detail::sigmoid(u);
  }
};

// GELU, exact erf form (PyTorch's default), as 0.5 x erfc(-x/sqrt2).
struct gelu_erf {
  template <class V>
  V operator()(const V& x) const {
    using detail::k;
    return k<V>(0.5) * x * detail::verfc(x * k<V>(-0.7071067811865476));
  }
};
using gelu = gelu_erf;

struct silu {
  template <class V> V operator()(const V& x) const { return x * detail::sigmoid(x); }
};

// --- binary --------------------------------------------------------------------
struct add {
  template <class V> V operator()(const V& a, const V& b) const { return a + b; }
};
struct sub {
  template <class V> V operator()(const V& a, const V& b) const { return a - b; }
};
struct mul {
  template <class V> V operator()(const V& a, const V& b) const { return a * b; }
};
struct div {
  template <class V> V operator()(const V& a, const V& b) const { return a / b; }
};
struct max {
  template <class V> V operator()(const V& a, const V& b) const { return detail::vmax(a, b); }
};
struct min {
  template <class V> V operator()(const V& a, const V& b) const { return detail::vmin(a, b); }
};

// --- ternary -------------------------------------------------------------------
// fma(a, b, c) = a * b + c (fused in the SIMD body).
struct fma {
  template <class V> V operator()(const V& a, const V& b, const V& c) const { return detail::vfma(a, b, c); }
};

}  // namespace fugue::cpu::fn
