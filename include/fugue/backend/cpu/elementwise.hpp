// fugue/backend/cpu/elementwise.hpp — elementwise kernels over contiguous arrays.
//
// Contract: map/zip/zip3 apply a functor to every element of contiguous arrays of
// length n and write y (y may alias an input). The functor must be callable both
// with xsimd::batch<T, Arch> and with T (a generic lambda over xsimd's math
// functions is), so one definition serves the SIMD body and the scalar tail.
// Named functors (activations, binary arithmetic) are in fugue/core/functors.hpp.
// fill writes value to y[0..n).
#pragma once

#include <cstddef>

#include "fugue/backend/cpu/arch.hpp"
#include "fugue/core/functors.hpp"
#include "fugue/core/shape.hpp"

namespace fugue::cpu::kernels {

template <class Arch, class T, class F>
void map(index_t n, const T* x, T* y, F f) {
  index_t i = 0;
  if constexpr (!is_scalar_arch<Arch>) {
    using V = xsimd::batch<T, Arch>;
    constexpr index_t W = V::size;
    const index_t nv = n / W * W;
    for (; i < nv; i += W) f(V::load_unaligned(x + i)).store_unaligned(y + i);
  }
  for (; i < n; ++i) y[i] = f(x[i]);
}

template <class Arch, class T, class F>
void zip(index_t n, const T* a, const T* b, T* y, F f) {
  index_t i = 0;
  if constexpr (!is_scalar_arch<Arch>) {
    using V = xsimd::batch<T, Arch>;
    constexpr index_t W = V::size;
    const index_t nv = n / W * W;
    for (; i < nv; i += W) f(V::load_unaligned(a + i), V::load_unaligned(b + i)).store_unaligned(y + i);
  }
  for (; i < n; ++i) y[i] = f(a[i], b[i]);
}

template <class Arch, class T, class F>
void zip3(index_t n, const T* a, const T* b, const T* c, T* y, F f) {
  index_t i = 0;
  if constexpr (!is_scalar_arch<Arch>) {
    using V = xsimd::batch<T, Arch>;
    constexpr index_t W = V::size;
    const index_t nv = n / W * W;
    for (; i < nv; i += W)
      f(V::load_unaligned(a + i), V::load_unaligned(b + i), V::load_unaligned(c + i)).store_unaligned(y + i);
  }
  for (; i < n; ++i) y[i] = f(a[i], b[i], c[i]);
}

template <class Arch, class T>
void fill(index_t n, T value, T* y) {
  index_t i = 0;
  if constexpr (!is_scalar_arch<Arch>) {
    using V = xsimd::batch<T, Arch>;
    constexpr index_t W = V::size;
    const V v(value);
    for (; i + 4 * W <= n; i += 4 * W) {
      v.store_unaligned(y + i);
      v.store_unaligned(y + i + W);
      v.store_unaligned(y + i + 2 * W);
      v.store_unaligned(y + i + 3 * W);
    }
    for (; i + W <= n; i += W) v.store_unaligned(y + i);
  }
  for (; i < n; ++i) y[i] = value;
}

}  // namespace fugue::cpu::kernels
