// fugue/autodiff/parameter.hpp — a trainable tensor and its gradient.
//
// Contract: a Parameter owns its value and a gradient buffer of the same shape
// (allocated on first use, zero-filled). Backward passes *accumulate* into
// grad, so several backward passes sum their gradients until zero_grad().
// Layers own Parameters; tapes refer to them; optimizers update them.
#pragma once

#include "fugue/tensor.hpp"

namespace fugue::ad {

template <Scalar T, Backend B = cpu::native>
struct Parameter {
  Tensor<T, B> value;
  Tensor<T, B> grad;  // undefined until the first backward that reaches it

  Parameter() = default;
  explicit Parameter(Tensor<T, B> v) : value(std::move(v)) {}

  const Shape& shape() const noexcept { return value.shape(); }
  index_t numel() const noexcept { return value.numel(); }
  Tensor<T, B>& ensure_grad() {
    if (!grad.defined() || !(grad.shape() == value.shape())) grad = Tensor<T, B>::zeros(value.shape());
    return grad;
  }
  void zero_grad() {
    if (grad.defined()) grad.fill(T(0));
  }
};

}  // namespace fugue::ad
