// fugue/backend/cuda/gpu_system.hpp — the real GPU system behind fugue::cuda::device (nvcc only).
//
// Contract: one process-wide context, created on first use, holds a non-blocking CUDA
// stream, a cuBLAS handle bound to it and a cache of cuFFT plans (keyed by length, batch
// and precision; plans live for the program). Every Thrust algorithm, copy, GEMM and FFT is
// issued on that stream, so they run in order; copies to the host synchronise the stream,
// copies from the host are complete when they return (the host buffer may be reused).
// Memory is plain cudaMalloc (never managed memory) behind caching_allocator. Row-major
// GEMM / GEMV are mapped onto column-major cuBLAS by computing C^T = op(B)^T op(A)^T.
// cuBLAS and cuFFT calls are serialised by a mutex (one handle, one stream); the device
// current at first use is the one used for the program. GEMM / GEMV with a zero inner
// dimension or alpha == 0 scale C by beta themselves (cuBLAS does not promise to); sizes
// beyond int throw. Thrust's temporary storage comes from the caching allocator; the cuFFT
// plan cache holds at most 64 plans. Every status is checked: a failure throws fugue::error
// naming the call (status.hpp). Thrust's own failures surface as thrust::system_error, and,
// the stream being asynchronous, a kernel fault may be reported by a later call.
#pragma once

#include "fugue/backend/cuda/config.hpp"

#if FUGUE_CUDA_RUNTIME
#include <algorithm>
#include <climits>
#include <complex>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <tuple>

#include <thrust/system/cuda/execution_policy.h>

#include "fugue/backend/cuda/caching_allocator.hpp"
#include "fugue/backend/cuda/functors.hpp"
#include "fugue/backend/cuda/index_loops.hpp"
#include "fugue/backend/cuda/status.hpp"
#include "fugue/core/shape.hpp"

namespace fugue::cuda {

struct gpu_raw_memory {
  static void* allocate(std::size_t bytes) {
    void* p = nullptr;
    const cudaError_t e = cudaMalloc(&p, bytes);
    if (e != cudaSuccess) {
      (void)cudaGetLastError();  // an out-of-memory must not resurface at the next launch after the retry
      check_cuda(e, "cudaMalloc(&p, bytes)");
    }
    return p;
  }
  static void release(void* p) noexcept { (void)cudaFree(p); }
};

class gpu_context {
 public:
  static gpu_context& get() {
    static gpu_context* c = new gpu_context;  // never destroyed: see caching_allocator::instance
    return *c;
  }
  cudaStream_t stream() const noexcept { return stream_; }
  cublasHandle_t blas() const noexcept { return blas_; }
  std::mutex& library_mutex() noexcept { return mutex_; }

  // A cached plan for `batch` transforms of length n (caller holds library_mutex()). Each plan
  // owns a cuFFT work area, so the cache is bounded: past max_plans it is emptied first.
  static constexpr std::size_t max_plans = 64;
  cufftHandle fft_plan(int n, int batch, cufftType type) {
    const auto key = std::make_tuple(n, batch, int(type));
    if (auto it = plans_.find(key); it != plans_.end()) return it->second;
    if (plans_.size() >= max_plans) {
      FUGUE_CUDA_CALL(cudaStreamSynchronize(stream_));  // no transform may still use a plan
      for (auto& [k, p] : plans_) (void)cufftDestroy(p);
      plans_.clear();
    }
    cufftHandle plan{};
    int len = n, real_len = n, complex_len = n / 2 + 1;
    const bool forward = type == CUFFT_R2C || type == CUFFT_D2Z;
    int* in_embed = forward ? &real_len : &complex_len;
    int* out_embed = forward ? &complex_len : &real_len;
    FUGUE_CUFFT_CALL(cufftPlanMany(&plan, 1, &len, in_embed, 1, *in_embed, out_embed, 1, *out_embed, type, batch));
    try {
      FUGUE_CUFFT_CALL(cufftSetStream(plan, stream_));
      plans_.emplace(key, plan);
    } catch (...) {
      (void)cufftDestroy(plan);
      throw;
    }
    return plan;
  }

