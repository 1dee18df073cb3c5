// fugue/nn/activation.hpp — elementwise activation layers (Tanh, Sigmoid, ReLU, LeakyReLU, Identity).
//
// Contract: Activation<Fn> maps any shape to the same shape, y = Fn(x) elementwise,
// with no parameters. Fn provides f(v) and df(x, y) = dy/dx for both T and the
// backend's SIMD batch (fugue's own: a FUGUE_HOST_DEVICE scalar overload too, so they run
// on cuda::device). operator()(tape, x) records one node named Fn::op_name
// (all listed in activation_op_names and gradchecked in tests/nn_recurrent);
// forward(x) is the tape-free path. Static extents pass through unchanged
// (input_extent = dyn, output_extent_for<X> = X), so activations compose in
// nn::Sequential between any two layers. LeakyReLU's default slope is 0.2
// (tf.nn.leaky_relu, DDSP's fc stacks).
#pragma once

#include <array>
#include <string_view>

#include <xsimd/xsimd.hpp>

#include "fugue/autodiff/tape.hpp"
#include "fugue/autodiff/registry.hpp"
#include "fugue/core/lanes.hpp"
#include "fugue/core/extents.hpp"

FUGUE_AD_OP(nn_identity)
FUGUE_AD_OP(nn_tanh)
FUGUE_AD_OP(nn_sigmoid)
FUGUE_AD_OP(nn_relu)
FUGUE_AD_OP(nn_leaky_relu)

namespace fugue::nn {

namespace act {
// f(x) and df(x, y) written once each: a scalar overload callable in CUDA device code and an
// xsimd-batch one for the CPU kernels (as FUGUE_PORTABLE_OP*, core/host_device.hpp).
#define FUGUE_ACT_F(x, ...)             \
  template <::fugue::portable_scalar V> \
  FUGUE_HOST_DEVICE V f(V x) const {    \
    return __VA_ARGS__;                 \
  }                                     \
  template <::fugue::portable_batch V>  \
  V f(const V& x) const {               \
    return __VA_ARGS__;                 \
  }
#define FUGUE_ACT_DF(x, y, ...)                                              \
  template <::fugue::portable_scalar V>                                      \
  FUGUE_HOST_DEVICE V df([[maybe_unused]] V x, [[maybe_unused]] V y) const { \
    return __VA_ARGS__;                                                      \
  }                                                                          \
  template <::fugue::portable_batch V>                                       \
  V df([[maybe_unused]] const V& x, [[maybe_unused]] const V& y) const {     \
    return __VA_ARGS__;                                                      \
  }

struct Identity {
  static constexpr const char* op_name = "nn_identity";
  FUGUE_ACT_F(x, x)
  FUGUE_ACT_DF(x, y, lane::k<V>(1))
};
struct Tanh {
  static constexpr const char* op_name = "nn_tanh";
  FUGUE_ACT_F(x, lane::tanh(x))
  FUGUE_ACT_DF(x, y, lane::k<V>(1) - y * y)
};
struct Sigmoid {
  static constexpr const char* op_name = "nn_sigmoid";
  FUGUE_ACT_F(x, lane::sigmoid(x))
  FUGUE_ACT_DF(x, y, y*(lane::k<V>(1) - y))
};
struct ReLU {
  static constexpr const char* op_name = "nn_relu";
  FUGUE_ACT_F(x, lane::select(x >= lane::k<V>(0), x, lane::k<V>(0)))
  FUGUE_ACT_DF(x, y, lane::select(x >= lane::k<V>(0), lane::k<V>(1), lane::k<V>(0)))
};
struct LeakyReLU {
  static constexpr const char* op_name = "nn_leaky_relu";
  double slope = 0.2;
  FUGUE_ACT_F(x, lane::select(x >= lane::k<V>(0), x, lane::k<V>(slope) * x))
  FUGUE_ACT_DF(x, y, lane::select(x >= lane::k<V>(0), lane::k<V>(1), lane::k<V>(slope)))
};
#undef FUGUE_ACT_F
#undef FUGUE_ACT_DF

// Adaptors for B::map / B::zip3: y = fn.f(x) and dx = g * fn.df(x, y), for every backend.
// (A user's Fn with host-only f / df still works on host backends: the device check is off
// for these templates.)
template <class Fn>
struct forward_of {
  Fn fn;
  FUGUE_HD_TEMPLATE template <::fugue::portable_scalar V>
  FUGUE_HOST_DEVICE V operator()(V x) const {
    return fn.f(x);
  }
  template <::fugue::portable_batch V>
  V operator()(const V& x) const {
    return fn.f(x);
  }
};
template <class Fn>
struct backward_of {
  Fn fn;
  FUGUE_HD_TEMPLATE template <::fugue::portable_scalar V>
  FUGUE_HOST_DEVICE V operator()(V g, V x, V y) const {
    return g * fn.df(x, y);
  }
  template <::fugue::portable_batch V>
  V operator()(const V& g, const V& x, const V& y) const {
    return g * fn.df(x, y);
  }
};
}  // namespace act

inline constexpr std::array<const char*, 5> activation_op_names = {"nn_identity", "nn_tanh", "nn_sigmoid", "nn_relu",
                                                                   "nn_leaky_relu"};

// y = fn(x) as one tape node with backward dx = g * fn.df(x, y).
template <class Fn, class T, class B>
ad::Var<T, B> activation_op(ad::Tape<T, B>& tape, const ad::Var<T, B>& x, Fn fn = {}) {
  const Tensor<T, B> xv = x.value().contiguous();
  auto y = Tensor<T, B>::empty(xv.shape());
  B::map(xv.numel(), xv.data(), y.data(), act::forward_of<Fn>{fn});
  Tensor<T, B> yv = y;
  return tape.record(
      std::move(y), {x},
      [fn, xv, yv](const Tensor<T, B>& g, ad::GradSink<T, B>& sink) {
        auto dx = Tensor<T, B>::empty(xv.shape());
        B::zip3(xv.numel(), g.data(), xv.data(), yv.data(), dx.data(), act::backward_of<Fn>{fn});
        sink.accumulate(0, dx);
      },
      Fn::op_name);
}

template <class Fn>
class Activation {
 public:
  static constexpr index_t input_extent = dyn;
  template <index_t X>
  static constexpr index_t output_extent_for = X;

  explicit Activation(Fn fn = {}) : fn_(fn) {}

  template <class T, class B>
  ad::Var<T, B> operator()(ad::Tape<T, B>& tape, const ad::Var<T, B>& x) const {
    return activation_op(tape, x, fn_);
  }
  template <class T, class B>
  Tensor<T, B> forward(const Tensor<T, B>& x) const {
    const Tensor<T, B> xc = x.contiguous();
    auto y = Tensor<T, B>::empty(xc.shape());
    B::map(xc.numel(), xc.data(), y.data(), act::forward_of<Fn>{fn_});
    return y;
  }
  template <class F>
  void visit_parameters(F&&, std::string_view = {}) {}

  const Fn& fn() const noexcept { return fn_; }

 private:
  Fn fn_;
};

using Identity = Activation<act::Identity>;
using Tanh = Activation<act::Tanh>;
using Sigmoid = Activation<act::Sigmoid>;
using ReLU = Activation<act::ReLU>;
using LeakyReLU = Activation<act::LeakyReLU>;

}  // namespace fugue::nn
