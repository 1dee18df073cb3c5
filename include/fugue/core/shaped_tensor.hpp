// fugue/core/shaped_tensor.hpp — a Tensor whose extents are (partly) part of its type.
//
// Contract: ShapedTensor<T, Extents<E...>, B> wraps a Tensor<T, B> whose shape
// matches the extents; constructing one from a Tensor of another shape throws
// fugue::error, and operations between ShapedTensors whose static extents
// disagree do not compile (see ops::matmul, ops::add overloads). Static
// extents that are `dyn` are checked at run time only.
#pragma once

#include "fugue/core/extents.hpp"
#include "fugue/core/tensor.hpp"

namespace fugue {

// No default backend here: fugue/tensor.hpp adds B = cpu::native (see core/tensor.hpp).
template <Scalar T, class E, Backend B>
class ShapedTensor {
 public:
  using extents = E;
  ShapedTensor()
    requires(E::is_static)
      : t_(Tensor<T, B>::zeros(static_shape())) {}
  explicit ShapedTensor(Tensor<T, B> t) : t_(std::move(t)) { E::check(t_.shape(), "ShapedTensor"); }

  static Shape static_shape()
    requires(E::is_static)
  {
    return Shape::from_range(E::values.begin(), E::values.end());
  }
  const Tensor<T, B>& tensor() const noexcept { return t_; }
  Tensor<T, B>& tensor() noexcept { return t_; }
  const Shape& shape() const noexcept { return t_.shape(); }

 private:
  Tensor<T, B> t_;
};

}  // namespace fugue
