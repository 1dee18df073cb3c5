// fugue/core/extents.hpp — compile-time extents (Eigen's "Dynamic" idea).
//
// Contract: Extents<E...> describes a shape whose extents are known at compile
// time, with `dyn` marking an extent known only at run time. Two extents are
// compatible when equal or when either is dyn. Layers and ShapedTensor use these
// so that a wrong wiring of static sizes is a compile error, while dynamic
// extents are checked at run time with fugue::error.
#pragma once

#include <array>
#include <utility>

#include "fugue/core/shape.hpp"

namespace fugue {

inline constexpr index_t dyn = -1;

template <index_t... E>
struct Extents {
  static_assert(((E >= 0 || E == dyn) && ...), "extents are non-negative or fugue::dyn");
  static constexpr int rank = sizeof...(E);
  static constexpr std::array<index_t, sizeof...(E)> values{E...};
  static constexpr bool is_static = ((E != dyn) && ...);
  template <int I>
  static constexpr index_t get = values[I];

  // Checks a run-time shape against the static extents.
  static void check(const Shape& s, const char* what = "tensor") {
    FUGUE_CHECK(s.rank() == rank, what, " has rank ", s.rank(), " (shape ", s.str(), "), expected rank ", rank);
    for (int i = 0; i < rank; ++i)
      FUGUE_CHECK(values[i] == dyn || values[i] == s[i], what, " has shape ", s.str(), " but dimension ", i,
                  " must be ", values[i]);
  }
};

template <index_t A, index_t B>
inline constexpr bool extents_compatible = (A == dyn || B == dyn || A == B);

// The static extent that results from unifying two compatible extents.
template <index_t A, index_t B>
inline constexpr index_t unify_extent = (A == dyn ? B : A);

namespace detail {
template <class A, class B, class Seq>
struct same_extents_impl;
template <index_t... A, index_t... B, std::size_t... I>
struct same_extents_impl<Extents<A...>, Extents<B...>, std::index_sequence<I...>> {
  static constexpr bool value = (extents_compatible<A, B> && ...);
};
}  // namespace detail

// True when two static shapes may describe the same tensor (equal rank, each extent compatible).
template <class A, class B>
inline constexpr bool same_extents = [] {
  if constexpr (A::rank != B::rank)
    return false;
  else
    return detail::same_extents_impl<A, B, std::make_index_sequence<A::rank>>::value;
}();

// Result extents of a matrix product [M, K] x [K, N] -> [M, N].
template <class A, class B>
concept matmul_compatible = A::rank == 2 && B::rank == 2 && extents_compatible<A::values[1], B::values[0]>;

template <class A, class B>
  requires matmul_compatible<A, B>
using matmul_extents = Extents<A::values[0], B::values[1]>;

}  // namespace fugue
