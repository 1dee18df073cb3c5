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
// (resp. ceil(nc/NR)*NR*kc) elements. Packing also workspace(): a per-thread,
// grow-only, 64-byte aligned scratch area, so the hot path does not allocate.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <new>

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

enum class slot { a = 0, b = 1, b_edge = 2, vec = 3, count = 4 };

template <class T>
T* workspace(slot s, index_t elements) {
  thread_local scratch bufs[static_cast<int>(slot::count)];
  return static_cast<T*>(bufs[static_cast<int>(s)].get(static_cast<std::size_t>(elements) * sizeof(T)));
}

// ---- A: MR-row slivers, k-major ---------------------------------------------------
template <int MR, class T>
void pack_a(bool trans, const T* A, index_t lda, index_t i0, index_t k0, index_t mc, index_t kc, T* dst) {
  for (index_t s = 0; s < mc; s += MR) {
    const index_t mr = std::min<index_t>(MR, mc - s);
    T* d = dst + s * kc;
    if (!trans) {
      // op(A) rows are contiguous in k: interleave MR row streams.
      const T* src = A + (i0 + s) * lda + k0;
      if (mr == MR) {
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
template <int NR, class T>
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
      const T* src = B + (j0 + s) * ldb + k0;
      index_t k = 0;
      constexpr index_t KB = 8;
      for (; k + KB <= kc; k += KB) {
        for (index_t c = 0; c < nr; ++c) {
          const T* sr = src + c * ldb + k;
#pragma GCC unroll 8
          for (index_t q = 0; q < KB; ++q) d[(k + q) * NR + c] = sr[q];
        }
      }
      for (; k < kc; ++k)
        for (index_t c = 0; c < nr; ++c) d[k * NR + c] = src[c * ldb + k];
      if (nr < NR)
        for (index_t kk = 0; kk < kc; ++kk)
          for (index_t c = nr; c < NR; ++c) d[kk * NR + c] = T(0);
    }
  }
}

}  // namespace fugue::cpu::kernels::gemm_detail
