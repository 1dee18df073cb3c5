// fugue/backend/cpu/gemm_microkernel.hpp — register-blocked GEMM micro-kernel.
//
// Contract: ukernel<T, Arch, MR, NV, RR>(kc, a, b, bs, alpha, beta, c, ldc, nr)
// computes the RR x NR tile (NR = NV * lanes) of
//     c = alpha * a_sliver * b_sliver + beta * c      (beta == 0: c is not read)
// where a_sliver is a packed RR x kc block stored k-major with stride MR
// (a[k * MR + r]) and b_sliver a kc x NR block whose rows start every `bs`
// elements (bs == NR for a packed sliver, ldb when B is read in place). Only the
// first nr (<= NR) columns of c are written; b must still hold NR readable
// (zero-padded) columns per row. vec_ops<T, Arch> is the small vector vocabulary
// the GEMM and GEMV kernels share; for cpu::scalar_arch it is plain scalars.
#pragma once

#include <cstddef>
#include <utility>

#include "fugue/backend/cpu/arch.hpp"
#include "fugue/core/shape.hpp"

#if defined(__GNUC__)
#define FUGUE_GEMM_INLINE inline __attribute__((always_inline))
#else
#define FUGUE_GEMM_INLINE inline
#endif

namespace fugue::cpu::kernels::gemm_detail {

// ---- the vector vocabulary -------------------------------------------------
template <class T, class Arch>
struct vec_ops {
  using V = xsimd::batch<T, Arch>;
  static constexpr index_t W = static_cast<index_t>(V::size);
  static FUGUE_GEMM_INLINE V load(const T* p) { return V::load_unaligned(p); }
  static FUGUE_GEMM_INLINE void store(T* p, const V& v) { v.store_unaligned(p); }
  static FUGUE_GEMM_INLINE V bcast(T x) { return V(x); }
  static FUGUE_GEMM_INLINE V zero() { return V(T(0)); }
  static FUGUE_GEMM_INLINE V fma(const V& a, const V& b, const V& c) { return xsimd::fma(a, b, c); }
  static FUGUE_GEMM_INLINE V mul(const V& a, const V& b) { return a * b; }
  static FUGUE_GEMM_INLINE V add(const V& a, const V& b) { return a + b; }
  static FUGUE_GEMM_INLINE T hsum(const V& v) { return xsimd::hadd(v); }
  // Keeps a loaded vector in a register: GCC otherwise re-reads it from memory
  // as an FMA operand on every use, doubling the load traffic of the kernel.
  static FUGUE_GEMM_INLINE void pin(V& v) {
#if defined(__GNUC__)
    typename V::register_type r = v;
    asm("" : "+v"(r));
    v = r;
#endif
  }
};

template <class T>
struct vec_ops<T, scalar_arch> {
  using V = T;
  static constexpr index_t W = 1;
  static FUGUE_GEMM_INLINE V load(const T* p) { return *p; }
  static FUGUE_GEMM_INLINE void store(T* p, const V& v) { *p = v; }
  static FUGUE_GEMM_INLINE V bcast(T x) { return x; }
  static FUGUE_GEMM_INLINE V zero() { return T(0); }
  static FUGUE_GEMM_INLINE V fma(const V& a, const V& b, const V& c) { return a * b + c; }
  static FUGUE_GEMM_INLINE V mul(const V& a, const V& b) { return a * b; }
  static FUGUE_GEMM_INLINE V add(const V& a, const V& b) { return a + b; }
  static FUGUE_GEMM_INLINE T hsum(const V& v) { return v; }
  static FUGUE_GEMM_INLINE void pin(V&) {}
};

// ---- micro-kernel shape and cache blocking per (T, Arch) ---------------------
// MR rows of A are broadcast, NV vectors of B are loaded per k step: MR * NV
// accumulators. Zen 4 executes a 512-bit FMA as two 256-bit halves (one zmm FMA
// per cycle, 4 cycles latency), so an AVX-512 tile needs >= 4 independent
// accumulators and gains from AVX-512's 32 registers mainly through a taller
// tile (fewer loads per FMA), not wider vectors.
//
// Blocking (classic BLIS order jc -> pc -> ic -> jr -> ir): a packed B sliver
// (KC x NR) is reused across all the A slivers of an MC block; the packed A block
// (MC x KC) stays in the 1 MB L2, the B panel (KC x NC) in L3.
// AVX2 / generic blocking: KC 256 keeps the packed B sliver (KC x 16 floats = 16 KB) in half
// the 32 KB L1d; MC 72 a 72 KB A block in L2. Measured on the 2-core EPYC (AVX2 only) with
// scripts/compare.sh gemm: 2048^2 single-thread 217-241 ms vs 266-293 ms with KC 512 / MC 120.
// -DFUGUE_GEMM_KC / -DFUGUE_GEMM_MC override them.
#ifndef FUGUE_GEMM_KC
#define FUGUE_GEMM_KC 256
#endif
#ifndef FUGUE_GEMM_MC
#define FUGUE_GEMM_MC 72
#endif
template <class T, class Arch>
struct blocking {
  static constexpr int MR = 6;
  static constexpr int NV = 2;
  static constexpr index_t KC = FUGUE_GEMM_KC;
  static constexpr index_t MC = FUGUE_GEMM_MC;
  static constexpr index_t NC = 4096;
};

#if XSIMD_WITH_AVX512F
#ifndef FUGUE_GEMM_AVX512_MR
#define FUGUE_GEMM_AVX512_MR 8
#endif
#ifndef FUGUE_GEMM_AVX512_NV
#define FUGUE_GEMM_AVX512_NV 2
#endif
#ifndef FUGUE_GEMM_AVX512_KC
#define FUGUE_GEMM_AVX512_KC 512
#endif
#ifndef FUGUE_GEMM_AVX512_MC
#define FUGUE_GEMM_AVX512_MC 128
#endif
template <class T>
struct blocking<T, xsimd::avx512f> {
  static constexpr int MR = FUGUE_GEMM_AVX512_MR;
  static constexpr int NV = FUGUE_GEMM_AVX512_NV;
  static constexpr index_t KC = FUGUE_GEMM_AVX512_KC;
  static constexpr index_t MC = FUGUE_GEMM_AVX512_MC;
  static constexpr index_t NC = 4096;
};
#endif

template <class T>
struct blocking<T, scalar_arch> {
  static constexpr int MR = 4;
  static constexpr int NV = 4;
  static constexpr index_t KC = 256;
  static constexpr index_t MC = 64;
  static constexpr index_t NC = 1024;
};

// ---- the micro-kernel ----------------------------------------------------------
template <class T, class Arch, int MR, int NV, int RR>
void ukernel(index_t kc, const T* __restrict a, const T* __restrict b, index_t bs, T alpha, T beta, T* __restrict c,
             index_t ldc, index_t nr) {
  using O = vec_ops<T, Arch>;
  using V = typename O::V;
  constexpr index_t W = O::W;
  constexpr index_t NR = W * NV;

  V acc[RR][NV];
#pragma GCC unroll 16
  for (int r = 0; r < RR; ++r)
#pragma GCC unroll 8
    for (int v = 0; v < NV; ++v) acc[r][v] = O::zero();
#if defined(__GNUC__) && !defined(FUGUE_GEMM_NO_PREFETCH_C)
      // The C tile is touched only after the k loop: start fetching it now.
#pragma GCC unroll 16
  for (int r = 0; r < RR; ++r) {
    __builtin_prefetch(c + r * ldc, 1, 3);
    __builtin_prefetch(c + r * ldc + NR - 1, 1, 3);
  }
#endif

  for (index_t k = 0; k < kc; ++k) {
    V bv[NV];
#pragma GCC unroll 8
    for (int v = 0; v < NV; ++v) bv[v] = O::load(b + v * W);
#pragma GCC unroll 16
    for (int r = 0; r < RR; ++r) {
      const V ar = O::bcast(a[r]);
#pragma GCC unroll 8
      for (int v = 0; v < NV; ++v) acc[r][v] = O::fma(ar, bv[v], acc[r][v]);
    }
    a += MR;
    b += bs;
  }

  const V va = O::bcast(alpha);
  if (nr == NR) {
    if (beta == T(0)) {
#pragma GCC unroll 16
      for (int r = 0; r < RR; ++r)
#pragma GCC unroll 8
        for (int v = 0; v < NV; ++v) O::store(c + r * ldc + v * W, O::mul(va, acc[r][v]));
    } else {
      const V vb = O::bcast(beta);
#pragma GCC unroll 16
      for (int r = 0; r < RR; ++r)
#pragma GCC unroll 8
        for (int v = 0; v < NV; ++v) {
          T* p = c + r * ldc + v * W;
          O::store(p, O::fma(vb, O::load(p), O::mul(va, acc[r][v])));
        }
    }
  } else {
    alignas(64) T tile[RR * NR];
#pragma GCC unroll 16
    for (int r = 0; r < RR; ++r)
#pragma GCC unroll 8
      for (int v = 0; v < NV; ++v) O::store(tile + r * NR + v * W, O::mul(va, acc[r][v]));
    for (int r = 0; r < RR; ++r) {
      T* p = c + r * ldc;
      const T* t = tile + r * NR;
      if (beta == T(0))
        for (index_t j = 0; j < nr; ++j) p[j] = t[j];
      else
        for (index_t j = 0; j < nr; ++j) p[j] = t[j] + beta * p[j];
    }
  }
}

template <class T>
using ukernel_fn = void (*)(index_t, const T*, const T*, index_t, T, T, T*, index_t, index_t);

// table[rr - 1] is the kernel for a sliver of rr <= MR valid rows.
template <class T, class Arch, int MR, int NV, std::size_t... I>
constexpr auto make_ukernel_table(std::index_sequence<I...>) {
  struct table {
    ukernel_fn<T> f[MR];
  };
  return table{{&ukernel<T, Arch, MR, NV, static_cast<int>(I) + 1>...}};
}

template <class T, class Arch, int MR = blocking<T, Arch>::MR, int NV = blocking<T, Arch>::NV>
struct ukernels {
  static constexpr auto table = make_ukernel_table<T, Arch, MR, NV>(std::make_index_sequence<MR>{});
};

// Tile shapes for very few rows with op(B) = B read in place (M <= 4): wider
// B slivers (256+ bytes per row) so that the hardware prefetcher follows the
// strided rows of B; the accumulator count stays at MR * NV <= 24 (16 on AVX2).
template <class T, class Arch, int Rows>
struct small_m_shape {
  static constexpr int MR = Rows;
  static constexpr int NV = vec_ops<T, Arch>::W == 1 ? 4 : (Rows <= 2 ? 6 : 3);
};
#if XSIMD_WITH_AVX512F
template <class T, int Rows>
struct small_m_shape<T, xsimd::avx512f, Rows> {
  static constexpr int MR = Rows;
  static constexpr int NV = Rows <= 2 ? 8 : 4;
};
#endif

}  // namespace fugue::cpu::kernels::gemm_detail
