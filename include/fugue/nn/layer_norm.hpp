// fugue/nn/layer_norm.hpp — layer normalisation over the last axis.
//
// Contract:
//  * x [..., N] -> same shape; y = (x - mean) / sqrt(var + eps) * weight + bias with the
//    biased variance over the last axis (torch.nn.LayerNorm with normalized_shape = [N]).
//  * Parameters (torch names): "weight" [N] (init 1), "bias" [N] (init 0); both absent when
//    options.elementwise_affine is false. eps defaults to 1e-5 (torch); tensor2tensor uses 1e-6.
//  * operator()(tape, x) records one node (detail::layer_norm_op: ops::layer_norm forward, exact
//    hand-written backward); forward(x) is ops::layer_norm. A last axis other than N throws
//    fugue::error.
#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include "fugue/autodiff/parameter.hpp"
#include "fugue/autodiff/registry.hpp"
#include "fugue/autodiff/tape.hpp"
#include "fugue/nn/module.hpp"
#include "fugue/ops.hpp"

FUGUE_AD_OP(nn_layer_norm)

namespace fugue::nn {

namespace detail {
// One node: y = layer_norm(x) * gamma + beta over the last axis, exact backward
// (dx = rstd * (g - mean(g) - xhat * mean(g * xhat)), g = dy * gamma).
template <class T, class B>
ad::Var<T, B> layer_norm_op(ad::Tape<T, B>& tape, const ad::Var<T, B>& x, const std::optional<ad::Var<T, B>>& gamma,
                            const std::optional<ad::Var<T, B>>& beta, T eps) {
  Tensor<T, B> xv = x.value().contiguous();
  Tensor<T, B> gv = gamma ? gamma->value().contiguous() : Tensor<T, B>{};
  Tensor<T, B> bv = beta ? beta->value().contiguous() : Tensor<T, B>{};
  Tensor<T, B> mean, rstd;
  Tensor<T, B> y = ops::layer_norm(xv, gamma ? &gv : nullptr, beta ? &bv : nullptr, eps, &mean, &rstd);
  auto bw = [=, has_g = bool(gamma), has_b = bool(beta)](const Tensor<T, B>& gy, auto& sink) {
    const index_t n = xv.dim(-1), rows = n ? xv.numel() / n : 0;
    const T* xp = xv.data();
    const T* dy = gy.data();
    const T* mu = mean.data();
    const T* rs = rstd.data();
    std::vector<T> dg(std::size_t(has_g ? n : 0), T(0)), db(std::size_t(has_b ? n : 0), T(0));
    std::vector<T> g(static_cast<std::size_t>(n));
    const bool want_x = sink.needs(0);
    auto dx = want_x ? Tensor<T, B>::empty(xv.shape()) : Tensor<T, B>{};
    for (index_t r = 0; r < rows; ++r) {
      const T* xr = xp + r * n;
      const T* d = dy + r * n;
      T s1 = 0, s2 = 0;  // sums of g and g * xhat
      for (index_t j = 0; j < n; ++j) {
        const T xh = (xr[j] - mu[r]) * rs[r];
        if (has_g) dg[std::size_t(j)] += d[j] * xh;
        if (has_b) db[std::size_t(j)] += d[j];
        const T gj = has_g ? d[j] * gv.data()[j] : d[j];
        g[std::size_t(j)] = gj;
        s1 += gj;
        s2 += gj * xh;
      }
      if (!want_x) continue;
      s1 /= T(n);
      s2 /= T(n);
      T* o = dx.data() + r * n;
      for (index_t j = 0; j < n; ++j) o[j] = rs[r] * (g[std::size_t(j)] - s1 - (xr[j] - mu[r]) * rs[r] * s2);
    }
    if (want_x) sink.accumulate(0, dx);
    int k = 1;
    if (has_g) {
      if (sink.needs(k)) sink.accumulate(k, Tensor<T, B>::from(dg, Shape{n}));
      ++k;
    }
    if (has_b && sink.needs(k)) sink.accumulate(k, Tensor<T, B>::from(db, Shape{n}));
  };
  if (gamma && beta) return tape.record(std::move(y), {x, *gamma, *beta}, std::move(bw), "nn_layer_norm");
  if (gamma) return tape.record(std::move(y), {x, *gamma}, std::move(bw), "nn_layer_norm");
  if (beta) return tape.record(std::move(y), {x, *beta}, std::move(bw), "nn_layer_norm");
  return tape.record(std::move(y), {x}, std::move(bw), "nn_layer_norm");
}
}  // namespace detail

struct LayerNormOptions {
  index_t normalized_size = 0;
  double eps = 1e-5;
  bool elementwise_affine = true;
};

template <Scalar T, Backend B = cpu::native, index_t N = dyn>
class LayerNorm {
 public:
  using tensor_type = Tensor<T, B>;
  using var_type = ad::Var<T, B>;
  double eps() const noexcept { return o_.eps; }
  explicit LayerNorm(LayerNormOptions o) : o_(o) {
    if (N != dyn && o_.normalized_size == 0) o_.normalized_size = N;
    FUGUE_CHECK(N == dyn || o_.normalized_size == N, "LayerNorm: size ", o_.normalized_size, " but the type says ", N);
    FUGUE_CHECK(o_.normalized_size > 0 && o_.eps > 0, "LayerNorm: invalid size ", o_.normalized_size, " or eps ",
                o_.eps);
    if (o_.elementwise_affine) {
      weight.value = tensor_type::ones({o_.normalized_size});
      bias.value = tensor_type::zeros({o_.normalized_size});
    }
  }
  const LayerNormOptions& options() const noexcept { return o_; }

  var_type operator()(ad::Tape<T, B>& tape, const var_type& x) {
    check(x.shape());
    if (!o_.elementwise_affine) return detail::layer_norm_op<T, B>(tape, x, std::nullopt, std::nullopt, T(o_.eps));
    return detail::layer_norm_op<T, B>(tape, x, tape.param(weight), tape.param(bias), T(o_.eps));
  }
  tensor_type forward(const tensor_type& x) const {
    check(x.shape());
    return o_.elementwise_affine ? ops::layer_norm(x, &weight.value, &bias.value, T(o_.eps))
                                 : ops::layer_norm(x, nullptr, nullptr, T(o_.eps));
  }
  template <class F>
  void visit_parameters(F&& f, std::string_view prefix = {}) {
    if (!o_.elementwise_affine) return;
    f(join_name(prefix, "weight"), weight);
    f(join_name(prefix, "bias"), bias);
  }

  ad::Parameter<T, B> weight, bias;

 private:
  void check(const Shape& s) const {
    FUGUE_CHECK(s.rank() >= 1 && s[-1] == o_.normalized_size, "LayerNorm: input of shape ", s.str(),
                ", expected last axis ", o_.normalized_size);
  }
  LayerNormOptions o_;
};

}  // namespace fugue::nn