 private:
  gpu_context() {
    FUGUE_CUDA_CALL(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking));
    FUGUE_CUBLAS_CALL(cublasCreate(&blas_));
    FUGUE_CUBLAS_CALL(cublasSetStream(blas_, stream_));
  }
  cudaStream_t stream_{};
  cublasHandle_t blas_{};
  std::mutex mutex_;
  std::map<std::tuple<int, int, int>, cufftHandle> plans_;
};

// Thrust's temporary storage (reductions) from the caching allocator instead of a
// cudaMalloc / cudaFree pair per call. Safe with one stream: a block freed here is reused
// only by work queued after it.
struct thrust_temporary_allocator {
  using value_type = char;
  char* allocate(std::ptrdiff_t n) {
    return static_cast<char*>(caching_allocator<gpu_raw_memory>::instance().allocate(std::size_t(n)));
  }
  void deallocate(char* p, std::size_t n) noexcept { caching_allocator<gpu_raw_memory>::instance().deallocate(p, n); }
};

// cuBLAS and cuFFT take int sizes.
inline int checked_int(index_t v, const char* what) {
  FUGUE_CHECK(v >= 0 && v <= index_t(INT_MAX), what, " = ", v, " does not fit cuBLAS / cuFFT's int");
  return int(v);
}

struct gpu_system {
  using raw_memory = gpu_raw_memory;
  static constexpr bool real_device = true;
  static constexpr const char* name() { return "cuda::device"; }
  static auto policy() {
    static thrust_temporary_allocator temporaries;
    return thrust::cuda::par_nosync(temporaries).on(gpu_context::get().stream());
  }

  // C = beta * C for `batch` rows x cols blocks (stride sc): GEMM with K == 0 or alpha == 0,
  // which cuBLAS does not promise to handle (and rejects with a zero leading dimension).
  template <class T>
  static void scale_blocks(index_t rows, index_t cols, T beta, T* C, index_t ldc, index_t sc, index_t batch) {
    for (index_t b = 0; b < batch; ++b)
      for_each_index(policy(), rows * cols, kernels::scale_block_at<T>{C + b * sc, ldc, cols, beta});
  }

