// fugue/backend/cpu/simd.hpp — the CPU backend type, parameterised by instruction set.
//
// Contract: cpu::simd<Arch> satisfies fugue::Backend. Arch is an xsimd
// architecture (xsimd::avx512f, xsimd::fma3<xsimd::avx2>, ...) or
// cpu::scalar_arch; several instantiations can live side by side in one binary
// (each needs the compiler to be allowed to emit its instructions). Memory is
// host memory aligned to 64 bytes, large blocks reused (cpu/memory.hpp). The kernels are the ones in
// fugue/backend/cpu/*.hpp, instantiated for Arch; their contracts are there.
#pragma once

#include <cstdlib>
#include <cstring>
#include <new>
#include <string>
#include <string_view>

#include "fugue/backend/concept.hpp"
#include "fugue/backend/cpu/arch.hpp"
#include "fugue/backend/cpu/elementwise.hpp"
#include "fugue/backend/cpu/gemm.hpp"
#include "fugue/backend/cpu/gemv.hpp"
#include "fugue/backend/cpu/layer_norm.hpp"
#include "fugue/backend/cpu/memory.hpp"
#include "fugue/backend/cpu/reduce.hpp"
#include "fugue/backend/cpu/softmax.hpp"
#include "fugue/backend/cpu/threads.hpp"

namespace fugue::cpu {

template <class Arch>
struct simd {
  using arch = Arch;
  static constexpr bool host_accessible = true;
  static std::string_view name() {
    static const std::string full = std::string("cpu::simd<") + Arch::name() + ">";
    return full;
  }

  // --- memory ---------------------------------------------------------------
  static constexpr std::size_t alignment = memory_alignment;
  // Large blocks are reused through cpu::block_cache (see backend/cpu/memory.hpp).
  static void* allocate(std::size_t bytes) { return cpu::allocate(bytes); }
  static void deallocate(void* p, std::size_t bytes) noexcept { cpu::deallocate(p, bytes); }
  static void copy(void* dst, const void* src, std::size_t bytes) {
    if (bytes) std::memcpy(dst, src, bytes);
  }
  static void copy_to_host(void* dst, const void* src, std::size_t bytes) { copy(dst, src, bytes); }
  static void copy_from_host(void* dst, const void* src, std::size_t bytes) { copy(dst, src, bytes); }

  // --- dense linear algebra -------------------------------------------------
  template <class T>
  static void gemm(bool ta, bool tb, index_t M, index_t N, index_t K, T alpha, const T* A, index_t lda, const T* B,
                   index_t ldb, T beta, T* C, index_t ldc) {
    kernels::gemm<Arch>(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
  }
  // op(B) packed once for many products (see kernels::pack_b_operand); gemm_packed gives
  // the same result as gemm with the unpacked B.
  template <class T>
  static kernels::packed_b_operand<T> pack_b(bool trans_b, index_t K, index_t N, const T* B, index_t ldb) {
    return kernels::pack_b_operand<Arch>(trans_b, K, N, B, ldb);
  }
  template <class T>
  static void gemm_packed(bool trans_a, index_t M, T alpha, const T* A, index_t lda,
                          const kernels::packed_b_operand<T>& B, T beta, T* C, index_t ldc) {
    kernels::gemm_packed<Arch>(trans_a, M, alpha, A, lda, B, beta, C, ldc);
  }
  template <class T>
  static void gemm_batched(bool ta, bool tb, index_t M, index_t N, index_t K, T alpha, const T* A, index_t lda,
                           index_t sa, const T* B, index_t ldb, index_t sb, T beta, T* C, index_t ldc, index_t sc,
                           index_t batch) {
    kernels::gemm_batched<Arch>(ta, tb, M, N, K, alpha, A, lda, sa, B, ldb, sb, beta, C, ldc, sc, batch);
  }
  template <class T>
  static void gemv(bool trans, index_t M, index_t N, T alpha, const T* A, index_t lda, const T* x, T beta, T* y) {
    kernels::gemv<Arch>(trans, M, N, alpha, A, lda, x, beta, y);
  }

  // --- elementwise ----------------------------------------------------------
  template <class T, class F>
  static void map(index_t n, const T* x, T* y, F f) {
    kernels::map<Arch>(n, x, y, f);
  }
  template <class T, class F>
  static void zip(index_t n, const T* a, const T* b, T* y, F f) {
    kernels::zip<Arch>(n, a, b, y, f);
  }
  template <class T, class F>
  static void zip3(index_t n, const T* a, const T* b, const T* c, T* y, F f) {
    kernels::zip3<Arch>(n, a, b, c, y, f);
  }
  template <class T>
  static void fill(index_t n, T value, T* y) {
    kernels::fill<Arch>(n, value, y);
  }

  // --- reductions and row-wise ops ------------------------------------------
  template <class T>
  static T sum(index_t n, const T* x) {
    return kernels::sum<Arch>(n, x);
  }
  template <class T>
  static T max(index_t n, const T* x) {
    return kernels::max<Arch>(n, x);
  }
  template <class T>
  static T dot(index_t n, const T* a, const T* b) {
    return kernels::dot<Arch>(n, a, b);
  }
  template <class T>
  static void row_sum(index_t rows, index_t cols, const T* x, T* y) {
    kernels::row_sum<Arch>(rows, cols, x, y);
  }
  template <class T>
  static void col_sum(index_t rows, index_t cols, const T* x, T* y, bool accumulate = false) {
    kernels::col_sum<Arch>(rows, cols, x, y, accumulate);
  }
  template <class T>
  static void softmax_rows(index_t rows, index_t cols, const T* x, T* y) {
    kernels::softmax_rows<Arch>(rows, cols, x, y);
  }
  template <class T>
  static void log_softmax_rows(index_t rows, index_t cols, const T* x, T* y) {
    kernels::log_softmax_rows<Arch>(rows, cols, x, y);
  }
  template <class T>
  static void layer_norm_rows(index_t rows, index_t cols, const T* x, const T* gamma, const T* beta, T eps, T* y,
                              T* mean, T* rstd) {
    kernels::layer_norm_rows<Arch>(rows, cols, x, gamma, beta, eps, y, mean, rstd);
  }
};

}  // namespace fugue::cpu
