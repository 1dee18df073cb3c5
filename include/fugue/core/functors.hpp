// fugue/core/functors.hpp — the named elementwise functors: fugue's one functor namespace.
//
// Contract: every functor in fugue::fn is callable with a T (float or double) and with an
// xsimd::batch<T, Arch>, so one object serves the SIMD body and the scalar tail of the CPU
// kernels (cpu::kernels::map / zip / zip3); the T overloads are also __host__ __device__ under
// nvcc (FUGUE_PORTABLE_OP*, core/host_device.hpp), so the CUDA backend's Thrust transforms run
// the same objects. Bodies are written in the lane vocabulary of core/lanes.hpp (its accuracy
// statement applies). The forward and backward rules of the differentiable ops live in the same
// namespace (autodiff/ops/grad_functors.hpp). Stable forms beyond lanes.hpp's:
//   exp_sigmoid(x) = max_value * sigmoid(x)^ln(exponent) + threshold   (DDSP core.exp_sigmoid,
//                    defaults 10, 2, 1e-7), evaluated as
//                    max_value * exp(-ln(exponent) * softplus(-x)) + threshold
//   gelu_tanh(x)   = 0.5 x (1 + tanh(u)) = x * sigmoid(2u),  u = sqrt(2/pi) (x + 0.044715 x^3)
//   gelu_erf(x)    = 0.5 x (1 + erf(x/sqrt2)) = 0.5 x erfc(-x/sqrt2)
//   silu(x)        = x * sigmoid(x)
// rsqrt is the exact 1/sqrt(x), not the hardware estimate (xsimd 8.1's AVX-512 rsqrt needs
// AVX-512ER, and the AVX one has only 12 bits). relu keeps NaN (max(NaN, 0) is NaN).
#pragma once

#include <cmath>

#include "fugue/core/host_device.hpp"
#include "fugue/core/lanes.hpp"

namespace fugue::fn {

// --- unary ---------------------------------------------------------------------
// Every functor: FUGUE_PORTABLE_OP* (core/host_device.hpp) = a scalar overload for host and
// device, a batch overload for the SIMD kernels, one body.
struct identity {
  FUGUE_PORTABLE_OP1(x, x)
};
struct neg {
  FUGUE_PORTABLE_OP1(x, -x)
};
struct exp {
  FUGUE_PORTABLE_OP1(x, lane::exp(x))
};
struct log {
  FUGUE_PORTABLE_OP1(x, lane::log(x))
};
struct sqrt {
  FUGUE_PORTABLE_OP1(x, lane::sqrt(x))
};
struct rsqrt {
  FUGUE_PORTABLE_OP1(x, lane::k<V>(1) / lane::sqrt(x))
};
struct square {
  FUGUE_PORTABLE_OP1(x, x* x)
};
struct abs {
  FUGUE_PORTABLE_OP1(x, lane::abs(x))
};
struct tanh {
  FUGUE_PORTABLE_OP1(x, lane::tanh(x))
};
struct sigmoid {
  FUGUE_PORTABLE_OP1(x, lane::sigmoid(x))
};
struct relu {
  FUGUE_PORTABLE_OP1(x, lane::max(x, lane::k<V>(0)))
};
struct softplus {
  FUGUE_PORTABLE_OP1(x, lane::softplus(x))
};

// DDSP's core.exp_sigmoid: max_value * sigmoid(x)^ln(exponent) + threshold, evaluated as
// max_value * exp(-p * softplus(-x)) + threshold with p = ln(exponent).
struct exp_sigmoid {
  double log_exponent, max_value, threshold;
  explicit exp_sigmoid(double exponent = 10.0, double max_value_ = 2.0, double threshold_ = 1e-7)
      : log_exponent(std::log(exponent)), max_value(max_value_), threshold(threshold_) {}
  FUGUE_PORTABLE_OP1(x, lane::fma(lane::k<V>(max_value), lane::exp(-lane::k<V>(log_exponent) * lane::softplus(-x)),
                                  lane::k<V>(threshold)))
};

// g * d exp_sigmoid(x) / dx, given s = exp_sigmoid(x): g ln(exponent) (s - threshold) sigmoid(-x).
struct exp_sigmoid_grad {
  double log_exponent, threshold;
  explicit exp_sigmoid_grad(double exponent = 10.0, double threshold_ = 1e-7)
      : log_exponent(std::log(exponent)), threshold(threshold_) {}
  FUGUE_PORTABLE_OP3(g, x, s, g* lane::k<V>(log_exponent) * (s - lane::k<V>(threshold)) * lane::sigmoid(-x))
};

// GELU, tanh approximation (PyTorch approximate="tanh"), as x * sigmoid(2u).
struct gelu_tanh {
  FUGUE_PORTABLE_OP1(x, x* lane::sigmoid(lane::k<V>(2 * 0.7978845608028654) *
                                         lane::fma(lane::k<V>(0.044715) * x, x* x, x)))
};

// GELU, exact erf form (PyTorch's default), as 0.5 x erfc(-x/sqrt2).
struct gelu_erf {
  FUGUE_PORTABLE_OP1(x, lane::k<V>(0.5) * x * lane::erfc(x * lane::k<V>(-0.7071067811865476)))
};
using gelu = gelu_erf;

struct silu {
  FUGUE_PORTABLE_OP1(x, x* lane::sigmoid(x))
};

// --- binary --------------------------------------------------------------------
struct add {
  FUGUE_PORTABLE_OP2(a, b, a + b)
};
struct sub {
  FUGUE_PORTABLE_OP2(a, b, a - b)
};
struct mul {
  FUGUE_PORTABLE_OP2(a, b, a* b)
};
struct div {
  FUGUE_PORTABLE_OP2(a, b, a / b)
};
struct max {
  FUGUE_PORTABLE_OP2(a, b, lane::max(a, b))
};
struct min {
  FUGUE_PORTABLE_OP2(a, b, lane::min(a, b))
};

// --- ternary -------------------------------------------------------------------
// fma(a, b, c) = a * b + c (fused in the SIMD body).
struct fma {
  FUGUE_PORTABLE_OP3(a, b, c, lane::fma(a, b, c))
};

// --- with a constant ------------------------------------------------------------
template <class T>
struct scale_by {
  T s;
  FUGUE_PORTABLE_OP1(x, x* lane::k<V>(s))
};
template <class T>
struct add_value {
  T s;
  FUGUE_PORTABLE_OP1(x, x + lane::k<V>(s))
};

}  // namespace fugue::fn
