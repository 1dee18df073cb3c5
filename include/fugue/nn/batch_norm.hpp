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
//  * Host-accessible backends only (its statistics loops read tensor memory on the host): on a
//    device backend both are compile-time errors that say so.
#pragma once

#include <cmath>
#include <optional>
#include <string_view>
#include <vector>

#include "fugue/autodiff/parameter.hpp"
#include "fugue/autodiff/registry.hpp"
#include "fugue/autodiff/tape.hpp"
#include "fugue/backend/host_only.hpp"
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
// Per-channel statistics of x viewed as [n, c, s].
template <class T>
void batch_norm_stats(index_t n, index_t c, index_t s, const T* x, T* mean, T* var) {
  const double m = double(n * s);
  for (index_t ch = 0; ch < c; ++ch) {
    double acc = 0;
    for (index_t i = 0; i < n; ++i) {
      const T* r = x + (i * c + ch) * s;
      for (index_t k = 0; k < s; ++k) acc += r[k];
    }
    const double mu = acc / m;
    double sq = 0;
    for (index_t i = 0; i < n; ++i) {
      const T* r = x + (i * c + ch) * s;
      for (index_t k = 0; k < s; ++k) sq += (r[k] - mu) * (r[k] - mu);
    }
    mean[ch] = T(mu);
    var[ch] = T(sq / m);
  }
}
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
}  // namespace detail

template <Scalar T, Backend B = cpu::native, index_t C = dyn>
class BatchNorm {
 public:
  using Tensor_ = Tensor<T, B>;
  explicit BatchNorm(BatchNormOptions o) : o_(o) {
    if (C != dyn && o_.num_features == 0) o_.num_features = C;
    FUGUE_CHECK(C == dyn || o_.num_features == C, "BatchNorm: num_features ", o_.num_features, " but the type says ", C);
    FUGUE_CHECK(o_.num_features > 0 && o_.eps > 0 && o_.momentum >= 0 && o_.momentum <= 1,
                "BatchNorm: invalid options (features ", o_.num_features, ", eps ", o_.eps, ", momentum ", o_.momentum, ")");
    if (o_.scale) weight.value = Tensor_::ones({o_.num_features});
    if (o_.center) bias.value = Tensor_::zeros({o_.num_features});
    running_mean = Tensor_::zeros({o_.num_features});
    running_var = Tensor_::ones({o_.num_features});
    num_batches_tracked = Tensor_::zeros(Shape{});
  }

  void train(bool on = true) noexcept { training_ = on; }
  void eval() noexcept { training_ = false; }
  bool training() const noexcept { return training_; }
  const BatchNormOptions& options() const noexcept { return o_; }

  ad::Var<T, B> operator()(ad::Tape<T, B>& tape, const ad::Var<T, B>& x) {
    FUGUE_REQUIRE_HOST_BACKEND(B, "the batch-norm kernel");
    const auto [n, c, s] = dims(x.shape());
    Tensor_ xv = x.value().contiguous();
    const index_t ch = c;
    auto mean = Tensor_::empty({c}), rstd = Tensor_::empty({c});
    const bool batch_stats = use_batch_stats();
    if (batch_stats) {
      auto var = Tensor_::empty({c});
      detail::batch_norm_stats(n, c, s, xv.data(), mean.data(), var.data());
      update_running(mean, var, n * s);
      for (index_t i = 0; i < c; ++i) rstd.data()[i] = T(1) / std::sqrt(var.data()[i] + T(o_.eps));
    } else {
      eval_stats(mean, rstd);
    }
    auto y = Tensor_::empty(x.shape());
    Tensor_ gv = o_.scale ? weight.value.contiguous() : Tensor_{};
    Tensor_ bv = o_.center ? bias.value.contiguous() : Tensor_{};
    detail::batch_norm_apply(n, c, s, xv.data(), mean.data(), rstd.data(), o_.scale ? gv.data() : nullptr,
                             o_.center ? bv.data() : nullptr, y.data());
    const bool has_g = o_.scale, has_b = o_.center;
    auto bw = [=](const Tensor_& gy, auto& sink) {
      Tensor_ gc = gy.contiguous();
      const T* dy = gc.data();
      const T* xp = xv.data();
      std::vector<T> sum_dy(std::size_t(ch), T(0)), sum_dy_xhat(std::size_t(ch), T(0));
      for (index_t i = 0; i < n; ++i)
        for (index_t k = 0; k < ch; ++k) {
          const T mu = mean.data()[k], rs = rstd.data()[k];
          const T* r = xp + (i * ch + k) * s;
          const T* d = dy + (i * ch + k) * s;
          T a = 0, b2 = 0;
          for (index_t j = 0; j < s; ++j) {
            a += d[j];
            b2 += d[j] * (r[j] - mu) * rs;
          }
          sum_dy[std::size_t(k)] += a;
          sum_dy_xhat[std::size_t(k)] += b2;
        }
      if (sink.needs(0)) {
        auto dx = Tensor_::empty(xv.shape());
        const T inv_m = T(1) / T(n * s);
        for (index_t i = 0; i < n; ++i)
          for (index_t k = 0; k < ch; ++k) {
            const T mu = mean.data()[k], rs = rstd.data()[k], g = has_g ? gv.data()[k] : T(1);
            const T* r = xp + (i * ch + k) * s;
            const T* d = dy + (i * ch + k) * s;
            T* o = dx.data() + (i * ch + k) * s;
            if (batch_stats) {
              const T mdy = sum_dy[std::size_t(k)] * inv_m, mdx = sum_dy_xhat[std::size_t(k)] * inv_m;
              for (index_t j = 0; j < s; ++j) o[j] = g * rs * (d[j] - mdy - (r[j] - mu) * rs * mdx);
            } else {
              for (index_t j = 0; j < s; ++j) o[j] = g * rs * d[j];
            }
          }
        sink.accumulate(0, dx);
      }
      int slot = 1;
      if (has_g) {
        if (sink.needs(slot)) sink.accumulate(slot, Tensor_::from(sum_dy_xhat, Shape{ch}));
        ++slot;
      }
      if (has_b && sink.needs(slot)) sink.accumulate(slot, Tensor_::from(sum_dy, Shape{ch}));
    };
    if (has_g && has_b) return tape.record(std::move(y), {x, tape.param(weight), tape.param(bias)}, std::move(bw), "nn_batch_norm");
    if (has_g) return tape.record(std::move(y), {x, tape.param(weight)}, std::move(bw), "nn_batch_norm");
    if (has_b) return tape.record(std::move(y), {x, tape.param(bias)}, std::move(bw), "nn_batch_norm");
    return tape.record(std::move(y), {x}, std::move(bw), "nn_batch_norm");
  }

