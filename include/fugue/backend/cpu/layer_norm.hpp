// fugue/backend/cpu/layer_norm.hpp — layer normalisation over the last axis.
//
// Contract: for each row of `cols` elements, y = (x - mean) * rstd * gamma + beta
// with rstd = 1 / sqrt(var + eps) and the biased variance (as PyTorch). gamma and
// beta may be null (meaning 1 and 0). mean_out/rstd_out, when not null, receive
// the per-row statistics the backward pass needs. y may alias x.
//
// Implementation: the corrected two-pass algorithm (Chan, Golub & LeVeque):
// mean = sum(x)/n with the blocked, compensated kernels::sum; then
// var = (sum(d^2) - sum(d)^2/n) / n and mean += sum(d)/n with d = x - mean,
// which cancels most of the rounding error of the first mean. No sum of x^2 is
// ever formed, so rows with a large mean relative to their spread stay accurate
// in float. A constant row gives var = 0 and y = beta (exactly, in practice:
// d is then one exactly representable value). Rows are spread over cpu::num_threads() workers
// when rows * cols >= kernels::parallel_threshold.
#pragma once

#include <cmath>

#include "fugue/backend/cpu/arch.hpp"
#include "fugue/backend/cpu/reduce.hpp"
#include "fugue/core/shape.hpp"

namespace fugue::cpu::kernels {

namespace detail {

// Returns {sum(d), sum(d*d)} with d = x - mean.
template <class Arch, class T>
void centered_moments(index_t n, const T* x, T mean, T& sd, T& sq) {
  index_t i = 0;
  sd = 0;
  sq = 0;
  if constexpr (!is_scalar_arch<Arch>) {
    using V = xsimd::batch<T, Arch>;
    constexpr index_t W = V::size;
    const V vm(mean);
    V d0(T(0)), d1(T(0)), q0(T(0)), q1(T(0));
    for (; i + 2 * W <= n; i += 2 * W) {
      const V a = V::load_unaligned(x + i) - vm;
      const V b = V::load_unaligned(x + i + W) - vm;
      d0 += a;
      d1 += b;
      q0 = xsimd::fma(a, a, q0);
      q1 = xsimd::fma(b, b, q1);
    }
    for (; i + W <= n; i += W) {
      const V a = V::load_unaligned(x + i) - vm;
      d0 += a;
      q0 = xsimd::fma(a, a, q0);
    }
    sd = detail::hsum(d0 + d1);
    sq = detail::hsum(q0 + q1);
  } else {
    T d0 = 0, d1 = 0, q0 = 0, q1 = 0;
    for (; i + 2 <= n; i += 2) {
      const T a = x[i] - mean, b = x[i + 1] - mean;
      d0 += a;
      d1 += b;
      q0 += a * a;
      q1 += b * b;
    }
    sd = d0 + d1;
    sq = q0 + q1;
  }
  for (; i < n; ++i) {
    const T a = x[i] - mean;
    sd += a;
    sq += a * a;
  }
}

// y = ((x - mean) * rstd) * gamma + beta; HasG/HasB select the variant.
template <bool HasG, bool HasB, class Arch, class T>
void normalize_row(index_t n, const T* x, T mean, T rstd, const T* gamma, const T* beta, T* y) {
  index_t i = 0;
  if constexpr (!is_scalar_arch<Arch>) {
    using V = xsimd::batch<T, Arch>;
    constexpr index_t W = V::size;
    const V vm(mean), vr(rstd);
    auto one = [&](index_t j) {
      V v = (V::load_unaligned(x + j) - vm) * vr;
      if constexpr (HasG && HasB)
        v = xsimd::fma(v, V::load_unaligned(gamma + j), V::load_unaligned(beta + j));
      else if constexpr (HasG)
        v *= V::load_unaligned(gamma + j);
      else if constexpr (HasB)
        v += V::load_unaligned(beta + j);
      v.store_unaligned(y + j);
    };
    for (; i + 2 * W <= n; i += 2 * W) {
      one(i);
      one(i + W);
    }
    for (; i + W <= n; i += W) one(i);
  }
  for (; i < n; ++i) {
    T v = (x[i] - mean) * rstd;
    if constexpr (HasG) v *= gamma[i];
    if constexpr (HasB) v += beta[i];
    y[i] = v;
  }
}

}  // namespace detail

template <class Arch, class T>
void layer_norm_rows(index_t rows, index_t cols, const T* x, const T* gamma, const T* beta, T eps, T* y, T* mean_out,
                     T* rstd_out) {
  detail::for_row_ranges(rows, cols, [&](index_t r0, index_t r1) {
    for (index_t r = r0; r < r1; ++r) {
      const T* xr = x + r * cols;
      T* yr = y + r * cols;
      const T n = static_cast<T>(cols);
      const T mean0 = cols > 0 ? sum<Arch>(cols, xr) / n : T(0);
      T sd, sq;
      detail::centered_moments<Arch>(cols, xr, mean0, sd, sq);
      const T mean = cols > 0 ? mean0 + sd / n : T(0);  // corrected mean
      T var = cols > 0 ? (sq - sd * sd / n) / n : T(0);
      if (!(var >= T(0)) && var == var) var = 0;  // rounding can leave a tiny negative
      const T rstd = T(1) / std::sqrt(var + eps);
      if (gamma && beta)
        detail::normalize_row<true, true, Arch>(cols, xr, mean, rstd, gamma, beta, yr);
      else if (gamma)
        detail::normalize_row<true, false, Arch>(cols, xr, mean, rstd, gamma, beta, yr);
      else if (beta)
        detail::normalize_row<false, true, Arch>(cols, xr, mean, rstd, gamma, beta, yr);
      else
        detail::normalize_row<false, false, Arch>(cols, xr, mean, rstd, gamma, beta, yr);
      if (mean_out) mean_out[r] = mean;
      if (rstd_out) rstd_out[r] = rstd;
    }
  });
}

}  // namespace fugue::cpu::kernels
