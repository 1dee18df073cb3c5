// fugue/backend/cpu/softmax.hpp — row-wise softmax and log-softmax.
//
// Contract: for each of `rows` rows of `cols` contiguous elements, y = softmax(x)
// (or log_softmax(x)), computed stably by subtracting the row maximum. y may
// alias x. A row of all -inf gives NaN (as in PyTorch); -inf entries of other
// rows give 0 (log_softmax: -inf).
//
// Implementation: three passes over each row, which stays in L1 for the row
// sizes models use: (1) the row maximum m; (2) e = exp(x - m), stored into y
// for softmax, and its sum s; (3) y = e * (1/s), or y = (x - m) - log s. The
// vector tail is computed in one padded register, so short rows are SIMD too.
// Rows are spread over cpu::num_threads() workers when rows * cols >=
// kernels::parallel_threshold.
#pragma once

#include <cmath>
#include <limits>

#include "fugue/core/functors.hpp"
#include "fugue/backend/cpu/reduce.hpp"

namespace fugue::cpu::kernels {

namespace detail {

// Pass 2 of softmax: writes e = exp(x - m) to y when Store, returns sum(e).
template <bool Store, class Arch, class T>
T exp_shift_sum(index_t n, const T* x, T m, T* y) {
  index_t i = 0;
  T s = 0;
  if constexpr (!is_scalar_arch<Arch>) {
    using V = xsimd::batch<T, Arch>;
    constexpr index_t W = V::size;
    const V vm(m);
    V s0(T(0)), s1(T(0));
    for (; i + 2 * W <= n; i += 2 * W) {
      const V e0 = xsimd::exp(V::load_unaligned(x + i) - vm);
      const V e1 = xsimd::exp(V::load_unaligned(x + i + W) - vm);
      if constexpr (Store) {
        e0.store_unaligned(y + i);
        e1.store_unaligned(y + i + W);
      }
      s0 += e0;
      s1 += e1;
    }
    for (; i + W <= n; i += W) {
      const V e0 = xsimd::exp(V::load_unaligned(x + i) - vm);
      if constexpr (Store) e0.store_unaligned(y + i);
      s0 += e0;
    }
    if (i < n) {
      // Pad with -inf: exp(-inf - m) = 0 adds nothing.
      const V e0 = xsimd::exp(load_partial<T, Arch>(x + i, n - i, -std::numeric_limits<T>::infinity()) - vm);
      if constexpr (Store) store_partial<T, Arch>(y + i, n - i, e0);
      s0 += e0;  // padding lanes are NaN only when m = -inf, and then the row is NaN anyway
      i = n;
    }
    s = detail::hsum(s0 + s1);
  } else {
    T s0 = 0, s1 = 0;
    for (; i + 2 <= n; i += 2) {
      const T e0 = std::exp(x[i] - m), e1 = std::exp(x[i + 1] - m);
      if constexpr (Store) {
        y[i] = e0;
        y[i + 1] = e1;
      }
      s0 += e0;
      s1 += e1;
    }
    s = s0 + s1;
  }
  for (; i < n; ++i) {
    const T e = std::exp(x[i] - m);
    if constexpr (Store) y[i] = e;
    s += e;
  }
  return s;
}

template <class Arch, class T>
void scale_inplace(index_t n, T a, T* y) {
  index_t i = 0;
  if constexpr (!is_scalar_arch<Arch>) {
    using V = xsimd::batch<T, Arch>;
    constexpr index_t W = V::size;
    const V va(a);
    for (; i + 2 * W <= n; i += 2 * W) {
      (V::load_unaligned(y + i) * va).store_unaligned(y + i);
      (V::load_unaligned(y + i + W) * va).store_unaligned(y + i + W);
    }
    for (; i + W <= n; i += W) (V::load_unaligned(y + i) * va).store_unaligned(y + i);
  }
  for (; i < n; ++i) y[i] *= a;
}

// y = (x - m) - ls
template <class Arch, class T>
void shift2(index_t n, const T* x, T m, T ls, T* y) {
  index_t i = 0;
  if constexpr (!is_scalar_arch<Arch>) {
    using V = xsimd::batch<T, Arch>;
    constexpr index_t W = V::size;
    const V vm(m), vl(ls);
    for (; i + 2 * W <= n; i += 2 * W) {
      ((V::load_unaligned(x + i) - vm) - vl).store_unaligned(y + i);
      ((V::load_unaligned(x + i + W) - vm) - vl).store_unaligned(y + i + W);
    }
    for (; i + W <= n; i += W) ((V::load_unaligned(x + i) - vm) - vl).store_unaligned(y + i);
  }
  for (; i < n; ++i) y[i] = (x[i] - m) - ls;
}

}  // namespace detail

template <class Arch, class T>
void softmax_rows(index_t rows, index_t cols, const T* x, T* y) {
  if (cols <= 0) return;
  detail::for_row_ranges(rows, cols, [&](index_t r0, index_t r1) {
    for (index_t r = r0; r < r1; ++r) {
      const T* xr = x + r * cols;
      T* yr = y + r * cols;
      const T m = max<Arch>(cols, xr);
      const T s = detail::exp_shift_sum<true, Arch>(cols, xr, m, yr);
      detail::scale_inplace<Arch>(cols, T(1) / s, yr);
    }
  });
}

template <class Arch, class T>
void log_softmax_rows(index_t rows, index_t cols, const T* x, T* y) {
  if (cols <= 0) return;
  detail::for_row_ranges(rows, cols, [&](index_t r0, index_t r1) {
    for (index_t r = r0; r < r1; ++r) {
      const T* xr = x + r * cols;
      T* yr = y + r * cols;
      const T m = max<Arch>(cols, xr);
      const T s = detail::exp_shift_sum<false, Arch>(cols, xr, m, static_cast<T*>(nullptr));
      detail::shift2<Arch>(cols, xr, m, std::log(s), yr);
    }
  });
}

}  // namespace fugue::cpu::kernels
