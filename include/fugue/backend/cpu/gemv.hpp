// fugue/backend/cpu/gemv.hpp — matrix-vector product (the batch-1 recurrent step).
//
// Contract: y = alpha * op(A) * x + beta * y, A row-major M x N with leading
// dimension lda; op(A) = A (y has M entries, x has N) or A^T (y has N, x has M).
// beta == 0 ignores y's previous contents. x and y must not overlap A or each
// other. M or N may be zero (then y = beta * y over its length).
//
// Kernels (Arch an xsimd architecture; cpu::scalar_arch uses the same loops on
// scalars):
//  - op(A) = A: four rows at a time, two vector accumulators per row, so x is
//    loaded once per four rows; horizontal sums at the end of each row.
//  - op(A) = A^T: four rows of A at a time stream contiguously into an accumulator
//    row in the per-thread workspace (L1-resident for recurrent sizes):
//    acc += x[k] * A[k, :] for k ascending, one FMA chain per column.
// Both are memory-bound (one FMA per element of A). With cpu::num_threads() > 1
// and M * N >= gemv_parallel_threshold, rows (resp. column chunks) are split
// across the pool; the result does not depend on the thread count.
// Accuracy: each y entry is a sum of `inner` products accumulated in at most
// 2 * lanes partial sums, so the error is below inner * eps * sum|a_k x_k|.
#pragma once

#include <algorithm>
#include <cmath>

#include "fugue/backend/cpu/arch.hpp"
#include "fugue/backend/cpu/gemm_microkernel.hpp"
#include "fugue/backend/cpu/gemm_pack.hpp"
#include "fugue/backend/cpu/threads.hpp"
#include "fugue/core/shape.hpp"

namespace fugue::cpu::kernels {

template <class T>
void gemv_reference(bool trans, index_t M, index_t N, T alpha, const T* A, index_t lda, const T* x, T beta, T* y) {
  index_t rows = trans ? N : M, inner = trans ? M : N;
  for (index_t i = 0; i < rows; ++i) {
    T acc = 0;
    for (index_t k = 0; k < inner; ++k) acc += (trans ? A[k * lda + i] : A[i * lda + k]) * x[k];
    y[i] = alpha * acc + (beta == T(0) ? T(0) : beta * y[i]);
  }
}

// Work (M * N elements of A) from which gemv splits across threads.
inline index_t gemv_parallel_threshold = index_t{1} << 17;

namespace gemm_detail {

template <class T>
FUGUE_GEMM_INLINE T axpby(T alpha, T acc, T beta, T y) {
  return beta == T(0) ? alpha * acc : alpha * acc + beta * y;
}

// y[r0:r1] = alpha * A[r0:r1, :] x + beta * y[r0:r1]
template <class Arch, class T>
void gemv_n_rows(index_t r0, index_t r1, index_t N, T alpha, const T* A, index_t lda, const T* x, T beta, T* y) {
  using O = vec_ops<T, Arch>;
  using V = typename O::V;
  constexpr index_t W = O::W;
  constexpr int R = 4;
  index_t i = r0;
  for (; i + R <= r1; i += R) {
    const T* a[R];
    V s0[R], s1[R];
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) {
      a[r] = A + (i + r) * lda;
      s0[r] = O::zero();
      s1[r] = O::zero();
    }
    index_t k = 0;
    for (; k + 2 * W <= N; k += 2 * W) {
      const V x0 = O::load(x + k), x1 = O::load(x + k + W);
#pragma GCC unroll 4
      for (int r = 0; r < R; ++r) {
        s0[r] = O::fma(O::load(a[r] + k), x0, s0[r]);
        s1[r] = O::fma(O::load(a[r] + k + W), x1, s1[r]);
      }
    }
    if (k + W <= N) {
      const V x0 = O::load(x + k);
#pragma GCC unroll 4
      for (int r = 0; r < R; ++r) s0[r] = O::fma(O::load(a[r] + k), x0, s0[r]);
      k += W;
    }
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) {
      T t = O::hsum(O::add(s0[r], s1[r]));
      for (index_t kk = k; kk < N; ++kk) t += a[r][kk] * x[kk];
      y[i + r] = axpby(alpha, t, beta, y[i + r]);
    }
  }
  for (; i < r1; ++i) {
    const T* a = A + i * lda;
    V s0 = O::zero(), s1 = O::zero();
    index_t k = 0;
    for (; k + 2 * W <= N; k += 2 * W) {
      s0 = O::fma(O::load(a + k), O::load(x + k), s0);
      s1 = O::fma(O::load(a + k + W), O::load(x + k + W), s1);
    }
    for (; k + W <= N; k += W) s0 = O::fma(O::load(a + k), O::load(x + k), s0);
    T t = O::hsum(O::add(s0, s1));
    for (; k < N; ++k) t += a[k] * x[k];
    y[i] = axpby(alpha, t, beta, y[i]);
  }
}