  static void copy(void* dst, const void* src, std::size_t bytes) {
    if (bytes) FUGUE_CUDA_CALL(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, gpu_context::get().stream()));
  }
  static void copy_to_host(void* dst, const void* src, std::size_t bytes) {
    if (!bytes) return;
    const cudaStream_t s = gpu_context::get().stream();
    FUGUE_CUDA_CALL(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, s));
    FUGUE_CUDA_CALL(cudaStreamSynchronize(s));
  }
  static void copy_from_host(void* dst, const void* src, std::size_t bytes) {
    if (!bytes) return;
    const cudaStream_t s = gpu_context::get().stream();
    FUGUE_CUDA_CALL(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, s));
    FUGUE_CUDA_CALL(cudaStreamSynchronize(s));
  }
  static void synchronize() { FUGUE_CUDA_CALL(cudaStreamSynchronize(gpu_context::get().stream())); }

  template <class T>
  static void gemm(bool ta, bool tb, index_t M, index_t N, index_t K, T alpha, const T* A, index_t lda, const T* B,
                   index_t ldb, T beta, T* C, index_t ldc) {
    if (M == 0 || N == 0) return;
    if (K == 0 || alpha == T(0)) return scale_blocks(M, N, beta, C, ldc, 0, 1);
    const int m = checked_int(M, "M"), n = checked_int(N, "N"), k = checked_int(K, "K");
    const int la = checked_int(std::max<index_t>(lda, 1), "lda"), lb = checked_int(std::max<index_t>(ldb, 1), "ldb");
    const int lc = checked_int(std::max<index_t>(ldc, 1), "ldc");
    auto& ctx = gpu_context::get();
    std::lock_guard lock(ctx.library_mutex());
    const cublasOperation_t oa = ta ? CUBLAS_OP_T : CUBLAS_OP_N, ob = tb ? CUBLAS_OP_T : CUBLAS_OP_N;
    if constexpr (sizeof(T) == 4)
      FUGUE_CUBLAS_CALL(cublasSgemm(ctx.blas(), ob, oa, n, m, k, &alpha, B, lb, A, la, &beta, C, lc));
    else
      FUGUE_CUBLAS_CALL(cublasDgemm(ctx.blas(), ob, oa, n, m, k, &alpha, B, lb, A, la, &beta, C, lc));
  }
  template <class T>
  static void gemm_batched(bool ta, bool tb, index_t M, index_t N, index_t K, T alpha, const T* A, index_t lda,
                           index_t sa, const T* B, index_t ldb, index_t sb, T beta, T* C, index_t ldc, index_t sc,
                           index_t batch) {
    if (M == 0 || N == 0 || batch == 0) return;
    if (K == 0 || alpha == T(0)) return scale_blocks(M, N, beta, C, ldc, sc, batch);
    const int m = checked_int(M, "M"), n = checked_int(N, "N"), k = checked_int(K, "K");
    const int la = checked_int(std::max<index_t>(lda, 1), "lda"), lb = checked_int(std::max<index_t>(ldb, 1), "ldb");
    const int lc = checked_int(std::max<index_t>(ldc, 1), "ldc"), nb = checked_int(batch, "batch");
    auto& ctx = gpu_context::get();
    std::lock_guard lock(ctx.library_mutex());
    const cublasOperation_t oa = ta ? CUBLAS_OP_T : CUBLAS_OP_N, ob = tb ? CUBLAS_OP_T : CUBLAS_OP_N;
    if constexpr (sizeof(T) == 4)
      FUGUE_CUBLAS_CALL(
          cublasSgemmStridedBatched(ctx.blas(), ob, oa, n, m, k, &alpha, B, lb, sb, A, la, sa, &beta, C, lc, sc, nb));
    else
      FUGUE_CUBLAS_CALL(
          cublasDgemmStridedBatched(ctx.blas(), ob, oa, n, m, k, &alpha, B, lb, sb, A, la, sa, &beta, C, lc, sc, nb));
  }
  // Row-major A (M x N) is column-major A^T (N x M): op flips.
  template <class T>
  static void gemv(bool trans, index_t M, index_t N, T alpha, const T* A, index_t lda, const T* x, T beta, T* y) {
    const index_t out = trans ? N : M, inner = trans ? M : N;
    if (out == 0) return;
    // cuBLAS returns early without applying beta when the inner length is 0.
    if (inner == 0 || alpha == T(0)) return scale_blocks(1, out, beta, y, out, 0, 1);
    const int m = checked_int(M, "M"), n = checked_int(N, "N"), ld = checked_int(std::max<index_t>(lda, 1), "lda");
    auto& ctx = gpu_context::get();
    std::lock_guard lock(ctx.library_mutex());
    const cublasOperation_t op = trans ? CUBLAS_OP_N : CUBLAS_OP_T;
    if constexpr (sizeof(T) == 4)
      FUGUE_CUBLAS_CALL(cublasSgemv(ctx.blas(), op, n, m, &alpha, A, ld, x, 1, &beta, y, 1));
    else
      FUGUE_CUBLAS_CALL(cublasDgemv(ctx.blas(), op, n, m, &alpha, A, ld, x, 1, &beta, y, 1));
  }

  // --- FFT -------------------------------------------------------------------
  // cuFFT wants 16-byte aligned arrays (views into a tensor may start anywhere): misaligned
  // ones go through scratch blocks. Scratch goes back to the cache at once: whoever gets it
  // next uses it on the same stream, after this transform.
  struct scratch_block {
    void* p;
    std::size_t bytes;
    explicit scratch_block(std::size_t b) : p(caching_allocator<gpu_raw_memory>::instance().allocate(b)), bytes(b) {}
    scratch_block(const scratch_block&) = delete;
    scratch_block& operator=(const scratch_block&) = delete;
    ~scratch_block() { caching_allocator<gpu_raw_memory>::instance().deallocate(p, bytes); }
  };
  static bool fft_aligned(const void* p) { return reinterpret_cast<std::uintptr_t>(p) % 16 == 0; }

  template <class T>
  static void rfft(index_t n, index_t batch, const T* x, std::complex<T>* X) {
    if (batch == 0) return;
    const int len = checked_int(n, "FFT length"), rows = checked_int(batch, "FFT batch");
    const std::size_t real_bytes = sizeof(T) * std::size_t(n) * std::size_t(batch);
    const std::size_t complex_bytes = sizeof(std::complex<T>) * std::size_t(n / 2 + 1) * std::size_t(batch);
    std::optional<scratch_block> in_copy, out_copy;
    const T* in = x;
    std::complex<T>* out = X;
    if (!fft_aligned(x)) {
      in_copy.emplace(real_bytes);
      copy(in_copy->p, x, real_bytes);
      in = static_cast<const T*>(in_copy->p);
    }
    if (!fft_aligned(X)) {
      out_copy.emplace(complex_bytes);
      out = static_cast<std::complex<T>*>(out_copy->p);
    }
    {
      auto& ctx = gpu_context::get();
      std::lock_guard lock(ctx.library_mutex());
      if constexpr (sizeof(T) == 4) {
        const cufftHandle p = ctx.fft_plan(len, rows, CUFFT_R2C);
        FUGUE_CUFFT_CALL(cufftExecR2C(p, const_cast<cufftReal*>(in), reinterpret_cast<cufftComplex*>(out)));
      } else {
        const cufftHandle p = ctx.fft_plan(len, rows, CUFFT_D2Z);
        FUGUE_CUFFT_CALL(cufftExecD2Z(p, const_cast<cufftDoubleReal*>(in), reinterpret_cast<cufftDoubleComplex*>(out)));
      }
    }
    if (out_copy) copy(X, out, complex_bytes);
  }
  // cuFFT's c2r overwrites its input, so the spectrum is always copied to scratch first,
  // where the imaginary parts numpy ignores (bin 0, bin n/2 for even n) are zeroed.
  template <class T>
  static void irfft_unnormalized(index_t n, index_t batch, const std::complex<T>* X, T* x) {
    if (batch == 0) return;
    const int len = checked_int(n, "FFT length"), rows = checked_int(batch, "FFT batch");
    const index_t bins = n / 2 + 1;
    const std::size_t real_bytes = sizeof(T) * std::size_t(n) * std::size_t(batch);
    const std::size_t complex_bytes = sizeof(std::complex<T>) * std::size_t(bins) * std::size_t(batch);
    scratch_block spectrum(complex_bytes);
    copy(spectrum.p, X, complex_bytes);
    for_each_index(policy(), batch, kernels::zero_edge_imag_at<T>{static_cast<T*>(spectrum.p), bins, n});
    std::optional<scratch_block> out_copy;
    T* out = x;
    if (!fft_aligned(x)) {
      out_copy.emplace(real_bytes);
      out = static_cast<T*>(out_copy->p);
    }
    {
      auto& ctx = gpu_context::get();
      std::lock_guard lock(ctx.library_mutex());
      if constexpr (sizeof(T) == 4) {
        const cufftHandle p = ctx.fft_plan(len, rows, CUFFT_C2R);
        FUGUE_CUFFT_CALL(cufftExecC2R(p, static_cast<cufftComplex*>(spectrum.p), out));
      } else {
        const cufftHandle p = ctx.fft_plan(len, rows, CUFFT_Z2D);
        FUGUE_CUFFT_CALL(cufftExecZ2D(p, static_cast<cufftDoubleComplex*>(spectrum.p), out));
      }
    }
    if (out_copy) copy(x, out, real_bytes);
  }
};

}  // namespace fugue::cuda
#endif
