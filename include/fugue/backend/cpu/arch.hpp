// fugue/backend/cpu/arch.hpp — instruction-set selection for the CPU backend.
//
// Contract: fugue::cpu::best_arch is the widest xsimd architecture enabled by
// the compiler flags of the including translation unit (AVX-512F, else AVX2+FMA,
// else SSE4.2/NEON via xsimd's default, else the scalar fallback). Other
// architectures can be named explicitly (cpu::simd<xsimd::avx2>) as long as the
// compiler was allowed to emit them. `scalar_arch` is fugue's own portable
// fallback: kernels instantiated with it use plain loops, no intrinsics.
// arch_of<B>::type / arch_of_t<B> is the arch of backend B (B::arch, else a fallback).
#pragma once

#include <xsimd/xsimd.hpp>

namespace fugue::cpu {

// The portable fallback: no SIMD at all. Kernels check for it with if constexpr.
struct scalar_arch {
  static constexpr const char* name() { return "scalar"; }
  static constexpr std::size_t alignment() { return 64; }
};

#if XSIMD_WITH_AVX512F
using best_arch = xsimd::avx512f;
#elif XSIMD_WITH_AVX2 && XSIMD_WITH_FMA3_AVX2
using best_arch = xsimd::fma3<xsimd::avx2>;
#elif XSIMD_WITH_AVX2
using best_arch = xsimd::avx2;
#elif defined(XSIMD_NO_SUPPORTED_ARCHITECTURE)
using best_arch = scalar_arch;
#else
using best_arch = xsimd::default_arch;
#endif

template <class Arch>
inline constexpr bool is_scalar_arch = std::is_same_v<Arch, scalar_arch>;

// The instruction set of backend B: B::arch when B names one (cpu::simd<Arch>), else
// Fallback (a backend with no arch, e.g. a Thrust host system or a device backend).
// arch_of_t<B> falls back to the scalar loops; host code that ran on best_arch for any
// backend before it knew B's arch passes arch_of_t<B, best_arch>.
template <class B, class Fallback = scalar_arch>
struct arch_of {
  using type = Fallback;
};
template <class B, class Fallback>
  requires requires { typename B::arch; }
struct arch_of<B, Fallback> {
  using type = typename B::arch;
};
template <class B, class Fallback = scalar_arch>
using arch_of_t = typename arch_of<B, Fallback>::type;

// Number of T lanes a register of Arch holds (1 for the scalar fallback).
template <class T, class Arch>
inline constexpr std::size_t lanes = [] {
  if constexpr (is_scalar_arch<Arch>)
    return std::size_t{1};
  else
    return xsimd::batch<T, Arch>::size;
}();

}  // namespace fugue::cpu
