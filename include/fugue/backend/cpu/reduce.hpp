// fugue/backend/cpu/reduce.hpp — reductions over contiguous data.
//
// Contract: sum/max/dot reduce a contiguous array of n elements (sum of n == 0
// is 0, max of n == 0 is -inf). row_sum reduces the last axis of a row-major
// rows x cols block into y[rows]; col_sum reduces the first axis into y[cols]
// (accumulating in place when `accumulate` is true). Sums use several
// independent accumulators, so results may differ from a sequential loop in the
// last bits; tests allow for that. max of data containing NaN is unspecified.
//
// Accuracy: sum and dot are blocked. Each block of 128 SIMD registers' worth
// of elements (2048 floats with AVX-512) is summed in 4 register accumulators,
// so every lane adds at most 32 values; block results are combined in double
// with Neumaier compensation. The error is therefore bounded by about
// (32 + log2(4 * lanes) + 2) * eps * sum|x_i| whatever n is (a sequential loop's
// bound grows as n * eps). col_sum adds rows in blocks of 64 before adding the
// block into the running column sum, bounding its error by (64 + rows/64 + 2) eps
// per column. The scalar_arch fallback uses plain loops of the same structure.
//
// Threads: row_sum and col_sum split their work across cpu::num_threads()
// workers when rows * cols >= kernels::parallel_threshold (and run inline
// otherwise); results do not depend on the thread count.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "fugue/backend/cpu/arch.hpp"
#include "fugue/backend/cpu/threads.hpp"
#include "fugue/core/shape.hpp"

