// fugue/core/lanes.hpp — one vocabulary for arithmetic that runs on a scalar or on a SIMD batch.
//
// Contract: every function in fugue::lane takes V = an arithmetic scalar (float, double) or an
// xsimd::batch<T, Arch> and means the same lane-wise operation on both, so one body serves a
// kernel's SIMD loop, its scalar tail and, for scalars, CUDA device code (the scalar overloads
// are FUGUE_HOST_DEVICE; the batch ones are host-only: nvcc never sees an xsimd register type in
// device code). Code written once against this vocabulary (the named functors of
// core/functors.hpp, the recurrent gate equations, the harmonic oscillator bank) therefore has
// one spelling for the host SIMD kernels, the device functors and the streaming paths.
//  * element_t<V>: T for T and for batch<T, A>; width<V>: 1 for scalars, the batch size else.
//  * k<V>(c): the constant c in V's element type (broadcast for batches).
//  * exp, log, log1p, sqrt, abs, tanh, erfc, sin, cos, max, min, fma (a b + c), fms (a b - c),
//    select(c, a, b) (c ? a : b per lane), sigmoid, softplus, hsum (the sum of the lanes).
//  * load<V>(p) / store(p, v): width<V> elements, unaligned; load_first<V>(p, n) /
//    store_first(p, v, n): only the first n <= width<V> elements (other lanes read as 0).
// Accuracy: scalars use <cmath>; batches use xsimd's vector math, except tanh (float: xsimd 8.1's
// algorithm without its data-dependent branches, same results) and erfc (double: std::erfc per
// lane, since xsimd 8.1's double erfc is off by up to 1e7 ulp in the tail). Body and tail of one
// array may therefore differ in the last bits; tests/backend_kernels bounds each function's error
// against a long-double reference. Stable forms:
//   sigmoid(x)  = x >= 0 ? 1/(1+e) : e/(1+e),  e = exp(-|x|)
//   softplus(x) = max(x,0) + log1p(exp(-|x|))
#pragma once

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <type_traits>

#include <xsimd/xsimd.hpp>

#include "fugue/core/host_device.hpp"

