// fugue/interop/xtensor.hpp — fugue tensors and xtensor, both ways (the optional component
// fugue::xtensor; Debian's libxtensor-dev).
//
// Contract (host backends: their memory is what xtensor can address)
//  * as_xtensor(t): a zero-copy xtensor expression over t's elements with t's shape and strides
//    (any view: slices, transposes, broadcasts). It reads, and for a non-const t writes, t's
//    storage; it does not own it: keep t (or a copy of the handle) alive while it is used.
//    Broadcast views (zero strides) must not be written through, as in fugue.
//  * from_xtensor<B>(expr): a new fugue tensor with the expression's shape and values (always a
//    copy; any xtensor expression, evaluated row-major).
//  * adopt_xtensor<B>(std::move(container)): the container (xt::xtensor / xt::xarray, any
//    allocator) becomes the tensor's storage without a copy when it is row-major and its data is
//    64-byte aligned (what fugue's own CPU storage guarantees, so SIMD kernels and FFT plans see
//    the same alignment); otherwise its values are copied. adopted(t) says which happened
//    (true: t's data is the container's buffer). xtensor's default allocator is usually only
//    16-byte aligned: use xsimd::aligned_allocator<T, 64> for zero-copy hand-over.
//  * Element types: float and double (fugue::Scalar); rank at most fugue's max_rank.
#pragma once

#include <xtensor/xadapt.hpp>
#include <xtensor/xarray.hpp>
#include <xtensor/xtensor.hpp>

#include <cstdint>
#include <memory>
#include <type_traits>
#include <utility>
#include <vector>

#include "fugue/core/error.hpp"
#include "fugue/tensor.hpp"

namespace fugue::interop {

inline constexpr std::size_t kAdoptAlignment = 64;

namespace detail {
template <class Tn>
auto adapt_view(Tn& t) {
  std::vector<std::size_t> shape(t.shape().begin(), t.shape().end());
  std::vector<std::ptrdiff_t> strides(std::size_t(t.rank()));
  for (int d = 0; d < t.rank(); ++d) strides[std::size_t(d)] = std::ptrdiff_t(t.strides()[d]);
  for (int d = 0; d < t.rank(); ++d) FUGUE_CHECK(t.strides()[d] >= 0, "as_xtensor: negative stride in dimension ", d);
  // xtensor sizes an adaptor's buffer as the element count whatever the strides (a broadcast or a
  // stepped slice spans fewer or more); element access and non-contiguous assignment go through
  // the strides, so only the elements of the view are touched.
  return xt::adapt(t.data(), std::size_t(t.numel()), xt::no_ownership(), std::move(shape), std::move(strides));
}
template <class E>
Shape shape_of(const E& e) {
  FUGUE_CHECK(e.dimension() <= std::size_t(max_rank), "from_xtensor: rank ", e.dimension(), " exceeds fugue's ",
              max_rank);
  return Shape::from_range(e.shape().begin(), e.shape().end());
}
}  // namespace detail

template <Scalar T, Backend B>
  requires B::host_accessible
auto as_xtensor(Tensor<T, B>& t) {
  FUGUE_CHECK(t.defined(), "as_xtensor: undefined tensor");
  return detail::adapt_view(t);
}
template <Scalar T, Backend B>
  requires B::host_accessible
auto as_xtensor(const Tensor<T, B>& t) {
  FUGUE_CHECK(t.defined(), "as_xtensor: undefined tensor");
  return detail::adapt_view(t);
}

template <Backend B = cpu::native, class E>
  requires B::host_accessible && Scalar<typename std::decay_t<E>::value_type>
Tensor<typename std::decay_t<E>::value_type, B> from_xtensor(const xt::xexpression<E>& expr) {
  using T = typename std::decay_t<E>::value_type;
  const xt::xarray<T, xt::layout_type::row_major> v = expr.derived_cast();  // evaluated, row-major
  auto t = Tensor<T, B>::empty(detail::shape_of(v));
  std::copy(v.data(), v.data() + v.size(), t.data());
  return t;
}

// Whether t's storage was adopted from another owner (adopt_xtensor without a copy).
template <Scalar T, Backend B>
bool adopted(const Tensor<T, B>& t) {
  return t.is_adopted();
}

template <Backend B = cpu::native, class C>
  requires B::host_accessible && (!std::is_lvalue_reference_v<C>) && Scalar<typename C::value_type>
Tensor<typename C::value_type, B> adopt_xtensor(C&& container) {
  using T = typename C::value_type;
  const Shape shape = detail::shape_of(container);
  const bool row_major = container.layout() == xt::layout_type::row_major ||
                         container.size() <= 1;  // one element: every layout is row-major
  const bool aligned = reinterpret_cast<std::uintptr_t>(container.data()) % kAdoptAlignment == 0;
  if (!row_major || !aligned) return from_xtensor<B>(container);
  auto owner = std::make_shared<C>(std::move(container));
  T* data = owner->data();
  return Tensor<T, B>::adopt(data, shape, std::shared_ptr<const void>(owner, owner.get()));
}

}  // namespace fugue::interop