namespace fugue::cpu::kernels {

// Work (elements) from which the row-wise kernels go parallel when
// cpu::num_threads() > 1. A process-wide tuning knob; set it before kernels run.
inline index_t parallel_threshold = index_t{1} << 15;

namespace detail {

// Calls f(r0, r1) on contiguous row ranges covering [0, rows): one range inline,
// or min(num_threads, rows) ranges on the thread pool when the work is large.
template <class F>
void for_row_ranges(index_t rows, index_t cols, F&& f) {
  const int nt = num_threads();
  if (nt <= 1 || rows < 2 || rows * std::max<index_t>(cols, 1) < parallel_threshold) {
    f(index_t{0}, rows);
    return;
  }
  const int chunks = static_cast<int>(std::min<index_t>(nt, rows));
  parallel_for(chunks, [&](int i) { f(rows * i / chunks, rows * (i + 1) / chunks); });
}

template <class T, class Arch>
inline T hmax(const xsimd::batch<T, Arch>& v) {
  constexpr std::size_t W = xsimd::batch<T, Arch>::size;
  alignas(64) T buf[W];
  v.store_aligned(buf);
  T m = buf[0];
  for (std::size_t i = 1; i < W; ++i) m = buf[i] > m ? buf[i] : m;
  return m;
}

// Horizontal sum of a register: pairwise over its lanes. (Not xsimd::hadd: its
// AVX-512 form extracts with an "undefined" merge operand, which GCC 12 warns
// about and, with an early return next to it, was seen to miscompile at -O3.)
template <class T, class Arch>
inline T hsum(const xsimd::batch<T, Arch>& v) {
  constexpr std::size_t W = xsimd::batch<T, Arch>::size;
  alignas(64) T buf[W];
  v.store_aligned(buf);
  for (std::size_t h = W / 2; h > 0; h /= 2)
    for (std::size_t i = 0; i < h; ++i) buf[i] += buf[i + h];
  return buf[0];
}

// Loads p[0..n) (n < lanes) into a batch whose other lanes hold `pad`.
template <class T, class Arch>
inline xsimd::batch<T, Arch> load_partial(const T* p, index_t n, T pad) {
  constexpr std::size_t W = xsimd::batch<T, Arch>::size;
  alignas(64) T buf[W];
  for (std::size_t i = 0; i < W; ++i) buf[i] = pad;
  std::memcpy(buf, p, static_cast<std::size_t>(n) * sizeof(T));
  return xsimd::batch<T, Arch>::load_aligned(buf);
}

// Stores the first n lanes of v to p.
template <class T, class Arch>
inline void store_partial(T* p, index_t n, const xsimd::batch<T, Arch>& v) {
  constexpr std::size_t W = xsimd::batch<T, Arch>::size;
  alignas(64) T buf[W];
  v.store_aligned(buf);
  std::memcpy(p, buf, static_cast<std::size_t>(n) * sizeof(T));
}

// Elements per accuracy block of sum/dot: 128 registers' worth.
template <class T, class Arch>
inline constexpr index_t sum_block = 128 * static_cast<index_t>(lanes<T, Arch>);

// Sum of n <= sum_block elements, 4 accumulators.
template <class Arch, class T>
inline T block_sum(index_t n, const T* x) {
  index_t i = 0;
  T acc = 0;
  if constexpr (!is_scalar_arch<Arch>) {
    using V = xsimd::batch<T, Arch>;
    constexpr index_t W = V::size;
    if (n >= W) {
      V a0(T(0)), a1(T(0)), a2(T(0)), a3(T(0));
      for (; i + 4 * W <= n; i += 4 * W) {
        a0 += V::load_unaligned(x + i);
        a1 += V::load_unaligned(x + i + W);
        a2 += V::load_unaligned(x + i + 2 * W);
        a3 += V::load_unaligned(x + i + 3 * W);
      }
      for (; i + W <= n; i += W) a0 += V::load_unaligned(x + i);
      acc = hsum((a0 + a1) + (a2 + a3));
    }
  } else {
    T a0 = 0, a1 = 0, a2 = 0, a3 = 0;
    for (; i + 4 <= n; i += 4) {
      a0 += x[i];
      a1 += x[i + 1];
      a2 += x[i + 2];
      a3 += x[i + 3];
    }
    acc = (a0 + a1) + (a2 + a3);
  }
  for (; i < n; ++i) acc += x[i];
  return acc;
}

template <class Arch, class T>
inline T block_dot(index_t n, const T* a, const T* b) {
  index_t i = 0;
  T acc = 0;
  if constexpr (!is_scalar_arch<Arch>) {
    using V = xsimd::batch<T, Arch>;
    constexpr index_t W = V::size;
    if (n >= W) {
      V a0(T(0)), a1(T(0)), a2(T(0)), a3(T(0));
      for (; i + 4 * W <= n; i += 4 * W) {
        a0 = xsimd::fma(V::load_unaligned(a + i), V::load_unaligned(b + i), a0);
        a1 = xsimd::fma(V::load_unaligned(a + i + W), V::load_unaligned(b + i + W), a1);
        a2 = xsimd::fma(V::load_unaligned(a + i + 2 * W), V::load_unaligned(b + i + 2 * W), a2);
        a3 = xsimd::fma(V::load_unaligned(a + i + 3 * W), V::load_unaligned(b + i + 3 * W), a3);
      }
      for (; i + W <= n; i += W) a0 = xsimd::fma(V::load_unaligned(a + i), V::load_unaligned(b + i), a0);
      acc = hsum((a0 + a1) + (a2 + a3));
    }
  } else {
    T a0 = 0, a1 = 0, a2 = 0, a3 = 0;
    for (; i + 4 <= n; i += 4) {
      a0 += a[i] * b[i];
      a1 += a[i + 1] * b[i + 1];
      a2 += a[i + 2] * b[i + 2];
      a3 += a[i + 3] * b[i + 3];
    }
    acc = (a0 + a1) + (a2 + a3);
  }
  for (; i < n; ++i) acc += a[i] * b[i];
  return acc;
}

// Neumaier-compensated accumulation of block results in double.
struct compensated_sum {
  double s = 0, c = 0;
  void add(double v) {
    const double t = s + v;
    c += std::abs(s) >= std::abs(v) ? (s - t) + v : (v - t) + s;
    s = t;
  }
  double value() const { return s + c; }
};

}  // namespace detail

template <class Arch, class T>
T sum(index_t n, const T* x) {
  constexpr index_t block = detail::sum_block<T, Arch>;
  if (n <= block) return detail::block_sum<Arch>(n, x);
  detail::compensated_sum acc;
  for (index_t i = 0; i < n; i += block) acc.add(detail::block_sum<Arch>(std::min(block, n - i), x + i));
  return static_cast<T>(acc.value());
}

template <class Arch, class T>
T max(index_t n, const T* x) {
  T m = -std::numeric_limits<T>::infinity();
  index_t i = 0;
  if constexpr (!is_scalar_arch<Arch>) {
    using V = xsimd::batch<T, Arch>;
    constexpr index_t W = V::size;
    if (n >= W) {
      V m0(m), m1(m), m2(m), m3(m);
      for (; i + 4 * W <= n; i += 4 * W) {
        m0 = xsimd::max(m0, V::load_unaligned(x + i));
        m1 = xsimd::max(m1, V::load_unaligned(x + i + W));
        m2 = xsimd::max(m2, V::load_unaligned(x + i + 2 * W));
        m3 = xsimd::max(m3, V::load_unaligned(x + i + 3 * W));
      }
      for (; i + W <= n; i += W) m0 = xsimd::max(m0, V::load_unaligned(x + i));
      m = detail::hmax(xsimd::max(xsimd::max(m0, m1), xsimd::max(m2, m3)));
    }
  } else {
    T m0 = m, m1 = m;
    for (; i + 2 <= n; i += 2) {
      m0 = x[i] > m0 ? x[i] : m0;
      m1 = x[i + 1] > m1 ? x[i + 1] : m1;
    }
    m = m1 > m0 ? m1 : m0;
  }
  for (; i < n; ++i) m = x[i] > m ? x[i] : m;
  return m;
}

template <class Arch, class T>
T dot(index_t n, const T* a, const T* b) {
  constexpr index_t block = detail::sum_block<T, Arch>;
  if (n <= block) return detail::block_dot<Arch>(n, a, b);
  detail::compensated_sum acc;
  for (index_t i = 0; i < n; i += block) acc.add(detail::block_dot<Arch>(std::min(block, n - i), a + i, b + i));
  return static_cast<T>(acc.value());
}

template <class Arch, class T>
void row_sum(index_t rows, index_t cols, const T* x, T* y) {
  detail::for_row_ranges(rows, cols, [&](index_t r0, index_t r1) {
    for (index_t r = r0; r < r1; ++r) y[r] = sum<Arch>(cols, x + r * cols);
  });
}

namespace detail {

inline constexpr index_t col_sum_row_block = 64;

// Column sums of columns [c0, c1) of a row-major rows x cols block.
template <class Arch, class T>
void col_sum_range(index_t rows, index_t cols, const T* x, T* y, bool accumulate, index_t c0, index_t c1) {
  constexpr index_t RB = col_sum_row_block;
  index_t c = c0;
  if constexpr (!is_scalar_arch<Arch>) {
    using V = xsimd::batch<T, Arch>;
    constexpr index_t W = V::size;
    const V zero(T(0));
    for (; c + 4 * W <= c1; c += 4 * W) {
      V o0 = accumulate ? V::load_unaligned(y + c) : zero;
      V o1 = accumulate ? V::load_unaligned(y + c + W) : zero;
      V o2 = accumulate ? V::load_unaligned(y + c + 2 * W) : zero;
      V o3 = accumulate ? V::load_unaligned(y + c + 3 * W) : zero;
      for (index_t r0 = 0; r0 < rows; r0 += RB) {
        const index_t r1 = std::min(rows, r0 + RB);
        V a0 = zero, a1 = zero, a2 = zero, a3 = zero;
        for (index_t r = r0; r < r1; ++r) {
          const T* p = x + r * cols + c;
          a0 += V::load_unaligned(p);
          a1 += V::load_unaligned(p + W);
          a2 += V::load_unaligned(p + 2 * W);
          a3 += V::load_unaligned(p + 3 * W);
        }
        o0 += a0;
        o1 += a1;
        o2 += a2;
        o3 += a3;
      }
      o0.store_unaligned(y + c);
      o1.store_unaligned(y + c + W);
      o2.store_unaligned(y + c + 2 * W);
      o3.store_unaligned(y + c + 3 * W);
    }
    for (; c + W <= c1; c += W) {
      V o0 = accumulate ? V::load_unaligned(y + c) : zero;
      for (index_t r0 = 0; r0 < rows; r0 += RB) {
        const index_t r1 = std::min(rows, r0 + RB);
        V a0 = zero, a1 = zero;
        index_t r = r0;
        for (; r + 2 <= r1; r += 2) {
          a0 += V::load_unaligned(x + r * cols + c);
          a1 += V::load_unaligned(x + (r + 1) * cols + c);
        }
        if (r < r1) a0 += V::load_unaligned(x + r * cols + c);
        o0 += a0 + a1;
      }
      o0.store_unaligned(y + c);
    }
    // Remaining columns (fewer than a register's lanes): one row at a time.
    if (c < c1) {
      const index_t w = c1 - c;
      for (index_t j = 0; j < w; ++j)
        if (!accumulate) y[c + j] = 0;
      T part[W];
      for (index_t r0 = 0; r0 < rows; r0 += RB) {
        const index_t r1 = std::min(rows, r0 + RB);
        for (index_t j = 0; j < w; ++j) part[j] = 0;
        for (index_t r = r0; r < r1; ++r)
          for (index_t j = 0; j < w; ++j) part[j] += x[r * cols + c + j];
        for (index_t j = 0; j < w; ++j) y[c + j] += part[j];
      }
    }
  } else {
    // Plain loops: rows outer (contiguous), blocks of RB rows summed into a
    // small stack buffer per strip of columns.
    constexpr index_t CS = 256;
    T part[CS];
    for (; c < c1; c += CS) {
      const index_t w = std::min(CS, c1 - c);
      if (!accumulate)
        for (index_t j = 0; j < w; ++j) y[c + j] = 0;
      for (index_t r0 = 0; r0 < rows; r0 += RB) {
        const index_t r1 = std::min(rows, r0 + RB);
        for (index_t j = 0; j < w; ++j) part[j] = 0;
        for (index_t r = r0; r < r1; ++r) {
          const T* p = x + r * cols + c;
          for (index_t j = 0; j < w; ++j) part[j] += p[j];
        }
        for (index_t j = 0; j < w; ++j) y[c + j] += part[j];
      }
    }
  }
}

}  // namespace detail

template <class Arch, class T>
void col_sum(index_t rows, index_t cols, const T* x, T* y, bool accumulate = false) {
  if (cols <= 0) return;
  constexpr index_t W = static_cast<index_t>(lanes<T, Arch>) * 4;
  const int nt = num_threads();
  const index_t strips = (cols + W - 1) / W;  // column strips of 4 registers
  if (nt <= 1 || strips < 2 || rows * cols < parallel_threshold) {
    detail::col_sum_range<Arch>(rows, cols, x, y, accumulate, 0, cols);
    return;
  }
  const int chunks = static_cast<int>(std::min<index_t>(nt, strips));
  parallel_for(chunks, [&](int i) {
    const index_t c0 = strips * i / chunks * W;
    const index_t c1 = std::min(cols, strips * (i + 1) / chunks * W);
    detail::col_sum_range<Arch>(rows, cols, x, y, accumulate, c0, c1);
  });
}

}  // namespace fugue::cpu::kernels
