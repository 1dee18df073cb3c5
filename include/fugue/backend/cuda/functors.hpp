// fugue/backend/cuda/functors.hpp — the per-element and per-row functors the Thrust
// algorithms of the CUDA backend run.
//
// Contract: every functor here is a plain struct of pointers and sizes, callable on the
// host and on the device (FUGUE_HOST_DEVICE), with no allocation and no exceptions. They
// are the whole of the backend's device logic apart from cuBLAS / cuFFT, and the Thrust
// host build runs exactly these on the CPU. Semantics match the CPU kernels of the same
// name (fugue/backend/cpu/*.hpp):
//  * zip3_at: y[i] = f(a[i], b[i], c[i]).
//  * row_sum_at / col_sum_at: sums over the last / first axis of a row-major block,
//    accumulated in double; col_sum optionally adds into y.
//  * softmax_row: stable softmax or log-softmax of one row (a row of all -inf gives NaN).
//  * layer_norm_row: biased variance, rstd = 1 / sqrt(var + eps), two passes in double;
//    gamma / beta / mean_out / rstd_out may be null.
//  * strided_copy_at: dst[offset_d(i)] = src[offset_s(i)] for the i-th row-major index.
//  * uniform_at / normal_at: element i of a Philox stream (core/rng.hpp), so device-side
//    random tensors are the CPU backend's, element for element.
//  * scale_block_at / zero_edge_imag_at: GEMM's beta-only case; irfft's ignored imaginary parts.
// One thread handles one row in the row functors: correct and simple, not yet fast on a GPU.
#pragma once

#include <cmath>
#include <cstdint>

#include "fugue/backend/cuda/config.hpp"
#include "fugue/core/rng.hpp"
#include "fugue/core/shape.hpp"

