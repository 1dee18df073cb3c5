// fugue/backend/concept.hpp — what a backend type must provide.
//
// Contract: a backend is a stateless type with static member functions. It owns
// memory (allocate/deallocate; 64-byte aligned at least), moves bytes (copy
// within the backend, to and from host memory), and runs the numeric kernels
// that tensors, autodiff and layers are built on. All kernels take raw pointers
// to row-major contiguous data plus sizes and leading dimensions; the tensor
// layer (fugue/ops) is responsible for views, broadcasting and shape checks.
// `host_accessible` says whether its pointers may be dereferenced on the CPU.
#pragma once

#include <concepts>
#include <cstddef>
#include <string_view>

#include "fugue/core/shape.hpp"

namespace fugue {

template <class B>
concept Backend = requires(std::size_t bytes, void* dst, const void* src) {
  { B::name() } -> std::convertible_to<std::string_view>;
  { B::host_accessible } -> std::convertible_to<bool>;
  { B::allocate(bytes) } -> std::same_as<void*>;
  { B::deallocate(dst, bytes) } -> std::same_as<void>;
  { B::copy(dst, src, bytes) } -> std::same_as<void>;
  { B::copy_to_host(dst, src, bytes) } -> std::same_as<void>;
  { B::copy_from_host(dst, src, bytes) } -> std::same_as<void>;
} && requires(index_t n, bool t, float* c, const float* a, double* cd, const double* ad) {
  // The float/double GEMM every dense layer uses: C = alpha op(A) op(B) + beta C.
  B::gemm(t, t, n, n, n, 1.0f, a, n, a, n, 0.0f, c, n);
  B::gemm(t, t, n, n, n, 1.0, ad, n, ad, n, 0.0, cd, n);
};

// Scalar types a tensor may hold.
template <class T>
concept Scalar = std::same_as<T, float> || std::same_as<T, double>;

}  // namespace fugue
