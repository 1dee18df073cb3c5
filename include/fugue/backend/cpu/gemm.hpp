// fugue/backend/cpu/gemm.hpp — general matrix multiply on the CPU.
//
// Contract: C = alpha * op(A) * op(B) + beta * C for row-major matrices, where
// op(A) is M x K (A stored K x M when trans_a), op(B) is K x N (stored N x K when
// trans_b), with leading dimensions lda/ldb/ldc in elements. beta == 0 ignores
// C's previous contents (NaNs in C do not propagate). M, N or K may be zero;
// K == 0 or alpha == 0 only scales C by beta (A and B are not read, as in BLAS).
// C must not overlap A or B.
// Batched form: `batch` independent products at element strides sa/sb/sc.
//
// Implementation (BLIS-style; see gemm_microkernel.hpp and gemm_pack.hpp):
//   for jc in N step NC            B panel  KC x NC  (L3)
//     for pc in K step KC          (beta applies to the first K block only)
//       pack op(B)[pc, jc] into NR-wide slivers (skipped for small M with
//       op(B) = B: slivers are then read in place, only a ragged edge is packed)
//       for ic in M step MC        A block  MC x KC  (L2)
//         pack op(A)[ic, pc] into MR-tall slivers
//         for jr step NR, ir step MR: micro-kernel (B sliver stays in L1)
// Ragged M edges use micro-kernels instantiated for 1..MR rows, ragged N edges
// go through a small stack tile. M == 1 (and N == 1) route to gemv.
// Packing buffers are per-thread, grow-only (no allocation once warm).
//
// Threads: with cpu::num_threads() > 1 and M*N*K >= gemm_parallel_threshold,
// the product is split into independent column (or row) bands, one per thread,
// each running the serial algorithm on its own buffers. Results do not depend on
// the thread count (each C element is computed by the same sequence of FMAs).
//
// Accuracy: every C element is a K-long dot product accumulated in one FMA
// chain per K block (KC terms), blocks added in order: error <= K * eps *
// sum_k |a_ik||b_kj| (plus the alpha/beta rounding), the same bound as the
// reference loop.
#pragma once

#include <algorithm>
#include <utility>

#include "fugue/backend/cpu/arch.hpp"
#include "fugue/backend/cpu/gemm_microkernel.hpp"
#include "fugue/backend/cpu/gemm_pack.hpp"
#include "fugue/backend/cpu/gemv.hpp"
#include "fugue/backend/cpu/memory.hpp"
#include "fugue/backend/cpu/threads.hpp"
#include "fugue/core/shape.hpp"

