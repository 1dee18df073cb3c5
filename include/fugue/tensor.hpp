// fugue/tensor.hpp — Tensor and ShapedTensor with their default backend, cpu::native.
//
// Contract: core/tensor.hpp and core/shaped_tensor.hpp declare Tensor<T, B> and
// ShapedTensor<T, E, B> without a default backend, because core includes no backend
// implementation (its only backend dependency is the Backend concept, an interface in
// core/backend_concept.hpp). This header sits above both core and backend/cpu and
// redeclares the two templates adding the default template argument B = cpu::native
// (C++ merges default template arguments over the declarations of a template), so that
// Tensor<float> is Tensor<float, cpu::native> wherever it is included. Every fugue header
// above core that names a tensor includes this one (not core/tensor.hpp), and so does
// fugue/fugue.hpp; user code does the same. The default is given here only: no other
// declaration may repeat it.
#pragma once

#include "fugue/backend/cpu.hpp"
#include "fugue/core/shaped_tensor.hpp"
#include "fugue/core/tensor.hpp"

namespace fugue {

template <Scalar T, Backend B = cpu::native>
class Tensor;

template <Scalar T, class E, Backend B = cpu::native>
class ShapedTensor;

}  // namespace fugue
