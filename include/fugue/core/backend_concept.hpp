// fugue/core/backend_concept.hpp — what a backend type must provide (the interface only).
//
// Contract: a backend is a stateless type with static member functions. It owns
// memory (allocate/deallocate; 64-byte aligned at least), moves bytes (copy
// within the backend, to and from host memory), and runs the numeric kernels
// that tensors, autodiff and layers are built on. All kernels take raw pointers
// to row-major contiguous data plus sizes and leading dimensions; the tensor
// layer (fugue/ops) is responsible for views, broadcasting and shape checks.
// `host_accessible` says whether its pointers may be dereferenced on the CPU.
// The concept lives in core because core/tensor.hpp constrains on it; core includes no
// backend implementation (fugue/backend/ depends on core, never the other way round).
// fugue/backend/concept.hpp forwards here.
//  * fugue::Backend names every member the library calls on a backend, in layers:
//    BackendMemory (name, host_accessible, allocate / deallocate, copies), BackendElementwise
//    (map, zip, zip3, fill), BackendReductions (sum, dot, row / col sums, softmax, log-softmax,
//    layer norm by rows), BackendGemm (gemm, gemm_batched, gemv), and, for a backend that is
//    not host-accessible, BackendIndexLoops (generate, for_each, strided_copy: the library's
//    host loops become these there). A backend missing one fails with these names.
//  * Optional refinements, for members the library uses only where present (if constexpr /
//    requires): BackendFft (rfft, irfft_unnormalized), BackendRng (fill_uniform, fill_normal),
//    BackendPackedGemm (pack_b, gemm_packed), BackendSimd (host-accessible with an xsimd arch).
#pragma once

#include <complex>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <type_traits>

#include "fugue/core/rng.hpp"
#include "fugue/core/shape.hpp"

