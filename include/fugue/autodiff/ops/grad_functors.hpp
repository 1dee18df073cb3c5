// fugue/autodiff/ops/grad_functors.hpp — the elementwise pieces of the differentiable ops.
//
// Contract: each struct here is one forward or backward elementwise rule of an op in
// fugue/autodiff/ops/*.hpp, written once with FUGUE_PORTABLE_OP* (core/host_device.hpp): a
// scalar overload that is __host__ __device__ under nvcc and an xsimd-batch overload for the
// CPU kernels. Arguments are named for what the op passes: g the upstream gradient, v the op's
// input, y its output. (nvcc allows no generic __host__ __device__ lambdas, hence structs.)
#pragma once

#include <cmath>

#include <xsimd/xsimd.hpp>

#include "fugue/core/functors.hpp"
#include "fugue/core/lanes.hpp"

namespace fugue::fn {

struct neg_mul {
  FUGUE_PORTABLE_OP2(a, b, -a* b)
};  // div, losses
struct half_over {
  FUGUE_PORTABLE_OP2(g, y, g* lane::k<V>(0.5) / y)
};  // sqrt
struct twice_mul {
  FUGUE_PORTABLE_OP2(g, v, lane::k<V>(2) * g * v)
};  // square, mse
struct sign_grad {
  FUGUE_PORTABLE_OP2(g, v, lane::select(v > lane::k<V>(0), g, lane::select(v < lane::k<V>(0), -g, lane::k<V>(0))))
};  // abs, l1
struct tanh_grad {
  FUGUE_PORTABLE_OP2(g, y, g*(lane::k<V>(1) - y * y))
};
struct sigmoid_grad {
  FUGUE_PORTABLE_OP2(g, y, g* y*(lane::k<V>(1) - y))
};
struct relu_grad {
  FUGUE_PORTABLE_OP2(g, v, lane::select(v > lane::k<V>(0), g, lane::k<V>(0)))
};
struct softplus_grad {
  FUGUE_PORTABLE_OP2(g, v, g* sigmoid{}(v))
};

// x^p (std::pow / xsimd::pow).
struct pow_by {
  double p;
  template <portable_scalar V>
  FUGUE_HOST_DEVICE V operator()(V x) const {
    return std::pow(x, V(p));
  }
  template <portable_batch V>
  V operator()(const V& x) const {
    return xsimd::pow(x, lane::k<V>(p));
  }
};
struct pow_grad {
  double p;
  FUGUE_PORTABLE_OP2(g, v, g* lane::k<V>(p) * pow_by{p - 1}(v))
};

template <class T>
struct clamp_to {
  T lo, hi;
  FUGUE_PORTABLE_OP1(v, min{}(max{}(v, lane::k<V>(lo)), lane::k<V>(hi)))
};
template <class T>
struct clamp_grad {
  T lo, hi;
  FUGUE_PORTABLE_OP2(g, v, lane::select((v >= lane::k<V>(lo)) & (v <= lane::k<V>(hi)), g, lane::k<V>(0)))
};

// where(mask, a, b) and its two gradients (mask first).
struct pick_where_nonzero {
  FUGUE_PORTABLE_OP3(c, x, y, lane::select(c != lane::k<V>(0), x, y))
};
struct keep_where_nonzero {
  FUGUE_PORTABLE_OP2(c, v, lane::select(c != lane::k<V>(0), v, lane::k<V>(0)))
};
struct keep_where_zero {
  FUGUE_PORTABLE_OP2(c, v, lane::select(c != lane::k<V>(0), lane::k<V>(0), v))
};

// Losses.
struct exp_mul_sub {
  FUGUE_PORTABLE_OP3(lp, ts, tv, exp{}(lp)*ts - tv)
};  // soft CE
struct bernoulli_log_loss {
  FUGUE_PORTABLE_OP2(x, tv, softplus{}(x)-tv* x)
};
struct bernoulli_grad {
  FUGUE_PORTABLE_OP3(x, tv, gv, (sigmoid{}(x)-tv) * gv)
};
struct gaussian_kl_terms {
  FUGUE_PORTABLE_OP2(m, s, lane::k<V>(0.5) * (m * m + s * s - lane::k<V>(1)) - log{}(s))
};
struct kl_sigma_grad {
  FUGUE_PORTABLE_OP2(s, gv, (s - lane::k<V>(1) / s) * gv)
};

// Row rules of softmax / log-softmax / layer norm (constants of the row captured by value).
template <class T>
struct softmax_row_grad {
  T dot_gy;
  FUGUE_PORTABLE_OP2(g, y, (g - lane::k<V>(dot_gy)) * y)
};
template <class T>
struct log_softmax_row_grad {
  T sum_g;
  FUGUE_PORTABLE_OP2(g, y, g - exp{}(y)*lane::k<V>(sum_g))
};
template <class T>
struct normalize_row {
  T mean, rstd;
  FUGUE_PORTABLE_OP1(v, (v - lane::k<V>(mean)) * lane::k<V>(rstd))
};
template <class T>
struct layer_norm_row_grad {
  T mean_h, mean_hx, rstd;
  FUGUE_PORTABLE_OP2(h, xhat, (h - lane::k<V>(mean_h) - xhat * lane::k<V>(mean_hx)) * lane::k<V>(rstd))
};

}  // namespace fugue::fn