// acc[0:n] += sum over rows k0 .. k0+RB-1 of x[k] * A[k, 0:n], RB rows per pass: each row
// is read contiguously (the hardware prefetchers follow RB streams; walking a 64-column
// chunk down all M rows instead touched a new 4 KB page every row: measured 112 -> 75 us at
// 512 x 2048, 410 -> 173 us at 1024 x 2048 on the AVX2 EPYC). Each column keeps one FMA
// chain in ascending k, so a column's value does not depend on which columns share the call.
template <class Arch, int RB, class T>
FUGUE_GEMM_INLINE void gemv_t_pass(index_t k0, index_t n, const T* A, index_t lda, const T* x, T* acc) {
  using O = vec_ops<T, Arch>;
  using V = typename O::V;
  constexpr index_t W = O::W;
  V xs[RB];
  const T* a[RB];
#pragma GCC unroll 8
  for (int r = 0; r < RB; ++r) {
    xs[r] = O::bcast(x[k0 + r]);
    a[r] = A + (k0 + r) * lda;
  }
  index_t j = 0;
  for (; j + W <= n; j += W) {
    V y = O::load(acc + j);
#pragma GCC unroll 8
    for (int r = 0; r < RB; ++r) y = O::fma(xs[r], O::load(a[r] + j), y);
    O::store(acc + j, y);
  }
  for (; j < n; ++j) {  // W > 1 here, where O::fma is a fused multiply-add
    T y = acc[j];
    for (int r = 0; r < RB; ++r) y = std::fma(x[k0 + r], a[r][j], y);
    acc[j] = y;
  }
}

// Column chunk width of the parallel split (a multiple of every vector width).
template <class Arch, class T>
constexpr index_t gemv_t_chunk_width() {
  return vec_ops<T, Arch>::W * 8;
}

// Columns [c0, c1) of y = alpha * A^T x + beta * y (A is M x *).
template <class Arch, class T>
void gemv_t_cols(index_t c0, index_t c1, index_t M, T alpha, const T* A, index_t lda, const T* x, T beta, T* y) {
  using O = vec_ops<T, Arch>;
  using V = typename O::V;
  constexpr index_t W = O::W;
  const index_t n = c1 - c0;
  T* acc = workspace<T>(slot::gemv_acc, n);
  std::fill(acc, acc + n, T(0));
  const T* Ab = A + c0;
  index_t k = 0;
  for (; k + 4 <= M; k += 4) gemv_t_pass<Arch, 4>(k, n, Ab, lda, x, acc);
  for (; k < M; ++k) gemv_t_pass<Arch, 1>(k, n, Ab, lda, x, acc);
  T* yb = y + c0;
  const V va = O::bcast(alpha);
  index_t j = 0;
  if (beta == T(0)) {
    for (; j + W <= n; j += W) O::store(yb + j, O::mul(va, O::load(acc + j)));
  } else {
    const V vb = O::bcast(beta);
    for (; j + W <= n; j += W) O::store(yb + j, O::fma(vb, O::load(yb + j), O::mul(va, O::load(acc + j))));
  }
  for (; j < n; ++j) yb[j] = axpby(alpha, acc[j], beta, yb[j]);
}

}  // namespace gemm_detail

template <class Arch, class T>
void gemv(bool trans, index_t M, index_t N, T alpha, const T* A, index_t lda, const T* x, T beta, T* y) {
  using namespace gemm_detail;
  const index_t rows = trans ? N : M;
  if (rows <= 0) return;
  if (M == 0 || N == 0 || alpha == T(0)) {  // BLAS semantics: A and x are not read
    for (index_t i = 0; i < rows; ++i) y[i] = beta == T(0) ? T(0) : beta * y[i];
    return;
  }
  const int nt = num_threads();
  const bool par = nt > 1 && M * N >= gemv_parallel_threshold;
  if (!trans) {
    if (!par) return gemv_n_rows<Arch>(0, M, N, alpha, A, lda, x, beta, y);
    const int parts = static_cast<int>(std::min<index_t>(nt, (M + 3) / 4));
    parallel_for(parts, [&](int p) {
      const index_t r0 = (M * p / parts) & ~index_t{3};
      const index_t r1 = p + 1 == parts ? M : (M * (p + 1) / parts) & ~index_t{3};
      gemv_n_rows<Arch>(r0, r1, N, alpha, A, lda, x, beta, y);
    });
  } else {
    if (!par) return gemv_t_cols<Arch>(0, N, M, alpha, A, lda, x, beta, y);
    constexpr index_t CW = gemv_t_chunk_width<Arch, T>();
    const index_t chunks = (N + CW - 1) / CW;
    const int parts = static_cast<int>(std::min<index_t>(nt, chunks));
    parallel_for(parts, [&](int p) {
      const index_t c0 = chunks * p / parts * CW;
      const index_t c1 = p + 1 == parts ? N : chunks * (p + 1) / parts * CW;
      gemv_t_cols<Arch>(c0, c1, M, alpha, A, lda, x, beta, y);
    });
  }
}

}  // namespace fugue::cpu::kernels
