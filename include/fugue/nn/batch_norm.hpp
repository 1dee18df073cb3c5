// fugue/nn/batch_norm.hpp — batch normalisation over the channel axis (axis 1).
//
// Contract:
//  * input [B, C], [B, C, T] or [B, C, H, W]; statistics per channel over every other axis
//    (M = B * T or B * H * W values per channel). Output has the input's shape.
//  * train mode (default): y = (x - mean_b) / sqrt(var_b + eps) * weight + bias with the batch
//    mean and *biased* batch variance; the running statistics are then updated as torch does:
//    running_mean = (1 - momentum) * running_mean + momentum * mean_b,
//    running_var  = (1 - momentum) * running_var  + momentum * var_b * M / (M - 1) (unbiased),
//    num_batches_tracked += 1. M must be > 1 in train mode (fugue::error otherwise, like torch).
//  * eval mode: y = (x - running_mean) / sqrt(running_var + eps) * weight + bias.
//  * Parameters (visit_parameters, torch names): "weight" [C] (when options.scale) and "bias" [C]
//    (when options.center). TF-slim's batch_norm(center=True, scale=False) as Onsets and Frames
//    uses is scale = false. TF "decay" d corresponds to momentum = 1 - d.
//  * Buffers (visit_buffers(f, prefix), f(name, Tensor<T, B>&), torch names): "running_mean" [C],
//    "running_var" [C], "num_batches_tracked" [] (a count stored as T; torch stores int64).
//    Buffers are state to save and load with the parameters but are never trained: checkpoint
//    code should call visit_parameters and visit_buffers.
//  * operator()(tape, x) records one fused op with a hand-written backward (train: through the
//    batch statistics; eval: an affine map). forward(x) is the tape-free path (uses the mode too,
//    and in train mode also updates the running statistics).
//  * Every backend: host backends loop; device backends run the same sums (one call per channel,
//    in the host loop's order, statistics in double) and the per-element maps as portable
//    functors (batch_norm_*_at) through B::for_each / B::generate. The C-length steps (running
//    statistics, 1 / sqrt(var + eps)) go through host copies (core/host_span.hpp).
#pragma once

#include <cmath>
#include <cstdint>
#include <utility>
#include <optional>
#include <string_view>
#include <vector>

#include "fugue/autodiff/parameter.hpp"
#include "fugue/autodiff/registry.hpp"
#include "fugue/autodiff/tape.hpp"
#include "fugue/core/host_device.hpp"
#include "fugue/core/host_span.hpp"
#include "fugue/core/extents.hpp"
#include "fugue/nn/module.hpp"

FUGUE_AD_OP(nn_batch_norm)

