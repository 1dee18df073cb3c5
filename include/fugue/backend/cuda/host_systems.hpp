// fugue/backend/cuda/host_systems.hpp — the Thrust host systems the CUDA backend runs on
// when there is no GPU.
//
// Contract: thrust_cpp_system (sequential, thrust::cpp::par) and thrust_omp_system
// (thrust::omp::par, only when compiled with OpenMP) give basic_device (device.hpp) host
// memory (64-byte aligned, through the same caching allocator the GPU uses), memcpy
// copies, and stand-ins for the two vendor libraries: GEMM / GEMV by fugue's CPU kernels
// where the GPU calls cuBLAS, real FFTs by fugue's FFTW wrapper where it calls cuFFT.
// Everything else (elementwise, reductions, row ops, strided copies, random fills) is the
// backend's own Thrust code, identical in both builds. These systems exist to prove that
// code on the CPU; they are not meant to be fast.
#pragma once

#include <complex>
#include <cstring>
#include <new>
#include <span>

#include <thrust/system/cpp/execution_policy.h>
#if defined(_OPENMP)
#include <thrust/system/omp/execution_policy.h>
#endif

#include "fugue/backend/cpu/arch.hpp"
#include "fugue/backend/cpu/fft.hpp"
#include "fugue/backend/cpu/gemm.hpp"
#include "fugue/backend/cpu/gemv.hpp"
#include "fugue/core/shape.hpp"

namespace fugue::cuda {

struct host_raw_memory {
  static void* allocate(std::size_t bytes) { return ::operator new(bytes, std::align_val_t{64}); }
  static void release(void* p) noexcept { ::operator delete(p, std::align_val_t{64}); }
};

// What both host systems share: host memory and the CPU stand-ins for cuBLAS and cuFFT.
struct host_system_base {
  using raw_memory = host_raw_memory;
  static constexpr bool real_device = false;

  static void copy(void* dst, const void* src, std::size_t bytes) {
    if (bytes) std::memcpy(dst, src, bytes);
  }
  static void copy_to_host(void* dst, const void* src, std::size_t bytes) { copy(dst, src, bytes); }
  static void copy_from_host(void* dst, const void* src, std::size_t bytes) { copy(dst, src, bytes); }
  static void synchronize() {}

  template <class T>
  static void gemm(bool ta, bool tb, index_t M, index_t N, index_t K, T alpha, const T* A, index_t lda, const T* B,
                   index_t ldb, T beta, T* C, index_t ldc) {
    cpu::kernels::gemm<cpu::best_arch>(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
  }
  template <class T>
  static void gemm_batched(bool ta, bool tb, index_t M, index_t N, index_t K, T alpha, const T* A, index_t lda,
                           index_t sa, const T* B, index_t ldb, index_t sb, T beta, T* C, index_t ldc, index_t sc,
                           index_t batch) {
    cpu::kernels::gemm_batched<cpu::best_arch>(ta, tb, M, N, K, alpha, A, lda, sa, B, ldb, sb, beta, C, ldc, sc, batch);
  }
  template <class T>
  static void gemv(bool trans, index_t M, index_t N, T alpha, const T* A, index_t lda, const T* x, T beta, T* y) {
    cpu::kernels::gemv<cpu::best_arch>(trans, M, N, alpha, A, lda, x, beta, y);
  }
  template <class T>
  static void rfft(index_t n, index_t batch, const T* x, std::complex<T>* X) {
    const cpu::RealFFT<T> f{std::size_t(n)};
    const std::size_t bins = f.bins();
    for (index_t b = 0; b < batch; ++b)
      f.forward(std::span<const T>(x + b * n, std::size_t(n)), std::span<std::complex<T>>(X + b * index_t(bins), bins));
  }
  template <class T>
  static void irfft_unnormalized(index_t n, index_t batch, const std::complex<T>* X, T* x) {
    const cpu::RealFFT<T> f{std::size_t(n)};
    const std::size_t bins = f.bins();
    for (index_t b = 0; b < batch; ++b)
      f.inverse_unnormalized(std::span<const std::complex<T>>(X + b * index_t(bins), bins),
                             std::span<T>(x + b * n, std::size_t(n)));
  }
};

struct thrust_cpp_system : host_system_base {
  static constexpr const char* name() { return "cuda::thrust_cpp"; }
  static auto policy() { return thrust::cpp::par; }
};

#if defined(_OPENMP)
struct thrust_omp_system : host_system_base {
  static constexpr const char* name() { return "cuda::thrust_omp"; }
  static auto policy() { return thrust::omp::par; }
};
#endif

}  // namespace fugue::cuda
