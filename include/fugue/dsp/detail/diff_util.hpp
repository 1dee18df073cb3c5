// fugue/dsp/detail/diff_util.hpp — helpers shared by the differentiable DSP ops (internal).
//
// Contract (internal, may change):
//  * avec<T>: std::vector with 64-byte aligned storage (FFTW-aligned, xsimd-aligned).
//  * exp_sigmoid_forward(x, s, n, bias): s = 2 sigmoid(x + bias)^ln 10 + 1e-7 (DDSP core.exp_sigmoid),
//    vectorised; exp_sigmoid_backward(x, s, g, dx, n, bias): dx (+)= g * ds/dx with
//    ds/dx = ln 10 (s - 1e-7) sigmoid(-(x + bias)).
//  * next_pow2(n): smallest power of two >= n (n >= 1).
//  * grad_rows(shape): numel / last extent helpers for [B, ...] inputs.
#pragma once

#include <xsimd/xsimd.hpp>

#include <cmath>
#include <cstddef>
#include <numbers>
#include <vector>

#include "fugue/backend/cpu/arch.hpp"
#include "fugue/backend/cpu/functors.hpp"

namespace fugue::dsp::detail {

template <class T>
using avec = std::vector<T, xsimd::aligned_allocator<T, 64>>;

inline constexpr double kExpSigmoidThreshold = 1e-7;
inline constexpr double kExpSigmoidMax = 2.0;

inline std::size_t next_pow2(std::size_t n) {
  std::size_t p = 1;
  while (p < n) p <<= 1;
  return p;
}

// Applies f(V) to n elements of x into y, with SIMD batches of the native arch and a scalar tail.
template <class T, class F>
void simd_map(std::size_t n, const T* x, T* y, F f) {
  using Arch = cpu::best_arch;
  std::size_t i = 0;
  if constexpr (!cpu::is_scalar_arch<Arch>) {
    using V = xsimd::batch<T, Arch>;
    constexpr std::size_t L = V::size;
    for (; i + L <= n; i += L) f(V::load_unaligned(x + i)).store_unaligned(y + i);
  }
  for (; i < n; ++i) y[i] = f(x[i]);
}

template <class T, class F>
void simd_zip(std::size_t n, const T* a, const T* b, T* y, F f) {
  using Arch = cpu::best_arch;
  std::size_t i = 0;
  if constexpr (!cpu::is_scalar_arch<Arch>) {
    using V = xsimd::batch<T, Arch>;
    constexpr std::size_t L = V::size;
    for (; i + L <= n; i += L) f(V::load_unaligned(a + i), V::load_unaligned(b + i)).store_unaligned(y + i);
  }
  for (; i < n; ++i) y[i] = f(a[i], b[i]);
}

template <class T>
void exp_sigmoid_forward(const T* x, T* s, std::size_t n, double bias = 0.0) {
  const cpu::fn::exp_sigmoid es{};
  simd_map<T>(n, x, s, [&](auto v) {
    using V = decltype(v);
    return es(v + V(T(bias)));
  });
}

// dx[i] = g[i] * exp_sigmoid'(x[i] + bias), given s = exp_sigmoid(x + bias).
template <class T>
void exp_sigmoid_backward(const T* x, const T* s, const T* g, T* dx, std::size_t n, double bias = 0.0) {
  const T ln10 = T(std::numbers::ln10);
  const T thr = T(kExpSigmoidThreshold);
  std::size_t i = 0;
  using Arch = cpu::best_arch;
  const cpu::fn::sigmoid sig{};
  if constexpr (!cpu::is_scalar_arch<Arch>) {
    using V = xsimd::batch<T, Arch>;
    constexpr std::size_t L = V::size;
    for (; i + L <= n; i += L) {
      const V xv = V::load_unaligned(x + i) + V(T(bias));
      const V sv = V::load_unaligned(s + i);
      const V gv = V::load_unaligned(g + i);
      (gv * V(ln10) * (sv - V(thr)) * sig(-xv)).store_unaligned(dx + i);
    }
  }
  for (; i < n; ++i) dx[i] = g[i] * ln10 * (s[i] - thr) * sig(-(x[i] + T(bias)));
}

}  // namespace fugue::dsp::detail
