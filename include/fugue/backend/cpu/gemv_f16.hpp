// fugue/backend/cpu/gemv_f16.hpp — matrix-vector product with IEEE half-precision weights.
//
// Contract
//  * to_half(float) rounds to the nearest binary16 (ties to even; overflow -> inf, NaN kept);
//    from_half(uint16_t) is exact. Both are portable scalar code.
//  * gemv_f16_rows(rows, cols, A, x, y): y[r] = sum_k float(A[r, k]) x[k] for row-major A [rows,
//    cols] of binary16 and float x, y; accumulation in float. Single-threaded, no allocation.
//    With F16C (x86 -mf16c, implied by -march=native on AVX2 machines) 8 weights are widened
//    per instruction, four rows at a time; otherwise a scalar loop.
//  * Why: a batch-1 recurrent step is bound by reading its weights (e.g. DDSP-VST's GRU, 6 MB
//    of float per 20-ms frame); binary16 halves the bytes. Rounding error per weight is at most
//    2^-11 relative, so a dot product's error stays below 2^-11 sum |a_k x_k|.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>

#if defined(__F16C__) && defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#define FUGUE_HAVE_F16C 1
#endif

#include "fugue/core/shape.hpp"

namespace fugue::cpu::kernels {

inline std::uint16_t to_half(float f) {
  std::uint32_t x;
  std::memcpy(&x, &f, 4);
  const std::uint32_t sign = (x >> 16) & 0x8000u;
  const std::uint32_t absx = x & 0x7fffffffu;
  if (absx >= 0x7f800000u) return std::uint16_t(sign | (absx > 0x7f800000u ? 0x7e00u : 0x7c00u));  // NaN / inf
  if (absx >= 0x477ff000u) return std::uint16_t(sign | 0x7c00u);  // rounds above 65504: inf
  if (absx < 0x38800000u) {                                       // below the smallest normal half: subnormal or zero
    if (absx < 0x33000000u) return std::uint16_t(sign);
    const std::uint32_t mant = (absx & 0x7fffffu) | 0x800000u;
    const int shift = 126 - int(absx >> 23);  // 14 .. 24
    std::uint32_t h = mant >> shift;
    const std::uint32_t rem = mant & ((1u << shift) - 1), half = 1u << (shift - 1);
    if (rem > half || (rem == half && (h & 1u))) ++h;
    return std::uint16_t(sign | h);
  }
  std::uint32_t h = ((absx >> 13) - (112u << 10));
  const std::uint32_t rem = absx & 0x1fffu;
  if (rem > 0x1000u || (rem == 0x1000u && (h & 1u))) ++h;
  return std::uint16_t(sign | h);
}

inline float from_half(std::uint16_t h) {
  const std::uint32_t sign = std::uint32_t(h & 0x8000u) << 16;
  const std::uint32_t e = (h >> 10) & 0x1fu, m = h & 0x3ffu;
  std::uint32_t x;
  if (e == 0) {
    if (m == 0)
      x = sign;
    else {  // subnormal: normalise
      int k = -1;
      std::uint32_t mm = m;
      do {
        ++k;
        mm <<= 1;
      } while (!(mm & 0x400u));
      x = sign | ((112u - std::uint32_t(k)) << 23) | ((mm & 0x3ffu) << 13);
    }
  } else if (e == 31) {
    x = sign | 0x7f800000u | (m << 13);
  } else {
    x = sign | ((e + 112u) << 23) | (m << 13);
  }
  float f;
  std::memcpy(&f, &x, 4);
  return f;
}

inline void gemv_f16_rows(index_t rows, index_t cols, const std::uint16_t* A, const float* x, float* y) {
  index_t r = 0;
#if FUGUE_HAVE_F16C
  auto widen = [](const std::uint16_t* p) {
    return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  };
  auto hsum = [](__m256 v) {
    const __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    const __m128 t = _mm_add_ps(s, _mm_movehl_ps(s, s));
    return _mm_cvtss_f32(_mm_add_ss(t, _mm_shuffle_ps(t, t, 1)));
  };
  for (; r + 4 <= rows; r += 4) {
    const std::uint16_t* a0 = A + r * cols;
    const std::uint16_t* a1 = a0 + cols;
    const std::uint16_t* a2 = a1 + cols;
    const std::uint16_t* a3 = a2 + cols;
    // Two accumulators per row: eight independent FMA chains hide the FMA latency.
    __m256 s0 = _mm256_setzero_ps(), s1 = s0, s2 = s0, s3 = s0, u0 = s0, u1 = s0, u2 = s0, u3 = s0;
    index_t k = 0;
    for (; k + 16 <= cols; k += 16) {
      const __m256 xv = _mm256_loadu_ps(x + k), xw = _mm256_loadu_ps(x + k + 8);
      s0 = _mm256_fmadd_ps(widen(a0 + k), xv, s0);
      s1 = _mm256_fmadd_ps(widen(a1 + k), xv, s1);
      s2 = _mm256_fmadd_ps(widen(a2 + k), xv, s2);
      s3 = _mm256_fmadd_ps(widen(a3 + k), xv, s3);
      u0 = _mm256_fmadd_ps(widen(a0 + k + 8), xw, u0);
      u1 = _mm256_fmadd_ps(widen(a1 + k + 8), xw, u1);
      u2 = _mm256_fmadd_ps(widen(a2 + k + 8), xw, u2);
      u3 = _mm256_fmadd_ps(widen(a3 + k + 8), xw, u3);
    }
    for (; k + 8 <= cols; k += 8) {
      const __m256 xv = _mm256_loadu_ps(x + k);
      s0 = _mm256_fmadd_ps(widen(a0 + k), xv, s0);
      s1 = _mm256_fmadd_ps(widen(a1 + k), xv, s1);
      s2 = _mm256_fmadd_ps(widen(a2 + k), xv, s2);
      s3 = _mm256_fmadd_ps(widen(a3 + k), xv, s3);
    }
    float t0 = hsum(_mm256_add_ps(s0, u0)), t1 = hsum(_mm256_add_ps(s1, u1)), t2 = hsum(_mm256_add_ps(s2, u2)),
          t3 = hsum(_mm256_add_ps(s3, u3));
    for (; k < cols; ++k) {
      t0 += from_half(a0[k]) * x[k];
      t1 += from_half(a1[k]) * x[k];
      t2 += from_half(a2[k]) * x[k];
      t3 += from_half(a3[k]) * x[k];
    }
    y[r] = t0;
    y[r + 1] = t1;
    y[r + 2] = t2;
    y[r + 3] = t3;
  }
#endif
  for (; r < rows; ++r) {
    const std::uint16_t* a = A + r * cols;
    float t = 0;
    for (index_t k = 0; k < cols; ++k) t += from_half(a[k]) * x[k];
    y[r] = t;
  }
}

}  // namespace fugue::cpu::kernels
