// fugue/core/host_device.hpp — marking code callable from CUDA device code.
//
// Contract: FUGUE_HOST_DEVICE is `__host__ __device__` under nvcc and nothing otherwise.
// FUGUE_HD_TEMPLATE goes before a FUGUE_HOST_DEVICE function template that may be
// instantiated with host-only callables on the host; it silences nvcc's host/device call
// check there (Thrust does the same).
// Elementwise functors serve two worlds: the CPU kernels call them with xsimd batches, the
// CUDA backend calls them with scalars on the device. nvcc compiles a __host__ __device__
// template for the device whenever it is instantiated, and an xsimd register type cannot go
// there, so each functor has two overloads with one body:
//   FUGUE_PORTABLE_OP1(x, expr)        operator()(x)        -> expr
//   FUGUE_PORTABLE_OP2(a, b, expr)     operator()(a, b)     -> expr
//   FUGUE_PORTABLE_OP3(a, b, c, expr)  operator()(a, b, c)  -> expr
// the scalar one FUGUE_HOST_DEVICE, the batch one host-only; V names the argument type in expr.
// Free functions with several results (the recurrent cells, the oscillator bank) do the same:
//   FUGUE_PORTABLE_FN(name, result_type, (V a, V b, ...), statements...)
// defines `template <V> result_type name(V a, V b, ...) { statements }` twice, scalar and batch.
// Helpers called from expr come in the same two flavours (fugue::lane, core/lanes.hpp).
#pragma once

#include <type_traits>

#if defined(__CUDACC__)
#define FUGUE_HOST_DEVICE __host__ __device__
#define FUGUE_HD_TEMPLATE _Pragma("nv_exec_check_disable")
#else
#define FUGUE_HOST_DEVICE
#define FUGUE_HD_TEMPLATE
#endif

namespace fugue {
template <class V>
concept portable_scalar = std::is_arithmetic_v<V>;
template <class V>
concept portable_batch = !std::is_arithmetic_v<V>;
}  // namespace fugue

#define FUGUE_PORTABLE_FN(name, result, params, ...) \
  template <::fugue::portable_scalar V>              \
  FUGUE_HOST_DEVICE inline result name params {      \
    __VA_ARGS__                                      \
  }                                                  \
  template <::fugue::portable_batch V>               \
  inline result name params {                        \
    __VA_ARGS__                                      \
  }
#define FUGUE_PORTABLE_OP1(x, ...)            \
  template <::fugue::portable_scalar V>       \
  FUGUE_HOST_DEVICE V operator()(V x) const { \
    return __VA_ARGS__;                       \
  }                                           \
  template <::fugue::portable_batch V>        \
  V operator()(const V& x) const {            \
    return __VA_ARGS__;                       \
  }
#define FUGUE_PORTABLE_OP2(a, b, ...)              \
  template <::fugue::portable_scalar V>            \
  FUGUE_HOST_DEVICE V operator()(V a, V b) const { \
    return __VA_ARGS__;                            \
  }                                                \
  template <::fugue::portable_batch V>             \
  V operator()(const V& a, const V& b) const {     \
    return __VA_ARGS__;                            \
  }
#define FUGUE_PORTABLE_OP3(a, b, c, ...)                   \
  template <::fugue::portable_scalar V>                    \
  FUGUE_HOST_DEVICE V operator()(V a, V b, V c) const {    \
    return __VA_ARGS__;                                    \
  }                                                        \
  template <::fugue::portable_batch V>                     \
  V operator()(const V& a, const V& b, const V& c) const { \
    return __VA_ARGS__;                                    \
  }
