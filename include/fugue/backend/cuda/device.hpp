// fugue/backend/cuda/device.hpp — basic_device<System>: the CUDA backend over a Thrust system.
//
// Contract: basic_device<System> satisfies fugue::Backend with the same kernel set as
// cpu::simd (fugue/backend/cpu/simd.hpp states each kernel's contract), plus
// strided_copy (tensor copies between views), fill_uniform / fill_normal (Philox, element
// i equal to the CPU stream's element i) and batched real FFTs (rfft: rows of n reals to
// rows of n/2+1 bins, irfft_unnormalized: the inverse without 1/n, numpy's conventions).
//  * host_accessible is false for every System, also the Thrust host ones: tensors go
//    through copy_to_host / copy_from_host / strided_copy, never through pointers.
//  * Memory comes from caching_allocator<System::raw_memory>; steady loops stop allocating.
//  * map / zip / zip3 take a functor that must be callable with T on the system's side
//    (a FUGUE_HOST_DEVICE functor on the GPU, such as fugue::fn's; any callable on the host
//    systems); generate(n, y, f) writes y[i] = f(i) the same way (index-computed gathers:
//    the convolution's im2col / col2im); for_each(n, f) calls f(i), for functors with several
//    outputs per index (the recurrent gate kernels).
//  * Reductions accumulate in double. softmax / layer norm run one row per thread.
//  * GEMM / GEMV / FFT go to System (cuBLAS / cuFFT on the GPU, CPU kernels on the host).
// System = gpu_system (nvcc; alias cuda::device), thrust_cpp_system, thrust_omp_system.
#pragma once

#include <complex>
#include <cstdint>
#include <string_view>

#include <thrust/fill.h>
#include <thrust/inner_product.h>
#include <thrust/reduce.h>
#include <thrust/transform.h>
#include <thrust/transform_reduce.h>

#include "fugue/backend/concept.hpp"
#include "fugue/backend/cuda/caching_allocator.hpp"
#include "fugue/backend/cuda/config.hpp"
#include "fugue/backend/cuda/functors.hpp"
#include "fugue/backend/cuda/index_loops.hpp"
#include "fugue/core/error.hpp"
#include "fugue/core/rng.hpp"
#include "fugue/core/shape.hpp"

namespace fugue::cuda {

template <class System>
struct basic_device {
  using system = System;
  static constexpr bool host_accessible = false;
  static constexpr bool real_device = System::real_device;
  static constexpr std::size_t alignment = 256;  // cudaMalloc's guarantee; the host systems give 64+

  static std::string_view name() { return System::name(); }
  static caching_allocator<typename System::raw_memory>& allocator() {
    return caching_allocator<typename System::raw_memory>::instance();
  }

  // --- memory ---------------------------------------------------------------
  static void* allocate(std::size_t bytes) { return allocator().allocate(bytes); }
  static void deallocate(void* p, std::size_t bytes) noexcept { allocator().deallocate(p, bytes); }
  static void copy(void* dst, const void* src, std::size_t bytes) { System::copy(dst, src, bytes); }
  static void copy_to_host(void* dst, const void* src, std::size_t bytes) { System::copy_to_host(dst, src, bytes); }
  static void copy_from_host(void* dst, const void* src, std::size_t bytes) { System::copy_from_host(dst, src, bytes); }
  static void synchronize() { System::synchronize(); }

  template <class T>
  static void strided_copy(const Shape& shape, T* dst, const Strides& dst_strides, const T* src,
                           const Strides& src_strides) {
    const index_t n = shape.numel();
    if (n == 0) return;
    kernels::strided_copy_at<T> f{dst, src, {}, {}, {}, shape.rank()};
    for (int d = 0; d < shape.rank(); ++d) {
      f.extent[d] = shape[d];
      f.dst_stride[d] = dst_strides[d];
      f.src_stride[d] = src_strides[d];
    }
    for_each_index(System::policy(), n, f);
  }

