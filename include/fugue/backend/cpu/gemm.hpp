// fugue/backend/cpu/gemm.hpp — general matrix multiply on the CPU.
//
// Contract: C = alpha * op(A) * op(B) + beta * C for row-major matrices, where
// op(A) is M x K (A stored K x M when trans_a), op(B) is K x N (stored N x K when
// trans_b), with leading dimensions lda/ldb/ldc in elements. beta == 0 ignores
// C's previous contents (NaNs in C do not propagate). M, N or K may be zero.
// Batched form: `batch` independent products at element strides sa/sb/sc.
#pragma once

#include "fugue/backend/cpu/arch.hpp"
#include "fugue/core/shape.hpp"

namespace fugue::cpu::kernels {

// Plain triple loop. The reference every optimised path is tested against.
template <class T>
void gemm_reference(bool trans_a, bool trans_b, index_t M, index_t N, index_t K, T alpha,
                    const T* A, index_t lda, const T* B, index_t ldb, T beta, T* C, index_t ldc) {
  for (index_t i = 0; i < M; ++i)
    for (index_t j = 0; j < N; ++j) {
      T acc = 0;
      for (index_t k = 0; k < K; ++k) {
        T a = trans_a ? A[k * lda + i] : A[i * lda + k];
        T b = trans_b ? B[j * ldb + k] : B[k * ldb + j];
        acc += a * b;
      }
      C[i * ldc + j] = alpha * acc + (beta == T(0) ? T(0) : beta * C[i * ldc + j]);
    }
}

template <class Arch, class T>
void gemm(bool trans_a, bool trans_b, index_t M, index_t N, index_t K, T alpha, const T* A,
          index_t lda, const T* B, index_t ldb, T beta, T* C, index_t ldc) {
  gemm_reference(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

template <class Arch, class T>
void gemm_batched(bool trans_a, bool trans_b, index_t M, index_t N, index_t K, T alpha,
                  const T* A, index_t lda, index_t sa, const T* B, index_t ldb, index_t sb, T beta,
                  T* C, index_t ldc, index_t sc, index_t batch) {
  for (index_t b = 0; b < batch; ++b)
    gemm<Arch>(trans_a, trans_b, M, N, K, alpha, A + b * sa, lda, B + b * sb, ldb, beta, C + b * sc, ldc);
}

}  // namespace fugue::cpu::kernels
