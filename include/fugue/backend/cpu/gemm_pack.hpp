// fugue/backend/cpu/gemm_pack.hpp — packing of GEMM operands into micro-panels.
//
// Contract:
//  - pack_a<MR>(trans, A, lda, i0, k0, mc, kc, dst): copies the mc x kc block of
//    op(A) starting at (i0, k0) into ceil(mc / MR) slivers; sliver s holds rows
//    [s*MR, s*MR + MR) k-major: dst[s*MR*kc + k*MR + r]. Rows past mc are zero.
//  - pack_b<NR>(trans, B, ldb, k0, j0, kc, nc, dst): copies the kc x nc block of
//    op(B) starting at (k0, j0) into ceil(nc / NR) slivers; sliver s holds columns
//    [s*NR, s*NR + NR) row-major: dst[s*NR*kc + k*NR + c]. Columns past nc are 0.
// op(A)(i, k) = trans ? A[k*lda + i] : A[i*lda + k]; op(B)(k, j) = trans ?
// B[j*ldb + k] : B[k*ldb + j]. dst must be at least ceil(mc/MR)*MR*kc
// (resp. ceil(nc/NR)*NR*kc) elements. Arch only selects whether the transposing
// copies may use AVX registers (never for cpu::scalar_arch). Also here: workspace(): a per-thread,
// grow-only, 64-byte aligned scratch area, so the hot path does not allocate.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <new>
#include <type_traits>

#if defined(__AVX__)
#include <immintrin.h>
#endif

#include "fugue/backend/cpu/arch.hpp"
#include "fugue/core/shape.hpp"

namespace fugue::cpu::kernels::gemm_detail {

// Per-thread grow-only scratch buffer (one per slot, so A and B panels coexist).
class scratch {
 public:
  scratch() = default;
  scratch(const scratch&) = delete;
  scratch& operator=(const scratch&) = delete;
  ~scratch() { release(); }
  void* get(std::size_t bytes) {
    if (bytes > cap_) {
      release();
      std::size_t cap = std::max<std::size_t>(bytes, 2 * cap_);
      cap = (cap + 4095) & ~std::size_t{4095};
      p_ = ::operator new(cap, std::align_val_t{64});
      cap_ = cap;
    }
    return p_;
  }

 private:
  void release() {
    if (p_) ::operator delete(p_, std::align_val_t{64});
    p_ = nullptr;
    cap_ = 0;
  }
  void* p_ = nullptr;
  std::size_t cap_ = 0;
};

enum class slot { a = 0, b = 1, b_edge = 2, vec = 3, gemv_acc = 4, count = 5 };

template <class T>
T* workspace(slot s, index_t elements) {
  thread_local scratch bufs[static_cast<int>(slot::count)];
  return static_cast<T*>(bufs[static_cast<int>(s)].get(static_cast<std::size_t>(elements) * sizeof(T)));
}

// ---- transposing copy ---------------------------------------------------------------
// dst[k * dstride + c] = src[c * ld + k] for c < rows, k < kc. With AVX and
// float (and a SIMD Arch: cpu::scalar_arch stays plain C++), 8 x 8 blocks are
// transposed in registers (unpack / shuffle / lane permute: 24 shuffles per
// 64 elements instead of 64 scalar stores).
template <class Arch, class T>
void transpose_copy(const T* src, index_t ld, index_t rows, index_t kc, T* dst, index_t dstride) {
  index_t c0 = 0;
#if defined(__AVX__)
  if constexpr (std::is_same_v<T, float> && !is_scalar_arch<Arch>) {
    for (; c0 + 8 <= rows; c0 += 8) {
      const float* s = src + c0 * ld;
      float* d = dst + c0;
      index_t k = 0;
      for (; k + 8 <= kc; k += 8) {
        const __m256 r0 = _mm256_loadu_ps(s + 0 * ld + k), r1 = _mm256_loadu_ps(s + 1 * ld + k);
        const __m256 r2 = _mm256_loadu_ps(s + 2 * ld + k), r3 = _mm256_loadu_ps(s + 3 * ld + k);
        const __m256 r4 = _mm256_loadu_ps(s + 4 * ld + k), r5 = _mm256_loadu_ps(s + 5 * ld + k);
        const __m256 r6 = _mm256_loadu_ps(s + 6 * ld + k), r7 = _mm256_loadu_ps(s + 7 * ld + k);
        const __m256 t0 = _mm256_unpacklo_ps(r0, r1), t1 = _mm256_unpackhi_ps(r0, r1);
        const __m256 t2 = _mm256_unpacklo_ps(r2, r3), t3 = _mm256_unpackhi_ps(r2, r3);
        const __m256 t4 = _mm256_unpacklo_ps(r4, r5), t5 = _mm256_unpackhi_ps(r4, r5);
        const __m256 t6 = _mm256_unpacklo_ps(r6, r7), t7 = _mm256_unpackhi_ps(r6, r7);
        const __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xEE);
        const __m256 u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xEE);
        const __m256 u4 = _mm256_shuffle_ps(t4, t6, 0x44), u5 = _mm256_shuffle_ps(t4, t6, 0xEE);
        const __m256 u6 = _mm256_shuffle_ps(t5, t7, 0x44), u7 = _mm256_shuffle_ps(t5, t7, 0xEE);
        float* o = d + k * dstride;
        _mm256_storeu_ps(o + 0 * dstride, _mm256_permute2f128_ps(u0, u4, 0x20));
        _mm256_storeu_ps(o + 1 * dstride, _mm256_permute2f128_ps(u1, u5, 0x20));
        _mm256_storeu_ps(o + 2 * dstride, _mm256_permute2f128_ps(u2, u6, 0x20));
        _mm256_storeu_ps(o + 3 * dstride, _mm256_permute2f128_ps(u3, u7, 0x20));
        _mm256_storeu_ps(o + 4 * dstride, _mm256_permute2f128_ps(u0, u4, 0x31));
        _mm256_storeu_ps(o + 5 * dstride, _mm256_permute2f128_ps(u1, u5, 0x31));
        _mm256_storeu_ps(o + 6 * dstride, _mm256_permute2f128_ps(u2, u6, 0x31));
        _mm256_storeu_ps(o + 7 * dstride, _mm256_permute2f128_ps(u3, u7, 0x31));
      }
      for (; k < kc; ++k)
        for (index_t c = 0; c < 8; ++c) d[k * dstride + c] = s[c * ld + k];
    }
  }