namespace fugue::cpu::kernels {

// Plain triple loop. The reference every optimised path is tested against.
template <class T>
void gemm_reference(bool trans_a, bool trans_b, index_t M, index_t N, index_t K, T alpha, const T* A, index_t lda,
                    const T* B, index_t ldb, T beta, T* C, index_t ldc) {
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

// Work (M*N*K multiply-adds) from which gemm splits across threads.
inline index_t gemm_parallel_threshold = index_t{1} << 21;

namespace gemm_detail {

template <class T>
void scale_c(index_t M, index_t N, T beta, T* C, index_t ldc) {
  for (index_t i = 0; i < M; ++i) {
    T* c = C + i * ldc;
    if (beta == T(0))
      for (index_t j = 0; j < N; ++j) c[j] = T(0);
    else if (beta != T(1))
      for (index_t j = 0; j < N; ++j) c[j] *= beta;
  }
}

// Up to this many rows, op(B) = B is read in place instead of packed: its
// slivers are then reused only a few times, and packing would cost a full extra
// pass over B (the recurrent-layer shapes: M = 2..64 against a large weight).
template <class T, class Arch>
inline constexpr index_t no_pack_b_rows = blocking<T, Arch>::MC;

// The serial BLIS loop nest on one band of C, with an MR x (NV vectors) tile.
// `pre` (optional): op(B) already packed for the whole K x N product as pack_b_operand lays
// it out (K block pc at pre + pc * pre_npad, sliver s of it at + s * NR * kc), this band's
// first column being sliver pre_sliver0; then nothing of B is packed or read here.
template <class Arch, int MR, int NV, class T>
void gemm_blocked(bool ta, bool tb, index_t M, index_t N, index_t K, T alpha, const T* A, index_t lda, const T* B,
                  index_t ldb, T beta, T* C, index_t ldc, const T* pre = nullptr, index_t pre_sliver0 = 0,
                  index_t pre_npad = 0) {
  using Bk = blocking<T, Arch>;
  constexpr index_t NR = vec_ops<T, Arch>::W * NV;
  constexpr index_t KC = Bk::KC, MC = Bk::MC / MR * MR, NC = Bk::NC / NR * NR;
  const auto& kern = ukernels<T, Arch, MR, NV>::table.f;

  // A row stride that is a multiple of 4 KB maps every row of an in-place sliver onto the same
  // few L1 sets (the 2048-wide recurrent weights: 8 KB rows), so such B is packed from 32 rows
  // on: measured 39-48 -> 57-67 GFLOP/s at M 64, N 2048, K 512 on the AVX2 EPYC.
  const bool aliasing_stride = (std::size_t(ldb) * sizeof(T)) % 4096 == 0;
  const bool pack_whole_b = pre || tb || M > no_pack_b_rows<T, Arch> || (aliasing_stride && M >= 32);
  const index_t mc_max = std::min(MC, M), kc_max = std::min(KC, K), nc_max = std::min(NC, N);
  T* Ap = workspace<T>(slot::a, (mc_max + MR - 1) / MR * MR * kc_max);
  T* Bp = pre            ? nullptr
          : pack_whole_b ? workspace<T>(slot::b, (nc_max + NR - 1) / NR * NR * kc_max)
                         : workspace<T>(slot::b_edge, NR * kc_max);

  for (index_t jc = 0; jc < N; jc += NC) {
    const index_t nc = std::min(NC, N - jc);
    const index_t nc_full = nc / NR * NR;
    for (index_t pc = 0; pc < K; pc += KC) {
      const index_t kc = std::min(KC, K - pc);
      const T beta_k = pc == 0 ? beta : T(1);
      if (pre)
        Bp = const_cast<T*>(pre) + pc * pre_npad + (pre_sliver0 + jc / NR) * NR * kc;
      else if (pack_whole_b)
        pack_b<Arch, NR>(tb, B, ldb, pc, jc, kc, nc, Bp);
      else if (nc_full < nc)
        pack_b<Arch, NR>(false, B, ldb, pc, jc + nc_full, kc, nc - nc_full, Bp);
      for (index_t ic = 0; ic < M; ic += MC) {
        const index_t mc = std::min(MC, M - ic);
        pack_a<Arch, MR>(ta, A, lda, ic, pc, mc, kc, Ap);
        for (index_t jr = 0; jr < nc; jr += NR) {
          const index_t nr = std::min(NR, nc - jr);
          const T* bs;
          index_t bstride;
          if (pack_whole_b) {
            bs = Bp + jr * kc;
            bstride = NR;
          } else if (jr < nc_full) {
            bs = B + pc * ldb + jc + jr;
            bstride = ldb;
          } else {
            bs = Bp;
            bstride = NR;
          }
          T* c = C + ic * ldc + jc + jr;
          for (index_t ir = 0; ir < mc; ir += MR) {
            const index_t mr = std::min<index_t>(MR, mc - ir);
            kern[mr - 1](kc, Ap + ir * kc, bs, bstride, alpha, beta_k, c + ir * ldc, ldc, nr);
          }
        }
      }
    }
  }
}

// Few rows with op(B) = B^T (B is N x K, rows contiguous in k): every C entry is
// a dot product of an A row with a B row. Stream B once per group of up to
// MX = 4 rows of A, JR rows of B at a time, MX * JR vector accumulators.
template <class Arch, int MX, class T>
void gemm_small_tb_rows(index_t N, index_t K, T alpha, const T* const* a, const T* B, index_t ldb, T beta, T* C,
                        index_t ldc) {
  using O = vec_ops<T, Arch>;
  using V = typename O::V;
  constexpr index_t W = O::W;
  constexpr int JR = (W == 1 || MX <= 2) ? 4 : (sizeof(V) >= 64 ? 4 : 2);
  index_t j = 0;
  auto finish = [&](int r, index_t jj, T t) {
    T* c = C + r * ldc + jj;
    *c = axpby(alpha, t, beta, *c);
  };
  for (; j + JR <= N; j += JR) {
    const T* b[JR];
    V acc[MX][JR];
#pragma GCC unroll 4
    for (int q = 0; q < JR; ++q) b[q] = B + (j + q) * ldb;
#pragma GCC unroll 4
    for (int r = 0; r < MX; ++r)
#pragma GCC unroll 4
      for (int q = 0; q < JR; ++q) acc[r][q] = O::zero();
    const index_t kv = K / W * W;
    for (index_t k = 0; k < kv; k += W) {
      V bv[JR], av[MX];
#pragma GCC unroll 4
      for (int q = 0; q < JR; ++q) {
        bv[q] = O::load(b[q] + k);
        if constexpr (MX >= 3) O::pin(bv[q]);  // measured: helps 4 x 4, hurts 2 x 4
      }
#pragma GCC unroll 4
      for (int r = 0; r < MX; ++r) av[r] = O::load(a[r] + k);
#pragma GCC unroll 4
      for (int r = 0; r < MX; ++r)
#pragma GCC unroll 4
        for (int q = 0; q < JR; ++q) acc[r][q] = O::fma(av[r], bv[q], acc[r][q]);
    }
    T t[MX][JR];
#pragma GCC unroll 4
    for (int r = 0; r < MX; ++r)
#pragma GCC unroll 4
      for (int q = 0; q < JR; ++q) t[r][q] = O::hsum(acc[r][q]);
    if (kv < K) [[unlikely]]
      for (int r = 0; r < MX; ++r)
        for (int q = 0; q < JR; ++q)
          for (index_t kk = kv; kk < K; ++kk) t[r][q] += a[r][kk] * b[q][kk];
    for (int r = 0; r < MX; ++r)
      for (int q = 0; q < JR; ++q) finish(r, j + q, t[r][q]);
  }
  for (; j < N; ++j) {
    const T* b = B + j * ldb;
    for (int r = 0; r < MX; ++r) {
      V acc = O::zero();
      index_t k = 0;
      for (; k + W <= K; k += W) acc = O::fma(O::load(a[r] + k), O::load(b + k), acc);
      T t = O::hsum(acc);
      for (; k < K; ++k) t += a[r][k] * b[k];
      finish(r, j, t);
    }
  }
}

template <class Arch, class T>
void gemm_small_tb(bool ta, index_t M, index_t N, index_t K, T alpha, const T* A, index_t lda, const T* B, index_t ldb,
                   T beta, T* C, index_t ldc) {
  // Rows of op(A) must be contiguous in k: transpose a stored K x M A once.
  if (ta) {
    T* at = workspace<T>(slot::vec, M * K);
    for (index_t k = 0; k < K; ++k)
      for (index_t i = 0; i < M; ++i) at[i * K + k] = A[k * lda + i];
    A = at;
    lda = K;
  }
  for (index_t i = 0; i < M; i += 4) {
    const T* a[4];
    const index_t mx = std::min<index_t>(4, M - i);
    for (index_t r = 0; r < mx; ++r) a[r] = A + (i + r) * lda;
    T* c = C + i * ldc;
    switch (mx) {
      case 1: gemm_small_tb_rows<Arch, 1>(N, K, alpha, a, B, ldb, beta, c, ldc); break;
      case 2: gemm_small_tb_rows<Arch, 2>(N, K, alpha, a, B, ldb, beta, c, ldc); break;
      case 3: gemm_small_tb_rows<Arch, 3>(N, K, alpha, a, B, ldb, beta, c, ldc); break;
      default: gemm_small_tb_rows<Arch, 4>(N, K, alpha, a, B, ldb, beta, c, ldc); break;
    }
  }
}

// Up to this many rows, op(B) = B^T goes through gemm_small_tb (B streamed
// M/4 times, no transposing pack) instead of the blocked path.
inline constexpr index_t small_tb_rows = 8;

// Dispatch on the band's shape.
// `m_total` is the M of the whole product (a band may be shorter): the choice
// of the dot-product path, whose rounding differs, must not depend on threads.
template <class Arch, class T>
void gemm_serial(bool ta, bool tb, index_t M, index_t N, index_t K, T alpha, const T* A, index_t lda, const T* B,
                 index_t ldb, T beta, T* C, index_t ldc, index_t m_total) {
  using Bk = blocking<T, Arch>;
  if (tb && m_total <= small_tb_rows && K >= 2 * vec_ops<T, Arch>::W)
    return gemm_small_tb<Arch>(ta, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
  if (!tb && M <= 2) {
    using S = small_m_shape<T, Arch, 2>;
    return gemm_blocked<Arch, S::MR, S::NV>(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
  }
  if (!tb && M <= 4) {
    using S = small_m_shape<T, Arch, 4>;
    return gemm_blocked<Arch, S::MR, S::NV>(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
  }
  gemm_blocked<Arch, Bk::MR, Bk::NV>(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

// M == 1 or N == 1 as a gemv; returns false when the shape is not one of those.
template <class Arch, class T>
bool gemm_as_gemv(bool ta, bool tb, index_t M, index_t N, index_t K, T alpha, const T* A, index_t lda, const T* B,
                  index_t ldb, T beta, T* C, index_t ldc) {
  if (M == 1) {
    // c[0, :] = alpha * a_row op(B) + beta * c: a_row is contiguous unless A is
    // stored K x 1 with a stride.
    const T* x = A;
    if (ta && lda != 1 && K > 1) {
      T* xs = workspace<T>(slot::vec, K);
      for (index_t k = 0; k < K; ++k) xs[k] = A[k * lda];
      x = xs;
    }
    // op(B) = B (K x N): y = B^T x;  op(B) = B^T with B N x K: y = B x.
    gemv<Arch>(!tb, tb ? N : K, tb ? K : N, alpha, B, ldb, x, beta, C);
    return true;
  }
  if (N == 1) {
    const T* x = B;
    T* xs = nullptr;
    if (!tb && ldb != 1 && K > 1) {
      xs = workspace<T>(slot::vec, K + M);
      for (index_t k = 0; k < K; ++k) xs[k] = B[k * ldb];
      x = xs;
    }
    T* y = C;
    if (ldc != 1) {
      if (!xs) xs = workspace<T>(slot::vec, K + M);
      y = xs + K;
      if (beta != T(0))
        for (index_t i = 0; i < M; ++i) y[i] = C[i * ldc];
    }
    // op(A) = A (M x K): y = A x;  op(A) = A^T with A K x M: y = A^T x.
    gemv<Arch>(ta, ta ? K : M, ta ? M : K, alpha, A, lda, x, beta, y);
    if (y != C)
      for (index_t i = 0; i < M; ++i) C[i * ldc] = y[i];
    return true;
  }
  return false;
}

// Whether gemm_serial runs the main blocked kernel for a product with m_total rows (the
// only path that can use a prepacked op(B)).
template <class Arch, class T>
constexpr bool uses_main_kernel(bool tb, index_t m_total, index_t K) {
  if (tb && m_total <= small_tb_rows && K >= 2 * vec_ops<T, Arch>::W) return false;
  return tb || m_total > 4;
}

// The main-kernel band [b0, b1) of columns (by_cols) or rows, with op(B) prepacked.
template <class Arch, class T>
void gemm_prepacked_band(bool ta, index_t M, index_t N, index_t K, T alpha, const T* A, index_t lda, const T* pre,
                         index_t npad, index_t sliver0, T beta, T* C, index_t ldc) {
  using Bk = blocking<T, Arch>;
  gemm_blocked<Arch, Bk::MR, Bk::NV>(ta, false, M, N, K, alpha, A, lda, static_cast<const T*>(nullptr), 0, beta, C, ldc,
                                     pre, sliver0, npad);
}

// One product; nt == 1 keeps it on the calling thread. pre/npad: op(B) prepacked by
// pack_b_operand (only used when the main blocked kernel runs; B and tb still describe it).
template <class Arch, class T>
void gemm_one(int nt, bool trans_a, bool trans_b, index_t M, index_t N, index_t K, T alpha, const T* A, index_t lda,
              const T* B, index_t ldb, T beta, T* C, index_t ldc, const T* pre = nullptr, index_t npad = 0) {
  if (M <= 0 || N <= 0) return;
  if (K <= 0 || alpha == T(0)) return scale_c(M, N, beta, C, ldc);
  if (gemm_as_gemv<Arch>(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc)) return;
  if (pre && !uses_main_kernel<Arch, T>(trans_b, M, K)) pre = nullptr;

  if (nt <= 1 || M * N * K < gemm_parallel_threshold) {
    if (pre) return gemm_prepacked_band<Arch>(trans_a, M, N, K, alpha, A, lda, pre, npad, 0, beta, C, ldc);
    return gemm_serial<Arch>(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, M);
  }

  // One band per thread: columns when N >= M (each thread packs its own part of
  // B and all of A), rows otherwise. Band edges are multiples of the micro-tile.
  using Bk = blocking<T, Arch>;
  constexpr index_t NR = vec_ops<T, Arch>::W * Bk::NV;
  constexpr index_t MR = Bk::MR;
  const bool by_cols = N >= M;
  const index_t unit = by_cols ? NR : MR;
  const index_t len = by_cols ? N : M;
  const index_t units = (len + unit - 1) / unit;
  const int parts = static_cast<int>(std::min<index_t>(nt, units));
  parallel_for(parts, [&](int p) {
    const index_t u0 = units * p / parts, u1 = units * (p + 1) / parts;
    const index_t b0 = u0 * unit, b1 = std::min(len, u1 * unit);
    if (b1 <= b0) return;
    if (by_cols) {
      if (pre)
        return gemm_prepacked_band<Arch>(trans_a, M, b1 - b0, K, alpha, A, lda, pre, npad, b0 / NR, beta, C + b0, ldc);
      const T* Bb = trans_b ? B + b0 * ldb : B + b0;
      gemm_serial<Arch>(trans_a, trans_b, M, b1 - b0, K, alpha, A, lda, Bb, ldb, beta, C + b0, ldc, M);
    } else {
      const T* Ab = trans_a ? A + b0 : A + b0 * lda;
      if (pre)
        return gemm_prepacked_band<Arch>(trans_a, b1 - b0, N, K, alpha, Ab, lda, pre, npad, 0, beta, C + b0 * ldc, ldc);
      gemm_serial<Arch>(trans_a, trans_b, b1 - b0, N, K, alpha, Ab, lda, B, ldb, beta, C + b0 * ldc, ldc, M);
    }
  });
}

}  // namespace gemm_detail

template <class Arch, class T>
void gemm(bool trans_a, bool trans_b, index_t M, index_t N, index_t K, T alpha, const T* A, index_t lda, const T* B,
          index_t ldb, T beta, T* C, index_t ldc) {
  gemm_detail::gemm_one<Arch>(num_threads(), trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

// op(B) packed once for many products against it (a recurrent weight at every time step):
// the packing pass a large-M gemm makes over B on every call is made here once. Holds a
// view of B too (products with few rows read B in place); B must outlive it unchanged.
template <class T>
class packed_b_operand {
 public:
  packed_b_operand() = default;
  packed_b_operand(packed_b_operand&& o) noexcept { *this = std::move(o); }
  packed_b_operand& operator=(packed_b_operand&& o) noexcept {
    std::swap(trans, o.trans), std::swap(K, o.K), std::swap(N, o.N), std::swap(ldb, o.ldb);
    std::swap(source, o.source), std::swap(npad, o.npad), std::swap(data_, o.data_), std::swap(bytes_, o.bytes_);
    return *this;
  }
  packed_b_operand(const packed_b_operand&) = delete;
  packed_b_operand& operator=(const packed_b_operand&) = delete;
  ~packed_b_operand() { cpu::deallocate(data_, bytes_); }

  bool trans = false;
  index_t K = 0, N = 0, ldb = 0;
  const T* source = nullptr;
  index_t npad = 0;  // N rounded up to whole slivers
  const T* data() const noexcept { return data_; }

 private:
  template <class Arch, class U>
  friend packed_b_operand<U> pack_b_operand(bool, index_t, index_t, const U*, index_t);
  T* data_ = nullptr;
  std::size_t bytes_ = 0;
};

// Packs op(B) (K x N; B stored N x K when trans_b) for Arch's main micro-kernel.
template <class Arch, class T>
packed_b_operand<T> pack_b_operand(bool trans_b, index_t K, index_t N, const T* B, index_t ldb) {
  using Bk = gemm_detail::blocking<T, Arch>;
  constexpr index_t NR = gemm_detail::vec_ops<T, Arch>::W * Bk::NV;
  constexpr index_t KC = Bk::KC, NC = Bk::NC / NR * NR;
  packed_b_operand<T> p;
  p.trans = trans_b, p.K = K, p.N = N, p.ldb = ldb, p.source = B;
  p.npad = (N + NR - 1) / NR * NR;
  if (K <= 0 || N <= 0) return p;
  p.bytes_ = std::size_t(p.npad) * std::size_t(K) * sizeof(T);
  p.data_ = static_cast<T*>(cpu::allocate(p.bytes_));
  for (index_t pc = 0; pc < K; pc += KC) {
    const index_t kc = std::min(KC, K - pc);
    for (index_t jc = 0; jc < N; jc += NC)
      gemm_detail::pack_b<Arch, NR>(trans_b, B, ldb, pc, jc, kc, std::min(NC, N - jc), p.data_ + pc * p.npad + jc * kc);
  }
  return p;
}

// C = alpha * op(A) * op(B) + beta * C with op(B) from pack_b_operand: the same result as
// gemm(trans_a, b.trans, M, b.N, b.K, ..., b.source, b.ldb, ...), bit for bit when beta is
// 0 or 1 (for other beta a row band of <= 4 rows may round its beta * C term differently,
// as gemm itself does between thread counts).
template <class Arch, class T>
void gemm_packed(bool trans_a, index_t M, T alpha, const T* A, index_t lda, const packed_b_operand<T>& b, T beta, T* C,
                 index_t ldc) {
  gemm_detail::gemm_one<Arch>(num_threads(), trans_a, b.trans, M, b.N, b.K, alpha, A, lda, b.source, b.ldb, beta, C,
                              ldc, b.data(), b.npad);
}

template <class Arch, class T>
void gemm_batched(bool trans_a, bool trans_b, index_t M, index_t N, index_t K, T alpha, const T* A, index_t lda,
                  index_t sa, const T* B, index_t ldb, index_t sb, T beta, T* C, index_t ldc, index_t sc,
                  index_t batch) {
  if (batch <= 0) return;
  const int nt = num_threads();
  // Many small products: one thread per group of whole products (each gemm
  // inside a pool task runs serially). Few large ones: split each product.
  if (nt > 1 && batch >= nt && M * N * K * batch >= gemm_parallel_threshold) {
    const int parts = static_cast<int>(std::min<index_t>(batch, nt));
    parallel_for(parts, [&](int p) {
      for (index_t b = batch * p / parts; b < batch * (p + 1) / parts; ++b)
        gemm_detail::gemm_one<Arch>(1, trans_a, trans_b, M, N, K, alpha, A + b * sa, lda, B + b * sb, ldb, beta,
                                    C + b * sc, ldc);
    });
    return;
  }
  for (index_t b = 0; b < batch; ++b)
    gemm<Arch>(trans_a, trans_b, M, N, K, alpha, A + b * sa, lda, B + b * sb, ldb, beta, C + b * sc, ldc);
}

}  // namespace fugue::cpu::kernels
