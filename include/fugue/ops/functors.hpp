// fugue/ops/functors.hpp — the named elementwise functors of fugue::ops, portable across backends.
//
// Contract: each functor in fugue::fn is callable with T (float or double) on the host and
// in CUDA device code (FUGUE_HOST_DEVICE), and with xsimd batches on the host, so the same
// object drives cpu::simd's vector kernels and the CUDA backend's Thrust transforms.
// Scalars use <cmath>; batches use xsimd's vector math (exactly what the CPU kernels used
// before these existed). The batch overloads are host-only: nvcc must never see an xsimd
// register type in device code. Stateful ones (scale_by, add_value) hold their constant.
#pragma once

#include <cmath>
#include <type_traits>

#include <xsimd/xsimd.hpp>

#include "fugue/core/host_device.hpp"

namespace fugue::fn {

template <class V>
concept arithmetic = std::is_arithmetic_v<V>;
template <class V>
concept simd_batch = !std::is_arithmetic_v<V>;

// Defines `name` with a scalar (host + device) and a batch (host) overload of the same body.
#define FUGUE_FN_UNARY(name, scalar_body, batch_body) \
  struct name {                                       \
    template <arithmetic V>                           \
    FUGUE_HOST_DEVICE V operator()(V x) const {       \
      return scalar_body;                             \
    }                                                 \
    template <simd_batch V>                           \
    V operator()(const V& x) const {                  \
      return batch_body;                              \
    }                                                 \
  };
#define FUGUE_FN_BINARY(name, body)                  \
  struct name {                                      \
    template <arithmetic V>                          \
    FUGUE_HOST_DEVICE V operator()(V x, V y) const { \
      return body;                                   \
    }                                                \
    template <simd_batch V>                          \
    V operator()(const V& x, const V& y) const {     \
      return body;                                   \
    }                                                \
  };

FUGUE_FN_BINARY(add, x + y)
FUGUE_FN_BINARY(sub, x - y)
FUGUE_FN_BINARY(mul, x* y)
FUGUE_FN_BINARY(div, x / y)
FUGUE_FN_UNARY(neg, -x, -x)
FUGUE_FN_UNARY(square, x* x, x* x)
FUGUE_FN_UNARY(exp, std::exp(x), xsimd::exp(x))
FUGUE_FN_UNARY(log, std::log(x), xsimd::log(x))
FUGUE_FN_UNARY(sqrt, std::sqrt(x), xsimd::sqrt(x))
FUGUE_FN_UNARY(tanh, std::tanh(x), xsimd::tanh(x))
#undef FUGUE_FN_UNARY
#undef FUGUE_FN_BINARY

// 0.5 * (1 + tanh(x / 2)): stable for large |x| in both directions.
template <class T>
struct sigmoid {
  template <arithmetic V>
  FUGUE_HOST_DEVICE V operator()(V x) const {
    return T(0.5) + T(0.5) * std::tanh(T(0.5) * x);
  }
  template <simd_batch V>
  V operator()(const V& x) const {
    return T(0.5) + T(0.5) * xsimd::tanh(T(0.5) * x);
  }
};
// std::max(x, 0) semantics: NaN stays NaN.
template <class T>
struct relu {
  template <arithmetic V>
  FUGUE_HOST_DEVICE V operator()(V x) const {
    return x < T(0) ? T(0) : x;
  }
  template <simd_batch V>
  V operator()(const V& x) const {
    return xsimd::max(x, V(T(0)));
  }
};
template <class T>
struct scale_by {
  T s;
  template <arithmetic V>
  FUGUE_HOST_DEVICE V operator()(V x) const {
    return x * s;
  }
  template <simd_batch V>
  V operator()(const V& x) const {
    return x * s;
  }
};
template <class T>
struct add_value {
  T s;
  template <arithmetic V>
  FUGUE_HOST_DEVICE V operator()(V x) const {
    return x + s;
  }
  template <simd_batch V>
  V operator()(const V& x) const {
    return x + s;
  }
};

}  // namespace fugue::fn