  // --- dense linear algebra -------------------------------------------------
  template <class T>
  static void gemm(bool ta, bool tb, index_t M, index_t N, index_t K, T alpha, const T* A, index_t lda, const T* B,
                   index_t ldb, T beta, T* C, index_t ldc) {
    System::gemm(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
  }
  template <class T>
  static void gemm_batched(bool ta, bool tb, index_t M, index_t N, index_t K, T alpha, const T* A, index_t lda,
                           index_t sa, const T* B, index_t ldb, index_t sb, T beta, T* C, index_t ldc, index_t sc,
                           index_t batch) {
    System::gemm_batched(ta, tb, M, N, K, alpha, A, lda, sa, B, ldb, sb, beta, C, ldc, sc, batch);
  }
  template <class T>
  static void gemv(bool trans, index_t M, index_t N, T alpha, const T* A, index_t lda, const T* x, T beta, T* y) {
    System::gemv(trans, M, N, alpha, A, lda, x, beta, y);
  }

  // --- FFT ------------------------------------------------------------------
  template <class T>
  static void rfft(index_t n, index_t batch, const T* x, std::complex<T>* X) {
    FUGUE_CHECK(n >= 1 && batch >= 0, "rfft of ", batch, " rows of length ", n, " on ", name());
    System::rfft(n, batch, x, X);
  }
  template <class T>
  static void irfft_unnormalized(index_t n, index_t batch, const std::complex<T>* X, T* x) {
    FUGUE_CHECK(n >= 1 && batch >= 0, "irfft of ", batch, " rows of length ", n, " on ", name());
    System::irfft_unnormalized(n, batch, X, x);
  }

  // --- elementwise ----------------------------------------------------------
  template <class T, class F>
  static void map(index_t n, const T* x, T* y, F f) {
    if (n > 0) thrust::transform(System::policy(), x, x + n, y, f);
  }
  template <class T, class F>
  static void zip(index_t n, const T* a, const T* b, T* y, F f) {
    if (n > 0) thrust::transform(System::policy(), a, a + n, b, y, f);
  }
  template <class T, class F>
  static void zip3(index_t n, const T* a, const T* b, const T* c, T* y, F f) {
    for_each_index(System::policy(), n, kernels::zip3_at<T, F>{a, b, c, y, f});
  }
  // y[i] = f(i) for i in [0, n), f a portable functor of the std::uint64_t index; it may read
  // y[i] (an in-place update) but no other element of y.
  template <class T, class F>
  static void generate(index_t n, T* y, F f) {
    generate_indexed(System::policy(), n, y, f);
  }
  // f(i) for i in [0, n), f a portable functor of the index that writes only outputs it owns
  // (no two indices write the same element): kernels with several outputs per index, such as
  // the LSTM / GRU gate functors of nn/detail/recurrent_device.hpp.
  template <class F>
  static void for_each(index_t n, F f) {
    for_each_index(System::policy(), n, f);
  }
  template <class T>
  static void fill(index_t n, T value, T* y) {
    if (n > 0) thrust::fill_n(System::policy(), y, n, value);
  }
  template <class T>
  static void fill_uniform(index_t n, Philox rng, T lo, T hi, T* y) {
    generate_indexed(System::policy(), n, y, kernels::uniform_at<T>{rng, lo, hi});
  }
  template <class T>
  static void fill_normal(index_t n, Philox rng, T mean, T stddev, T* y) {
    generate_indexed(System::policy(), n, y, kernels::normal_at<T>{rng, mean, stddev});
  }

  // --- reductions and row-wise ops ------------------------------------------
  template <class T>
  static T sum(index_t n, const T* x) {
    if (n <= 0) return T(0);
    return T(thrust::transform_reduce(System::policy(), x, x + n, kernels::widen<T>{}, 0.0, kernels::plus_double{}));
  }
  template <class T>
  static T max(index_t n, const T* x) {
    if (n <= 0) return T(-INFINITY);
    return thrust::reduce(System::policy(), x, x + n, T(-INFINITY), kernels::maximum<T>{});
  }
  template <class T>
  static T dot(index_t n, const T* a, const T* b) {
    if (n <= 0) return T(0);
    return T(thrust::inner_product(System::policy(), a, a + n, b, 0.0, kernels::plus_double{},
                                   kernels::widened_product<T>{}));
  }
  template <class T>
  static void row_sum(index_t rows, index_t cols, const T* x, T* y) {
    for_each_index(System::policy(), rows, kernels::row_sum_at<T>{x, y, cols});
  }
  template <class T>
  static void col_sum(index_t rows, index_t cols, const T* x, T* y, bool accumulate = false) {
    for_each_index(System::policy(), cols, kernels::col_sum_at<T>{x, y, rows, cols, accumulate});
  }
  template <class T>
  static void softmax_rows(index_t rows, index_t cols, const T* x, T* y) {
    for_each_index(System::policy(), rows, kernels::softmax_row<T>{x, y, cols, false});
  }
  template <class T>
  static void log_softmax_rows(index_t rows, index_t cols, const T* x, T* y) {
    for_each_index(System::policy(), rows, kernels::softmax_row<T>{x, y, cols, true});
  }
  template <class T>
  static void layer_norm_rows(index_t rows, index_t cols, const T* x, const T* gamma, const T* beta, T eps, T* y,
                              T* mean, T* rstd) {
    for_each_index(System::policy(), rows, kernels::layer_norm_row<T>{x, gamma, beta, eps, y, mean, rstd, cols});
  }
};

}  // namespace fugue::cuda