namespace fugue::nn {

struct BatchNormOptions {
  index_t num_features = 0;
  double eps = 1e-5;
  double momentum = 0.1;
  bool scale = true;   // learn weight (gamma)
  bool center = true;  // learn bias (beta)
  bool track_running_stats = true;
};

namespace detail {
// y = (x - mean) * rstd * gamma + beta
template <class T>
void batch_norm_apply(index_t n, index_t c, index_t s, const T* x, const T* mean, const T* rstd, const T* gamma,
                      const T* beta, T* y) {
  for (index_t i = 0; i < n; ++i)
    for (index_t ch = 0; ch < c; ++ch) {
      const T a = rstd[ch] * (gamma ? gamma[ch] : T(1));
      const T b = (beta ? beta[ch] : T(0)) - mean[ch] * a;
      const T* r = x + (i * c + ch) * s;
      T* o = y + (i * c + ch) * s;
      for (index_t k = 0; k < s; ++k) o[k] = r[k] * a + b;
    }
}

// One channel or one element per call (x, y viewed as [n, c, s], contiguous): the device path,
// and on host backends the statistics and gradient sums too (the same order either way).
template <class T>
struct batch_norm_stats_at {  // mean[ch], biased var[ch] of one channel (two passes, in double)
  index_t n, c, s;
  const T* x;
  T *mean, *var;
  FUGUE_HOST_DEVICE void operator()(std::uint64_t idx) const {
    const index_t ch = index_t(idx);
    const double m = double(n * s);
    double acc = 0;
    for (index_t i = 0; i < n; ++i)
      for (index_t k = 0; k < s; ++k) acc += x[(i * c + ch) * s + k];
    const double mu = acc / m;
    double sq = 0;
    for (index_t i = 0; i < n; ++i)
      for (index_t k = 0; k < s; ++k) {
        const double d = x[(i * c + ch) * s + k] - mu;
        sq += d * d;
      }
    mean[ch] = T(mu);
    var[ch] = T(sq / m);
  }
};
template <class T>
struct batch_norm_apply_at {  // y = (x - mean) * rstd * gamma + beta, as batch_norm_apply
  index_t c, s;
  const T *x, *mean, *rstd, *gamma, *beta;
  FUGUE_HOST_DEVICE T operator()(std::uint64_t idx) const {
    const index_t ch = (index_t(idx) / s) % c;
    const T a = rstd[ch] * (gamma ? gamma[ch] : T(1));
    const T b = (beta ? beta[ch] : T(0)) - mean[ch] * a;
    return x[idx] * a + b;
  }
};
template <class T>
struct batch_norm_grad_sums_at {  // sum dy and sum dy * xhat per channel, in the host's order
  index_t n, c, s;
  const T *x, *dy, *mean, *rstd;
  T *sum_dy, *sum_dy_xhat;
  FUGUE_HOST_DEVICE void operator()(std::uint64_t idx) const {
    const index_t k = index_t(idx);
    const T mu = mean[k], rs = rstd[k];
    T acc_dy = 0, acc_dx = 0;
    for (index_t i = 0; i < n; ++i) {
      const T* r = x + (i * c + k) * s;
      const T* d = dy + (i * c + k) * s;
      T a = 0, b2 = 0;
      for (index_t j = 0; j < s; ++j) {
        a += d[j];
        b2 += d[j] * (r[j] - mu) * rs;
      }
      acc_dy += a;
      acc_dx += b2;
    }
    sum_dy[k] = acc_dy;
    sum_dy_xhat[k] = acc_dx;
  }
};
template <class T>
struct batch_norm_dx_at {  // the input gradient (through the batch statistics when batch_stats)
  index_t c, s;
  T inv_m;
  bool batch_stats;
  const T *x, *dy, *mean, *rstd, *gamma, *sum_dy, *sum_dy_xhat;
  FUGUE_HOST_DEVICE T operator()(std::uint64_t idx) const {
    const index_t k = (index_t(idx) / s) % c;
    const T g = gamma ? gamma[k] : T(1), rs = rstd[k];
    if (!batch_stats) return g * rs * dy[idx];
    const T mdy = sum_dy[k] * inv_m, mdx = sum_dy_xhat[k] * inv_m;
    return g * rs * (dy[idx] - mdy - (x[idx] - mean[k]) * rs * mdx);
  }
};

template <class B, class T>
void batch_norm_stats_on(index_t n, index_t c, index_t s, const T* x, T* mean, T* var) {
  const batch_norm_stats_at<T> f{n, c, s, x, mean, var};
  if constexpr (B::host_accessible) {
    for (index_t ch = 0; ch < c; ++ch) f(std::uint64_t(ch));
  } else {
    B::for_each(c, f);
  }
}
template <class B, class T>
void batch_norm_apply_on(index_t n, index_t c, index_t s, const T* x, const T* mean, const T* rstd, const T* gamma,
                         const T* beta, T* y) {
  if constexpr (B::host_accessible)
    batch_norm_apply(n, c, s, x, mean, rstd, gamma, beta, y);
  else
    B::generate(n * c * s, y, batch_norm_apply_at<T>{c, s, x, mean, rstd, gamma, beta});
}
}  // namespace detail

template <Scalar T, Backend B = cpu::native, index_t C = dyn>
class BatchNorm {
 public:
  using tensor_type = Tensor<T, B>;
  using var_type = ad::Var<T, B>;
  explicit BatchNorm(BatchNormOptions o) : o_(o) {
    if (C != dyn && o_.num_features == 0) o_.num_features = C;
    FUGUE_CHECK(C == dyn || o_.num_features == C, "BatchNorm: num_features ", o_.num_features, " but the type says ",
                C);
    FUGUE_CHECK(o_.num_features > 0 && o_.eps > 0 && o_.momentum >= 0 && o_.momentum <= 1,
                "BatchNorm: invalid options (features ", o_.num_features, ", eps ", o_.eps, ", momentum ", o_.momentum,
                ")");
    if (o_.scale) weight.value = tensor_type::ones({o_.num_features});
    if (o_.center) bias.value = tensor_type::zeros({o_.num_features});
    running_mean = tensor_type::zeros({o_.num_features});
    running_var = tensor_type::ones({o_.num_features});
    num_batches_tracked = tensor_type::zeros(Shape{});
  }

