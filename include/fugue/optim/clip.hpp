// fugue/optim/clip.hpp — gradient clipping by global norm.
//
// Contract:
//  * Parameters are given as any range of ad::Parameter pointers or of (name, pointer)
//    pairs (what nn::named_parameters returns). Parameters without a gradient are skipped.
//  * grad_global_norm(params): sqrt of the sum of squares of every gradient element,
//    accumulated in double (what torch's clip_grad_norm_ and tf.global_norm compute up to
//    float rounding). NaN if any gradient is NaN, +inf if any is infinite.
//  * clip_grad_norm(params, max_norm): torch.nn.utils.clip_grad_norm_ (norm_type 2):
//    scale = min(max_norm / (norm + 1e-6), 1); every gradient is multiplied by scale
//    when scale < 1 (a non-finite norm scales by 0 or NaN, as torch does, unless
//    error_if_nonfinite). Returns the norm before clipping.
//  * clip_grad_norm_tf(params, clip_norm): tf.clip_by_global_norm:
//    scale = clip_norm * min(1 / norm, 1 / clip_norm).
//  * clip_grad_norm_or_zero(params, clip_norm, zero_threshold): MusicVAE's rule
//    (magenta base_model.py, clip_mode 'global_norm', grad_norm_clip_to_zero): if
//    norm < zero_threshold, clip_by_global_norm to clip_norm; otherwise (norm >= threshold,
//    or NaN/inf) every gradient is set to zero. Note that an Adam step with zero gradients
//    still moves the parameters by the decayed first moment, exactly as in TensorFlow.
#pragma once

#include <cmath>
#include <concepts>
#include <limits>
#include <type_traits>
#include <utility>

#include "fugue/autodiff/parameter.hpp"
#include "fugue/optim/optimizer.hpp"

namespace fugue::optim {

namespace detail {
template <class E>
auto* param_ptr(E&& e) {
  if constexpr (requires { e.second; })
    return e.second;
  else
    return e;
}

template <class Range, class F>
void for_each_grad(Range&& params, F&& f) {
  for (auto&& e : params) {
    auto* p = param_ptr(e);
    if (p && p->grad.defined()) f(p->grad);
  }
}

template <Scalar T, Backend B>
void scale_tensor(Tensor<T, B>& g, T s) {
  HostSpan<T, B> h(g);
  T* d = h.data();
  for (index_t k = 0, n = g.numel(); k < n; ++k) d[k] = d[k] * s;
  h.commit();
}
}  // namespace detail

template <class Range>
double grad_global_norm(Range&& params) {
  // Read in place (no copy of every gradient), four double accumulators per tensor so the
  // additions pipeline; the tensors' partial sums are added in order.
  double sum = 0;
  detail::for_each_grad(params, [&](auto& g) {
    using T = typename std::remove_cvref_t<decltype(g)>::value_type;
    using Bk = typename std::remove_cvref_t<decltype(g)>::backend;
    detail::HostSpan<T, Bk> h(g);
    const T* d = h.data();
    const index_t n = g.numel();
    double a0 = 0, a1 = 0, a2 = 0, a3 = 0;
    index_t k = 0;
    for (; k + 4 <= n; k += 4) {
      a0 += double(d[k]) * double(d[k]);
      a1 += double(d[k + 1]) * double(d[k + 1]);
      a2 += double(d[k + 2]) * double(d[k + 2]);
      a3 += double(d[k + 3]) * double(d[k + 3]);
    }
    for (; k < n; ++k) a0 += double(d[k]) * double(d[k]);
    sum += (a0 + a1) + (a2 + a3);
  });
  return std::sqrt(sum);
}

struct ClipResult {
  double norm = 0;   // global norm before clipping
  double scale = 1;  // factor the gradients were multiplied by (0 when zeroed)
  bool zeroed = false;
  bool clipped() const noexcept { return scale != 1; }
};

template <class Range>
double clip_grad_norm(Range&& params, double max_norm, bool error_if_nonfinite = false) {
  FUGUE_CHECK(max_norm > 0, "clip_grad_norm: max_norm must be > 0, got ", max_norm);
  const double norm = grad_global_norm(params);
  FUGUE_CHECK(!error_if_nonfinite || std::isfinite(norm), "clip_grad_norm: the total gradient norm is ", norm);
  const double coef = max_norm / (norm + 1e-6);
  if (!(coef >= 1.0))  // also NaN
    detail::for_each_grad(params, [&](auto& g) {
      using T = typename std::remove_cvref_t<decltype(g)>::value_type;
      detail::scale_tensor(g, T(coef));
    });
  return norm;
}

template <class Range>
ClipResult clip_grad_norm_tf(Range&& params, double clip_norm) {
  FUGUE_CHECK(clip_norm > 0, "clip_grad_norm_tf: clip_norm must be > 0, got ", clip_norm);
  ClipResult r;
  r.norm = grad_global_norm(params);
  r.scale = clip_norm * std::min(1.0 / r.norm, 1.0 / clip_norm);
  if (std::isnan(r.norm)) r.scale = std::numeric_limits<double>::quiet_NaN();
  if (r.scale != 1)
    detail::for_each_grad(params, [&](auto& g) {
      using T = typename std::remove_cvref_t<decltype(g)>::value_type;
      detail::scale_tensor(g, T(r.scale));
    });
  return r;
}

template <class Range>
ClipResult clip_grad_norm_or_zero(Range&& params, double clip_norm, double zero_threshold) {
  FUGUE_CHECK(zero_threshold > 0, "clip_grad_norm_or_zero: zero_threshold must be > 0, got ", zero_threshold);
  const double norm = grad_global_norm(params);
  if (norm < zero_threshold) return clip_grad_norm_tf(params, clip_norm);
  detail::for_each_grad(params, [](auto& g) { g.fill(0); });
  return {norm, 0.0, true};
}

}  // namespace fugue::optim
