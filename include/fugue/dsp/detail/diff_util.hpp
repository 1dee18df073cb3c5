// fugue/dsp/detail/diff_util.hpp — helpers shared by the differentiable DSP ops (internal).
//
// Contract (internal, may change):
//  * avec<T>, exp_sigmoid_forward<Arch> / exp_sigmoid_backward<Arch>: the public names of
//    fugue/dsp/host_kernels.hpp, also visible here as detail:: names (simd_map / simd_zip
//    <Arch> are defined there, in dsp::detail).
//  * next_pow2(n): smallest power of two >= n (n >= 1).
#pragma once

#include <cstddef>

#include "fugue/dsp/host_kernels.hpp"

namespace fugue::dsp::detail {

using dsp::avec;
using dsp::exp_sigmoid_backward;
using dsp::exp_sigmoid_forward;

inline std::size_t next_pow2(std::size_t n) {
  std::size_t p = 1;
  while (p < n) p <<= 1;
  return p;
}

}  // namespace fugue::dsp::detail