  void train(bool on = true) noexcept { training_ = on; }
  void eval() noexcept { training_ = false; }
  bool training() const noexcept { return training_; }
  const BatchNormOptions& options() const noexcept { return o_; }

  var_type operator()(ad::Tape<T, B>& tape, const var_type& x) {
    const auto [n, c, s] = dims(x.shape());
    tensor_type xv = x.value().contiguous();
    const index_t ch = c;
    auto [mean, rstd] = statistics(xv, n, c, s);
    const bool batch_stats = use_batch_stats();
    tensor_type gv = o_.scale ? weight.value.contiguous() : tensor_type{};
    tensor_type bv = o_.center ? bias.value.contiguous() : tensor_type{};
    auto y = apply(xv, n, c, s, mean, rstd, gv, bv);
    const bool has_g = o_.scale, has_b = o_.center;
    auto bw = [=](const tensor_type& gy, auto& sink) {
      tensor_type gc = gy.contiguous();
      auto sum_dy = tensor_type::empty({ch}), sum_dy_xhat = tensor_type::empty({ch});
      const detail::batch_norm_grad_sums_at<T> sums{
          n, ch, s, xv.data(), gc.data(), mean.data(), rstd.data(), sum_dy.data(), sum_dy_xhat.data()};
      if constexpr (B::host_accessible) {
        for (index_t k = 0; k < ch; ++k) sums(std::uint64_t(k));
      } else {
        B::for_each(ch, sums);
      }
      if (sink.needs(0)) {
        auto dx = tensor_type::empty(xv.shape());
        const detail::batch_norm_dx_at<T> f{ch,
                                            s,
                                            T(1) / T(n * s),
                                            batch_stats,
                                            xv.data(),
                                            gc.data(),
                                            mean.data(),
                                            rstd.data(),
                                            has_g ? gv.data() : nullptr,
                                            sum_dy.data(),
                                            sum_dy_xhat.data()};
        if constexpr (B::host_accessible) {
          T* o = dx.data();
          for (index_t i = 0; i < n * ch * s; ++i) o[i] = f(std::uint64_t(i));
        } else {
          B::generate(n * ch * s, dx.data(), f);
        }
        sink.accumulate(0, dx);
      }
      int slot = 1;
      if (has_g) {
        if (sink.needs(slot)) sink.accumulate(slot, sum_dy_xhat);
        ++slot;
      }
      if (has_b && sink.needs(slot)) sink.accumulate(slot, sum_dy);
    };
    if (has_g && has_b)
      return tape.record(std::move(y), {x, tape.param(weight), tape.param(bias)}, std::move(bw), "nn_batch_norm");
    if (has_g) return tape.record(std::move(y), {x, tape.param(weight)}, std::move(bw), "nn_batch_norm");
    if (has_b) return tape.record(std::move(y), {x, tape.param(bias)}, std::move(bw), "nn_batch_norm");
    return tape.record(std::move(y), {x}, std::move(bw), "nn_batch_norm");
  }

  tensor_type forward(const tensor_type& x) {
    const auto [n, c, s] = dims(x.shape());
    tensor_type xv = x.contiguous();
    auto [mean, rstd] = statistics(xv, n, c, s);
    tensor_type gv = o_.scale ? weight.value.contiguous() : tensor_type{};
    tensor_type bv = o_.center ? bias.value.contiguous() : tensor_type{};
    return apply(xv, n, c, s, mean, rstd, gv, bv);
  }

