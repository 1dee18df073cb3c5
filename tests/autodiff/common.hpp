// Shared helpers for the autodiff tests.
#pragma once

#include <fugue/autodiff.hpp>

namespace fugue_test {
using namespace fugue;
using D = double;
using TD = Tensor<double>;
using VD = ad::Var<double>;
using Vs = std::span<VD>;

// Uniform in [lo, hi) from a Philox stream.
template <class T = double>
inline Tensor<T> rnd(const Shape& s, std::uint64_t stream, T lo = -1, T hi = 1) {
  return Tensor<T>::uniform(s, Philox{42, stream}, lo, hi);
}
// Uniform magnitude in [lo, hi) with a random sign: keeps values away from a kink at 0.
inline TD away(const Shape& s, std::uint64_t stream, double lo = 0.2, double hi = 1.5) {
  auto m = rnd(s, stream, lo, hi);
  auto sg = rnd(s, stream + 1000);
  return ops::binary(m, sg, [](auto a, auto b) { return fugue::lane::select(b < decltype(b)(0), -a, a); });
}
}  // namespace fugue_test