namespace fugue {

namespace detail {
// Stand-ins for the functors the library hands to a backend's kernels (declared only: the
// concepts below never call them): y = f(x) for map, f(a, b) for zip, f(a, b, c) for zip3,
// y[i] = f(i) for generate, f(i) for for_each.
struct backend_unary_probe {
  template <class V>
  V operator()(V) const;
};
struct backend_binary_probe {
  template <class V>
  V operator()(V, V) const;
};
struct backend_ternary_probe {
  template <class V>
  V operator()(V, V, V) const;
};
template <class T>
struct backend_index_probe {
  T operator()(std::uint64_t) const;
};
struct backend_index_action_probe {
  void operator()(std::uint64_t) const;
};

// The per-scalar-type halves of the layered concepts (the library calls each for float and double).
template <class B, class T>
concept backend_elementwise_of = requires(index_t n, const T* a, T* y) {
  { B::map(n, a, y, backend_unary_probe{}) } -> std::same_as<void>;
  { B::zip(n, a, a, y, backend_binary_probe{}) } -> std::same_as<void>;
  { B::zip3(n, a, a, a, y, backend_ternary_probe{}) } -> std::same_as<void>;
  { B::fill(n, T(0), y) } -> std::same_as<void>;
};
template <class B, class T>
concept backend_reductions_of = requires(index_t n, const T* a, T* y, T eps, bool accumulate) {
  { B::sum(n, a) } -> std::convertible_to<T>;
  { B::dot(n, a, a) } -> std::convertible_to<T>;
  { B::row_sum(n, n, a, y) } -> std::same_as<void>;
  { B::col_sum(n, n, a, y) } -> std::same_as<void>;
  { B::col_sum(n, n, a, y, accumulate) } -> std::same_as<void>;
  { B::softmax_rows(n, n, a, y) } -> std::same_as<void>;
  { B::log_softmax_rows(n, n, a, y) } -> std::same_as<void>;
  { B::layer_norm_rows(n, n, a, a, a, eps, y, y, y) } -> std::same_as<void>;
};
template <class B, class T>
concept backend_gemm_of = requires(bool t, index_t n, T s, const T* a, T* c) {
  // C = alpha op(A) op(B) + beta C; the batched form with element strides between the matrices.
  { B::gemm(t, t, n, n, n, s, a, n, a, n, s, c, n) } -> std::same_as<void>;
  { B::gemm_batched(t, t, n, n, n, s, a, n, n, a, n, n, s, c, n, n, n) } -> std::same_as<void>;
  { B::gemv(t, n, n, s, a, n, a, s, c) } -> std::same_as<void>;
};
template <class B, class T>
concept backend_index_loops_of = requires(index_t n, T* y, const T* a, const Shape& shape, const Strides& st) {
  { B::generate(n, y, backend_index_probe<T>{}) } -> std::same_as<void>;
  { B::strided_copy(shape, y, st, a, st) } -> std::same_as<void>;
};
template <class B, class T>
concept backend_fft_of = requires(index_t n, const T* x, T* y, std::complex<T>* X, const std::complex<T>* cX) {
  { B::rfft(n, n, x, X) } -> std::same_as<void>;
  { B::irfft_unnormalized(n, n, cX, y) } -> std::same_as<void>;
};
template <class B, class T>
concept backend_rng_of = requires(index_t n, Philox rng, T v, T* y) {
  { B::fill_uniform(n, rng, v, v, y) } -> std::same_as<void>;
  { B::fill_normal(n, rng, v, v, y) } -> std::same_as<void>;
};
template <class B, class T>
concept backend_packed_gemm_of = requires(bool t, index_t n, T s, const T* a, T* c) {
  B::gemm_packed(t, n, s, a, n, B::pack_b(t, n, n, a, n), s, c, n);
};
}  // namespace detail

// --- the layers of the contract (each for float and double) ------------------------------
// Identity and memory: name(), a compile-time host_accessible, allocate / deallocate, byte
// copies within the backend and to / from host memory.
template <class B>
concept BackendMemory = requires(std::size_t bytes, void* dst, const void* src) {
  { B::name() } -> std::convertible_to<std::string_view>;
  { B::host_accessible } -> std::convertible_to<bool>;
  typename std::bool_constant<B::host_accessible>;  // usable in if constexpr
  { B::allocate(bytes) } -> std::same_as<void*>;
  { B::deallocate(dst, bytes) } -> std::same_as<void>;
  { B::copy(dst, src, bytes) } -> std::same_as<void>;
  { B::copy_to_host(dst, src, bytes) } -> std::same_as<void>;
  { B::copy_from_host(dst, src, bytes) } -> std::same_as<void>;
};
// map / zip / zip3 with a functor, fill.
template <class B>
concept BackendElementwise = detail::backend_elementwise_of<B, float> && detail::backend_elementwise_of<B, double>;
// sum, dot, row_sum, col_sum (optionally accumulating), softmax / log-softmax / layer norm by rows.
template <class B>
concept BackendReductions = detail::backend_reductions_of<B, float> && detail::backend_reductions_of<B, double>;
// gemm, gemm_batched, gemv.
template <class B>
concept BackendGemm = detail::backend_gemm_of<B, float> && detail::backend_gemm_of<B, double>;
// The index-computed kernels that replace host loops on a backend whose memory the CPU may not
// touch: generate(n, y, f) (y[i] = f(i)), for_each(n, f) (f(i)), strided_copy between views.
// Required when host_accessible is false (the library calls them only then).
template <class B>
concept BackendIndexLoops =
    detail::backend_index_loops_of<B, float> && detail::backend_index_loops_of<B, double> && requires(index_t n) {
      { B::for_each(n, detail::backend_index_action_probe{}) } -> std::same_as<void>;
    };

// What the library calls on every backend B of a Tensor<T, B>.
template <class B>
concept Backend = BackendMemory<B> && BackendElementwise<B> && BackendReductions<B> && BackendGemm<B> &&
                  (B::host_accessible || BackendIndexLoops<B>);

// --- optional refinements: members some backends have and the library uses when present ----
// Batched real FFTs (rfft: rows of n reals to n/2 + 1 bins; irfft_unnormalized: the inverse
// without 1/n): the CUDA backend and its Thrust twins. The CPU's FFTs are free functions
// (backend/cpu/fft.hpp).
template <class B>
concept BackendFft = Backend<B> && detail::backend_fft_of<B, float> && detail::backend_fft_of<B, double>;
// Philox fills on the backend's side, element i of the stream as on the CPU (Tensor::uniform /
// normal use them when present and fill on the host otherwise).
template <class B>
concept BackendRng = Backend<B> && detail::backend_rng_of<B, float> && detail::backend_rng_of<B, double>;
// A GEMM operand packed once for many products (pack_b / gemm_packed: cpu::simd): the recurrent
// kernels pack their weights when present (nn/detail/recurrent_kernels.hpp).
template <class B>
concept BackendPackedGemm =
    Backend<B> && detail::backend_packed_gemm_of<B, float> && detail::backend_packed_gemm_of<B, double>;
// A host SIMD backend naming its xsimd architecture (B::arch: cpu::simd): the recurrent gate
// kernels and ddsp::Streamer use it.
template <class B>
concept BackendSimd = Backend<B> && B::host_accessible && requires { typename B::arch; };

// Scalar types a tensor may hold.
template <class T>
concept Scalar = std::same_as<T, float> || std::same_as<T, double>;

}  // namespace fugue