  template <class F>
  void visit_parameters(F&& f, std::string_view prefix = {}) {
    if (o_.scale) f(join_name(prefix, "weight"), weight);
    if (o_.center) f(join_name(prefix, "bias"), bias);
  }
  template <class F>
  void visit_buffers(F&& f, std::string_view prefix = {}) {
    if (!o_.track_running_stats) return;
    f(join_name(prefix, "running_mean"), running_mean);
    f(join_name(prefix, "running_var"), running_var);
    f(join_name(prefix, "num_batches_tracked"), num_batches_tracked);
  }

  ad::Parameter<T, B> weight, bias;
  tensor_type running_mean, running_var, num_batches_tracked;

 private:
  bool use_batch_stats() const { return training_ || !o_.track_running_stats; }
  struct nd {
    index_t n, c, s;
  };
  nd dims(const Shape& sh) const {
    FUGUE_CHECK(sh.rank() >= 2 && sh.rank() <= 4 && sh[1] == o_.num_features, "BatchNorm: input of shape ", sh.str(),
                ", expected [B, ", o_.num_features, "], [B, ", o_.num_features, ", T] or [B, ", o_.num_features,
                ", H, W]");
    index_t s = 1;
    for (int i = 2; i < sh.rank(); ++i) s *= sh[i];
    FUGUE_CHECK(!use_batch_stats() || sh[0] * s > 1, "BatchNorm: training needs more than one value per channel, got ",
                sh.str());
    return {sh[0], sh[1], s};
  }
  // mean and 1 / sqrt(var + eps) per channel: the batch's (updating the running statistics in
  // train mode) or the running ones.
  std::pair<tensor_type, tensor_type> statistics(const tensor_type& xv, index_t n, index_t c, index_t s) {
    auto mean = tensor_type::empty({c}), rstd = tensor_type::empty({c});
    if (use_batch_stats()) {
      auto var = tensor_type::empty({c});
      detail::batch_norm_stats_on<B>(n, c, s, xv.data(), mean.data(), var.data());
      update_running(mean, var, n * s);
      const HostReadSpan<T, B> v(var);
      HostSpan<T, B> r(rstd, false);
      for (index_t i = 0; i < c; ++i) r[i] = T(1) / std::sqrt(v[i] + T(o_.eps));
      r.commit();
    } else {
      eval_stats(mean, rstd);
    }
    return {mean, rstd};
  }
  tensor_type apply(const tensor_type& xv, index_t n, index_t c, index_t s, const tensor_type& mean,
                    const tensor_type& rstd, const tensor_type& gv, const tensor_type& bv) const {
    auto y = tensor_type::empty(xv.shape());
    detail::batch_norm_apply_on<B>(n, c, s, xv.data(), mean.data(), rstd.data(), o_.scale ? gv.data() : nullptr,
                                   o_.center ? bv.data() : nullptr, y.data());
    return y;
  }
  void update_running(const tensor_type& mean, const tensor_type& var, index_t m) {
    if (!training_ || !o_.track_running_stats) return;
    const T mom = T(o_.momentum), unb = T(m) / T(m - 1);
    HostSpan<T, B> rm(running_mean), rv(running_var), nb(num_batches_tracked);
    const HostReadSpan<T, B> mu(mean), va(var);
    for (index_t i = 0; i < o_.num_features; ++i) {
      rm[i] = (T(1) - mom) * rm[i] + mom * mu[i];
      rv[i] = (T(1) - mom) * rv[i] + mom * va[i] * unb;
    }
    nb[0] += T(1);
    rm.commit();
    rv.commit();
    nb.commit();
  }
  void eval_stats(tensor_type& mean, tensor_type& rstd) const {
    const HostReadSpan<T, B> rm(running_mean), rv(running_var);
    HostSpan<T, B> m(mean, false), r(rstd, false);
    for (index_t i = 0; i < o_.num_features; ++i) {
      m[i] = rm[i];
      r[i] = T(1) / std::sqrt(rv[i] + T(o_.eps));
    }
    m.commit();
    r.commit();
  }

  BatchNormOptions o_;
  bool training_ = true;
};

}  // namespace fugue::nn
