// fugue/backend/cpu/gemv.hpp — matrix-vector product (the batch-1 recurrent step).
//
// Contract: y = alpha * op(A) * x + beta * y, A row-major M x N with leading
// dimension lda; op(A) = A (y has M entries, x has N) or A^T (y has N, x has M).
// beta == 0 ignores y's previous contents.
#pragma once

#include "fugue/backend/cpu/arch.hpp"
#include "fugue/core/shape.hpp"

namespace fugue::cpu::kernels {

template <class T>
void gemv_reference(bool trans, index_t M, index_t N, T alpha, const T* A, index_t lda, const T* x,
                    T beta, T* y) {
  index_t rows = trans ? N : M, inner = trans ? M : N;
  for (index_t i = 0; i < rows; ++i) {
    T acc = 0;
    for (index_t k = 0; k < inner; ++k) acc += (trans ? A[k * lda + i] : A[i * lda + k]) * x[k];
    y[i] = alpha * acc + (beta == T(0) ? T(0) : beta * y[i]);
  }
}

template <class Arch, class T>
void gemv(bool trans, index_t M, index_t N, T alpha, const T* A, index_t lda, const T* x, T beta, T* y) {
  gemv_reference(trans, M, N, alpha, A, lda, x, beta, y);
}

}  // namespace fugue::cpu::kernels