namespace fugue::cuda::kernels {

template <class T, class F>
struct zip3_at {
  const T* a;
  const T* b;
  const T* c;
  T* y;
  F f;
  FUGUE_HD_TEMPLATE FUGUE_HOST_DEVICE void operator()(index_t i) const { y[i] = f(a[i], b[i], c[i]); }
};

template <class T>
struct widen {
  FUGUE_HOST_DEVICE double operator()(T v) const { return double(v); }
};
template <class T>
struct widened_product {
  FUGUE_HOST_DEVICE double operator()(T a, T b) const { return double(a) * double(b); }
};
struct plus_double {
  FUGUE_HOST_DEVICE double operator()(double a, double b) const { return a + b; }
};
// max that keeps the running value on NaN (the CPU kernel leaves NaN unspecified too).
template <class T>
struct maximum {
  FUGUE_HOST_DEVICE T operator()(T a, T b) const { return a < b ? b : a; }
};

template <class T>
struct row_sum_at {
  const T* x;
  T* y;
  index_t cols;
  FUGUE_HOST_DEVICE void operator()(index_t r) const {
    const T* row = x + r * cols;
    double s = 0;
    for (index_t c = 0; c < cols; ++c) s += double(row[c]);
    y[r] = T(s);
  }
};

template <class T>
struct col_sum_at {
  const T* x;
  T* y;
  index_t rows, cols;
  bool accumulate;
  FUGUE_HOST_DEVICE void operator()(index_t c) const {
    double s = 0;
    for (index_t r = 0; r < rows; ++r) s += double(x[r * cols + c]);
    y[c] = accumulate ? T(double(y[c]) + s) : T(s);
  }
};

template <class T>
struct softmax_row {
  const T* x;
  T* y;
  index_t cols;
  bool log_output;
  FUGUE_HOST_DEVICE void operator()(index_t r) const {
    const T* xr = x + r * cols;
    T* yr = y + r * cols;
    T m = T(-INFINITY);
    for (index_t c = 0; c < cols; ++c) m = xr[c] > m ? xr[c] : m;
    double s = 0;
    if (log_output) {
      for (index_t c = 0; c < cols; ++c) s += double(std::exp(xr[c] - m));
      const T log_s = T(std::log(s));
      for (index_t c = 0; c < cols; ++c) yr[c] = (xr[c] - m) - log_s;
    } else {
      for (index_t c = 0; c < cols; ++c) {
        const T e = std::exp(xr[c] - m);
        yr[c] = e;
        s += double(e);
      }
      const T inv = T(1.0 / s);
      for (index_t c = 0; c < cols; ++c) yr[c] *= inv;
    }
  }
};

template <class T>
struct layer_norm_row {
  const T* x;
  const T* gamma;
  const T* beta;
  T eps;
  T* y;
  T* mean_out;
  T* rstd_out;
  index_t cols;
  FUGUE_HOST_DEVICE void operator()(index_t r) const {
    const T* xr = x + r * cols;
    T* yr = y + r * cols;
    double s = 0;
    for (index_t c = 0; c < cols; ++c) s += double(xr[c]);
    const double mean = cols ? s / double(cols) : 0.0;
    double sq = 0;
    for (index_t c = 0; c < cols; ++c) {
      const double d = double(xr[c]) - mean;
      sq += d * d;
    }
    const double var = cols ? sq / double(cols) : 0.0;
    const T rstd = T(1.0 / std::sqrt(var + double(eps)));
    const T m = T(mean);
    for (index_t c = 0; c < cols; ++c) {
      T v = (xr[c] - m) * rstd;
      if (gamma) v *= gamma[c];
      if (beta) v += beta[c];
      yr[c] = v;
    }
    if (mean_out) mean_out[r] = m;
    if (rstd_out) rstd_out[r] = rstd;
  }
};

template <class T>
struct strided_copy_at {
  T* dst;
  const T* src;
  index_t extent[max_rank];
  index_t dst_stride[max_rank];
  index_t src_stride[max_rank];
  int rank;
  FUGUE_HOST_DEVICE void operator()(index_t i) const {
    index_t od = 0, os = 0;
    for (int d = rank - 1; d >= 0; --d) {
      const index_t k = i % extent[d];
      i /= extent[d];
      od += k * dst_stride[d];
      os += k * src_stride[d];
    }
    dst[od] = src[os];
  }
};

// std::fma, as in Tensor::uniform / normal: one rounding whatever the compiler contracts.
template <class T>
struct uniform_at {
  Philox rng;
  T lo, hi;
  FUGUE_HOST_DEVICE T operator()(std::uint64_t i) const { return std::fma(hi - lo, rng.template uniform<T>(i), lo); }
};
template <class T>
struct normal_at {
  Philox rng;
  T mean, stddev;
  FUGUE_HOST_DEVICE T operator()(std::uint64_t i) const { return std::fma(stddev, rng.template normal<T>(i), mean); }
};

// C = beta * C over a rows x cols block with leading dimension ld (beta == 0 writes zeros,
// ignoring NaNs in C): what GEMM / GEMV mean when the inner dimension or alpha is zero.
template <class T>
struct scale_block_at {
  T* c;
  index_t ld, cols;
  T beta;
  FUGUE_HOST_DEVICE void operator()(index_t i) const {
    T& v = c[(i / cols) * ld + i % cols];
    v = beta == T(0) ? T(0) : beta * v;
  }
};

// Zeroes Im X_0 and, for even n, Im X_{n/2} of each row of interleaved bins, so that the
// inverse FFT ignores them as numpy (and the CPU backend) do.
template <class T>
struct zero_edge_imag_at {
  T* bins_interleaved;
  index_t bins, n;
  FUGUE_HOST_DEVICE void operator()(index_t row) const {
    T* r = bins_interleaved + 2 * row * bins;
    r[1] = T(0);
    if (n % 2 == 0) r[2 * (n / 2) + 1] = T(0);
  }
};

}  // namespace fugue::cuda::kernels