  Tensor_ forward(const Tensor_& x) {
    FUGUE_REQUIRE_HOST_BACKEND(B, "the batch-norm kernel");
    const auto [n, c, s] = dims(x.shape());
    Tensor_ xv = x.contiguous();
    auto mean = Tensor_::empty({c}), rstd = Tensor_::empty({c});
    if (use_batch_stats()) {
      auto var = Tensor_::empty({c});
      detail::batch_norm_stats(n, c, s, xv.data(), mean.data(), var.data());
      update_running(mean, var, n * s);
      for (index_t i = 0; i < c; ++i) rstd.data()[i] = T(1) / std::sqrt(var.data()[i] + T(o_.eps));
    } else {
      eval_stats(mean, rstd);
    }
    auto y = Tensor_::empty(x.shape());
    Tensor_ gv = o_.scale ? weight.value.contiguous() : Tensor_{};
    Tensor_ bv = o_.center ? bias.value.contiguous() : Tensor_{};
    detail::batch_norm_apply(n, c, s, xv.data(), mean.data(), rstd.data(), o_.scale ? gv.data() : nullptr,
                             o_.center ? bv.data() : nullptr, y.data());
    return y;
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
  Tensor_ running_mean, running_var, num_batches_tracked;

 private:
  bool use_batch_stats() const { return training_ || !o_.track_running_stats; }
  struct nd {
    index_t n, c, s;
  };
  nd dims(const Shape& sh) const {
    FUGUE_CHECK(sh.rank() >= 2 && sh.rank() <= 4 && sh[1] == o_.num_features, "BatchNorm: input of shape ",
                sh.str(), ", expected [B, ", o_.num_features, "], [B, ", o_.num_features, ", T] or [B, ",
                o_.num_features, ", H, W]");
    index_t s = 1;
    for (int i = 2; i < sh.rank(); ++i) s *= sh[i];
    FUGUE_CHECK(!use_batch_stats() || sh[0] * s > 1, "BatchNorm: training needs more than one value per channel, got ",
                sh.str());
    return {sh[0], sh[1], s};
  }
  void update_running(const Tensor_& mean, const Tensor_& var, index_t m) {
    if (!training_ || !o_.track_running_stats) return;
    const T mom = T(o_.momentum), unb = T(m) / T(m - 1);
    T* rm = running_mean.data();
    T* rv = running_var.data();
    for (index_t i = 0; i < o_.num_features; ++i) {
      rm[i] = (T(1) - mom) * rm[i] + mom * mean.data()[i];
      rv[i] = (T(1) - mom) * rv[i] + mom * var.data()[i] * unb;
    }
    num_batches_tracked.data()[0] += T(1);
  }
  void eval_stats(Tensor_& mean, Tensor_& rstd) const {
    for (index_t i = 0; i < o_.num_features; ++i) {
      mean.data()[i] = running_mean.data()[i];
      rstd.data()[i] = T(1) / std::sqrt(running_var.data()[i] + T(o_.eps));
    }
  }

  BatchNormOptions o_;
  bool training_ = true;
};

}  // namespace fugue::nn