#endif
  // Plain path: 8-wide k chunks, so each source row is read sequentially.
  index_t k = 0;
  for (; k + 8 <= kc; k += 8)
    for (index_t c = c0; c < rows; ++c) {
      const T* sr = src + c * ld + k;
#pragma GCC unroll 8
      for (index_t q = 0; q < 8; ++q) dst[(k + q) * dstride + c] = sr[q];
    }
  for (; k < kc; ++k)
    for (index_t c = c0; c < rows; ++c) dst[k * dstride + c] = src[c * ld + k];
}

// ---- A: MR-row slivers, k-major ---------------------------------------------------
template <class Arch, int MR, class T>
void pack_a(bool trans, const T* A, index_t lda, index_t i0, index_t k0, index_t mc, index_t kc, T* dst) {
  for (index_t s = 0; s < mc; s += MR) {
    const index_t mr = std::min<index_t>(MR, mc - s);
    T* d = dst + s * kc;
    if (!trans) {
      // op(A) rows are contiguous in k: interleave MR row streams.
      const T* src = A + (i0 + s) * lda + k0;
      if (mr == MR && MR % 8 == 0) {
        transpose_copy<Arch>(src, lda, MR, kc, d, MR);
      } else if (mr == MR) {
        const T* rows[MR];
        for (int r = 0; r < MR; ++r) rows[r] = src + r * lda;
        for (index_t k = 0; k < kc; ++k) {
#pragma GCC unroll 16
          for (int r = 0; r < MR; ++r) d[k * MR + r] = rows[r][k];
        }
      } else {
        for (index_t k = 0; k < kc; ++k) {
          for (index_t r = 0; r < mr; ++r) d[k * MR + r] = src[r * lda + k];
          for (index_t r = mr; r < MR; ++r) d[k * MR + r] = T(0);
        }
      }
    } else {
      // A stored K x M: each k gives MR contiguous elements.
      const T* src = A + k0 * lda + i0 + s;
      if (mr == MR) {
        for (index_t k = 0; k < kc; ++k) {
#pragma GCC unroll 16
          for (int r = 0; r < MR; ++r) d[k * MR + r] = src[k * lda + r];
        }
      } else {
        for (index_t k = 0; k < kc; ++k) {
          for (index_t r = 0; r < mr; ++r) d[k * MR + r] = src[k * lda + r];
          for (index_t r = mr; r < MR; ++r) d[k * MR + r] = T(0);
        }
      }
    }
  }
}

// ---- B: NR-column slivers, row-major ------------------------------------------------
template <class Arch, int NR, class T>
void pack_b(bool trans, const T* B, index_t ldb, index_t k0, index_t j0, index_t kc, index_t nc, T* dst) {
  for (index_t s = 0; s < nc; s += NR) {
    const index_t nr = std::min<index_t>(NR, nc - s);
    T* d = dst + s * kc;
    if (!trans) {
      // op(B) rows are contiguous in j: copy NR elements per k.
      const T* src = B + k0 * ldb + j0 + s;
      if (nr == NR) {
        for (index_t k = 0; k < kc; ++k) std::memcpy(d + k * NR, src + k * ldb, sizeof(T) * NR);
      } else {
        for (index_t k = 0; k < kc; ++k) {
          for (index_t c = 0; c < nr; ++c) d[k * NR + c] = src[k * ldb + c];
          for (index_t c = nr; c < NR; ++c) d[k * NR + c] = T(0);
        }
      }
    } else {
      // B stored N x K: column j of op(B) is row j of B. Transpose in 8-wide k
      // chunks so each source row is read sequentially and each destination row
      // is written in full.
      transpose_copy<Arch>(B + (j0 + s) * ldb + k0, ldb, nr, kc, d, NR);
      if (nr < NR)
        for (index_t kk = 0; kk < kc; ++kk)
          for (index_t c = nr; c < NR; ++c) d[kk * NR + c] = T(0);
    }
  }
}

}  // namespace fugue::cpu::kernels::gemm_detail
