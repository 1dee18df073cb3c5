// fugue/dsp/host_kernels.hpp — host-side building blocks of the differentiable DSP ops.
//
// Contract (public: models that run DSP per frame, e.g. ddsp::Streamer, use them too):
//  * avec<T>: std::vector with 64-byte aligned storage (FFTW-aligned, xsimd-aligned).
//  * lane_t<T, Arch> (the register type of T on Arch, T on the scalar fallback) and
//    for_lane_blocks<T, Arch>(n0, n1, f): f(V{}, n, count) over blocks of V's width, the last
//    one partial (the harmonic synthesiser and the streamer walk samples this way).
//  * host_arch_t<B>: the xsimd architecture the DSP ops' host loops run on for backend B:
//    B's own instruction set (cpu::arch_of_t, e.g. xsimd::avx2 for cpu::simd<xsimd::avx2>,
//    plain loops for cpu::scalar), and cpu::best_arch for a host-accessible backend that names
//    none (a Thrust host system).
//  * sin_cos<Arch>(phase, s, c, n): sine and cosine of n phases (s may alias phase).
//  * exp_sigmoid_forward<Arch>(x, s, n, bias): s = 2 sigmoid(x + bias)^ln 10 + 1e-7 (DDSP
//    core.exp_sigmoid), vectorised on Arch; exp_sigmoid_backward<Arch>(x, s, g, dx, n, bias):
//    dx = g * ds/dx (fn::exp_sigmoid_grad). Arch = scalar_arch runs the scalar tail loop only.
#pragma once

#include <xsimd/xsimd.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <type_traits>
#include <vector>

#include "fugue/backend/cpu/arch.hpp"
#include "fugue/core/functors.hpp"
#include "fugue/core/lanes.hpp"

namespace fugue::dsp {

template <class T>
using avec = std::vector<T, xsimd::aligned_allocator<T, 64>>;

template <class B>
using host_arch_t = cpu::arch_of_t<B, cpu::best_arch>;

// The lane type of T on Arch: xsimd::batch<T, Arch>, or T itself on cpu::scalar_arch.
template <class T, class Arch>
using lane_t = std::conditional_t<cpu::is_scalar_arch<Arch>, T, xsimd::batch<T, Arch>>;

// Calls f(V{}, n, count) for the blocks of [n0, n1) in steps of V = lane_t<T, Arch>'s width;
// count < width only for the last block (read and write it with lane::load_first / store_first).
template <class T, class Arch, class F>
void for_lane_blocks(std::size_t n0, std::size_t n1, F&& f) {
  using V = lane_t<T, Arch>;
  constexpr std::size_t W = lane::width<V>;
  for (std::size_t n = n0; n < n1; n += W) f(V{}, n, std::min(W, n1 - n));
}

namespace detail {

// Applies f(V) to n elements of x into y, with SIMD batches of Arch and a scalar tail.
template <class Arch, class T, class F>
void simd_map(std::size_t n, const T* x, T* y, F f) {
  std::size_t i = 0;
  if constexpr (!cpu::is_scalar_arch<Arch>) {
    using V = xsimd::batch<T, Arch>;
    constexpr std::size_t L = V::size;
    for (; i + L <= n; i += L) f(V::load_unaligned(x + i)).store_unaligned(y + i);
  }
  for (; i < n; ++i) y[i] = f(x[i]);
}

template <class Arch, class T, class F>
void simd_zip(std::size_t n, const T* a, const T* b, T* y, F f) {
  std::size_t i = 0;
  if constexpr (!cpu::is_scalar_arch<Arch>) {
    using V = xsimd::batch<T, Arch>;
    constexpr std::size_t L = V::size;
    for (; i + L <= n; i += L) f(V::load_unaligned(a + i), V::load_unaligned(b + i)).store_unaligned(y + i);
  }
  for (; i < n; ++i) y[i] = f(a[i], b[i]);
}

}  // namespace detail

// s[i] = sin(phase[i]), c[i] = cos(phase[i]) for i < n (xsimd::sincos on Arch, <cmath> for the
// tail); s may be phase itself.
template <class Arch, class T>
void sin_cos(const T* phase, T* s, T* c, std::size_t n) {
  std::size_t i = 0;
  if constexpr (!cpu::is_scalar_arch<Arch>) {
    using V = xsimd::batch<T, Arch>;
    for (; i + V::size <= n; i += V::size) {
      const auto sc = xsimd::sincos(V::load_unaligned(phase + i));
      sc.first.store_unaligned(s + i);
      sc.second.store_unaligned(c + i);
    }
  }
  for (; i < n; ++i) {
    const T p = phase[i];
    s[i] = std::sin(p);
    c[i] = std::cos(p);
  }
}

template <class Arch, class T>
void exp_sigmoid_forward(const T* x, T* s, std::size_t n, double bias = 0.0) {
  const fn::exp_sigmoid es{};
  detail::simd_map<Arch, T>(n, x, s, [&](auto v) {
    using V = decltype(v);
    return es(v + V(T(bias)));
  });
}

// dx[i] = g[i] * exp_sigmoid'(x[i] + bias), given s = exp_sigmoid(x + bias) (fn::exp_sigmoid_grad).
template <class Arch, class T>
void exp_sigmoid_backward(const T* x, const T* s, const T* g, T* dx, std::size_t n, double bias = 0.0) {
  const fn::exp_sigmoid_grad grad{};
  std::size_t i = 0;
  if constexpr (!cpu::is_scalar_arch<Arch>) {
    using V = xsimd::batch<T, Arch>;
    constexpr std::size_t L = V::size;
    for (; i + L <= n; i += L)
      grad(V::load_unaligned(g + i), V::load_unaligned(x + i) + V(T(bias)), V::load_unaligned(s + i))
          .store_unaligned(dx + i);
  }
  for (; i < n; ++i) dx[i] = grad(g[i], x[i] + T(bias), s[i]);
}

}  // namespace fugue::dsp