namespace fugue::lane {

template <class V>
struct element_of {
  using type = V;
};
template <class T, class A>
struct element_of<xsimd::batch<T, A>> {
  using type = T;
};
template <class V>
using element_t = typename element_of<V>::type;

template <class V>
inline constexpr std::size_t width = 1;
template <class T, class A>
inline constexpr std::size_t width<xsimd::batch<T, A>> = xsimd::batch<T, A>::size;

template <portable_scalar V>
FUGUE_HOST_DEVICE inline V k(double c) {
  return V(c);
}
template <portable_batch V>
inline V k(double c) {
  return V(static_cast<element_t<V>>(c));
}

// One-argument functions: a scalar overload usable in CUDA device code, a batch one for xsimd.
#define FUGUE_LANE_FN1(name, scalar_expr, batch_expr) \
  template <portable_scalar V>                        \
  FUGUE_HOST_DEVICE inline V name(V x) {              \
    return scalar_expr;                               \
  }                                                   \
  template <portable_batch V>                         \
  inline V name(const V& x) {                         \
    return batch_expr;                                \
  }
FUGUE_LANE_FN1(exp, std::exp(x), xsimd::exp(x))
FUGUE_LANE_FN1(log, std::log(x), xsimd::log(x))
FUGUE_LANE_FN1(log1p, std::log1p(x), xsimd::log1p(x))
FUGUE_LANE_FN1(sqrt, std::sqrt(x), xsimd::sqrt(x))
FUGUE_LANE_FN1(abs, std::abs(x), xsimd::abs(x))
FUGUE_LANE_FN1(sin, std::sin(x), xsimd::sin(x))
FUGUE_LANE_FN1(cos, std::cos(x), xsimd::cos(x))
#undef FUGUE_LANE_FN1

// tanh: for float batches, xsimd 8.1's algorithm (odd polynomial below |x| = 0.625,
// 1 - 2 / (1 + exp(2|x|)) above) without its data-dependent any()/all() branches,
// which mispredict on mixed inputs (2.5x slower with AVX2 on random data). Same results.
template <portable_scalar V>
FUGUE_HOST_DEVICE inline V tanh(V x) {
  return std::tanh(x);
}
template <portable_batch V>
inline V tanh(const V& x) {
  if constexpr (std::is_same_v<element_t<V>, float>) {
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
// erfc: double batches go through std::erfc lane by lane (slower, but double is the precision
// of reference and gradient-check runs, where accuracy is the point).
template <portable_scalar V>
FUGUE_HOST_DEVICE inline V erfc(V x) {
  return std::erfc(x);
}
template <portable_batch V>
inline V erfc(const V& x) {
  if constexpr (std::is_same_v<element_t<V>, double>) {
    alignas(64) double buf[V::size];
    x.store_aligned(buf);
    for (auto& v : buf) v = std::erfc(v);
    return V::load_aligned(buf);
  } else {
    return xsimd::erfc(x);
  }
}
// max / min keep std::max's NaN behaviour for scalars: max(NaN, 0) is NaN.
template <portable_scalar V>
FUGUE_HOST_DEVICE inline V max(V a, V b) {
  return a < b ? b : a;
}
template <portable_batch V>
inline V max(const V& a, const V& b) {
  return xsimd::max(a, b);
}
template <portable_scalar V>
FUGUE_HOST_DEVICE inline V min(V a, V b) {
  return b < a ? b : a;
}
template <portable_batch V>
inline V min(const V& a, const V& b) {
  return xsimd::min(a, b);
}
template <portable_scalar V>
FUGUE_HOST_DEVICE inline V fma(V a, V b, V c) {
  return a * b + c;
}
template <portable_batch V>
inline V fma(const V& a, const V& b, const V& c) {
  return xsimd::fma(a, b, c);
}
template <portable_scalar V>
FUGUE_HOST_DEVICE inline V fms(V a, V b, V c) {
  return a * b - c;
}
template <portable_batch V>
inline V fms(const V& a, const V& b, const V& c) {
  return xsimd::fms(a, b, c);
}
template <class C, portable_scalar V>
FUGUE_HOST_DEVICE inline V select(C c, V a, V b) {
  return c ? a : b;
}
template <class C, portable_batch V>
inline V select(const C& c, const V& a, const V& b) {
  return xsimd::select(c, a, b);
}

template <portable_scalar V>
FUGUE_HOST_DEVICE inline V sigmoid(V x) {
  const V e = lane::exp(-lane::abs(x));
  const V s = V(1) / (V(1) + e);
  return x >= V(0) ? s : e * s;
}
template <portable_batch V>
inline V sigmoid(const V& x) {
  const V e = lane::exp(-lane::abs(x));
  const V s = k<V>(1) / (k<V>(1) + e);
  return lane::select(x >= k<V>(0), s, e * s);
}
template <portable_scalar V>
FUGUE_HOST_DEVICE inline V softplus(V x) {
  return lane::max(x, V(0)) + lane::log1p(lane::exp(-lane::abs(x)));
}
template <portable_batch V>
inline V softplus(const V& x) {
  return lane::max(x, k<V>(0)) + lane::log1p(lane::exp(-lane::abs(x)));
}

template <portable_scalar V>
FUGUE_HOST_DEVICE inline V hsum(V x) {
  return x;
}
template <portable_batch V>
inline element_t<V> hsum(const V& x) {
  return xsimd::hadd(x);
}

template <portable_scalar V>
FUGUE_HOST_DEVICE inline V load(const V* p) {
  return *p;
}
template <portable_batch V>
inline V load(const element_t<V>* p) {
  return V::load_unaligned(p);
}
template <portable_scalar V>
FUGUE_HOST_DEVICE inline void store(V* p, V v) {
  *p = v;
}
template <portable_batch V>
inline void store(element_t<V>* p, const V& v) {
  v.store_unaligned(p);
}
template <portable_scalar V>
FUGUE_HOST_DEVICE inline V load_first(const V* p, std::size_t) {
  return *p;
}
template <portable_batch V>
inline V load_first(const element_t<V>* p, std::size_t n) {
  if (n == V::size) return V::load_unaligned(p);
  alignas(64) element_t<V> tmp[V::size] = {};
  std::copy_n(p, n, tmp);
  return V::load_aligned(tmp);
}
template <portable_scalar V>
FUGUE_HOST_DEVICE inline void store_first(V* p, V v, std::size_t) {
  *p = v;
}
template <portable_batch V>
inline void store_first(element_t<V>* p, const V& v, std::size_t n) {
  if (n == V::size) return v.store_unaligned(p);
  alignas(64) element_t<V> tmp[V::size];
  v.store_aligned(tmp);
  std::copy_n(tmp, n, p);
}

}  // namespace fugue::lane
