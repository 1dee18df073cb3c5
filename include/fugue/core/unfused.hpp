// fugue/core/unfused.hpp — a * b + c rounded twice, as Python and numpy compute it.
//
// Contract: mul_add_unfused(a, b, c) == round(round(a * b) + c) in IEEE double, whatever the
// compiler's floating-point contraction setting (GCC and Clang fuse a * b + c into one FMA,
// rounded once, under -march with FMA and the default -ffp-contract=fast). Code that must
// agree to the last bit with a Python reference (MIDI tick times, quantization, split times
// of the music encoders) uses it; a last-bit difference moves a note across a step or a bar.
#pragma once

namespace fugue {

inline double mul_add_unfused(double a, double b, double c) {
  volatile double product = a * b;  // volatile: the product is rounded and stored, never fused
  return product + c;
}

}  // namespace fugue
