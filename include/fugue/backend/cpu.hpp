// fugue/backend/cpu.hpp — the CPU backend and its default instantiation.
//
// Contract: fugue::cpu::native is cpu::simd<best_arch>, the backend tensors use
// when none is named. cpu::scalar is the portable no-SIMD fallback.
#pragma once

#include "fugue/backend/cpu/simd.hpp"

namespace fugue::cpu {
using native = simd<best_arch>;
using scalar = simd<scalar_arch>;
static_assert(Backend<native> && Backend<scalar>);
}  // namespace fugue::cpu
