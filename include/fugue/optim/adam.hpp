// fugue/optim/adam.hpp — Adam and AdamW, as torch.optim.Adam / AdamW (1.13, single-tensor path).
//
// Contract (per parameter p with gradient g; t = the parameter's step count after increment):
//   g = maximize ? -g : g
//   Adam:  if weight_decay: g = g + wd * p                  (L2 penalty added to the gradient)
//   AdamW: p = p * (1 - lr * wd)                            (decoupled decay, before the moments)
//   m = m * b1 + (1 - b1) * g
//   v = v * b2 + (1 - b2) * g * g
//   bc1 = 1 - b1^t, bc2 = 1 - b2^t                          (in double, like torch's Python floats)
//   amsgrad: vmax = max(vmax, v) and vmax replaces v below
//   torch epsilon (default): denom = sqrt(v) / sqrt(bc2) + eps;  p = p + (-lr / bc1) * m / denom
//   TF epsilon (tf_epsilon = true, tf.train.AdamOptimizer as MusicVAE trains with):
//          denom = sqrt(v) + eps;  p = p + (-lr * sqrt(bc2) / bc1) * m / denom
// Element arithmetic is in T, in torch's operation order; the scalars are rounded to T once.
// Defaults are torch's: lr 1e-3, betas (0.9, 0.999), eps 1e-8, weight_decay 0 (Adam) or 1e-2
// (AdamW). State slots: "exp_avg.<name>", "exp_avg_sq.<name>", "max_exp_avg_sq.<name>" (amsgrad),
// and the per-parameter step count "step.<name>" in the metadata.
#pragma once

#include <algorithm>
#include <cmath>
#include <optional>

#include "fugue/optim/optimizer.hpp"

namespace fugue::optim {

struct AdamOptions {
  double lr = 1e-3;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 0;
  bool amsgrad = false;
  bool maximize = false;
  bool tf_epsilon = false;  // TensorFlow's "epsilon hat" placement (see above)
};
// The same fields; only the weight-decay default differs (torch.optim.AdamW's 1e-2).
struct AdamWOptions {
  double lr = 1e-3;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 1e-2;
  bool amsgrad = false;
  bool maximize = false;
  bool tf_epsilon = false;
};

namespace detail {
template <Scalar T, Backend B>
class AdamBase : public Optimizer<T, B> {
  using Base = Optimizer<T, B>;

 public:
  AdamBase(NamedParameters<T, B> params, AdamOptions o, bool decoupled, std::string_view kind)
      : Base(std::move(params), o.lr, kind), o_(o), decoupled_(decoupled) {
    FUGUE_CHECK(o.beta1 >= 0 && o.beta1 < 1 && o.beta2 >= 0 && o.beta2 < 1, kind, ": betas must be in [0, 1), got (",
                o.beta1, ", ", o.beta2, ")");
    FUGUE_CHECK(o.eps >= 0 && o.weight_decay >= 0, kind, ": eps (", o.eps, ") and weight_decay (", o.weight_decay,
                ") must be >= 0");
    state_.resize(this->params_.size());
  }

  const AdamOptions& options() const noexcept { return o_; }

  void step() override {
    const double lr = this->lr_;
    const T b1 = T(o_.beta1), b2 = T(o_.beta2), one_b1 = T(1 - o_.beta1), one_b2 = T(1 - o_.beta2);
    const T wd = T(o_.weight_decay), decay = T(1 - lr * o_.weight_decay), eps = T(o_.eps);
    for (std::size_t i = 0; i < this->params_.size(); ++i) {
      Tensor<T, B>* g = this->grad_of(i);
      if (!g) continue;
      auto& p = *this->params_[i].second;
      auto& st = state_[i];
      if (!st.m.defined()) {
        st.m = Tensor<T, B>::zeros(p.value.shape());
        st.v = Tensor<T, B>::zeros(p.value.shape());
        if (o_.amsgrad) st.vmax = Tensor<T, B>::zeros(p.value.shape());
      }
      const std::int64_t t = ++st.step;
      const double bc1 = 1 - std::pow(o_.beta1, double(t)), bc2 = 1 - std::pow(o_.beta2, double(t));
      const double bc2_sqrt = std::sqrt(bc2);
      const T neg_step = o_.tf_epsilon ? T(-(lr * bc2_sqrt / bc1)) : T(-(lr / bc1));
      const T bc2s = T(bc2_sqrt);

      HostSpan<T, B> hp(p.value), hg(*g), hm(st.m), hv(st.v);
      std::optional<HostSpan<T, B>> hvmax;
      if (o_.amsgrad) hvmax.emplace(st.vmax);
      T *pv = hp.data(), *mv = hm.data(), *vv = hv.data(), *xv = o_.amsgrad ? hvmax->data() : nullptr;
      const T* gv = hg.data();
      const std::size_t n = std::size_t(p.numel());
      for (std::size_t k = 0; k < n; ++k) {
        T gk = o_.maximize ? -gv[k] : gv[k];
        if (o_.weight_decay != 0) {
          if (decoupled_)
            pv[k] = pv[k] * decay;
          else
            gk = gk + wd * pv[k];
        }
        mv[k] = mv[k] * b1 + one_b1 * gk;
        vv[k] = vv[k] * b2 + one_b2 * gk * gk;
        T vk = vv[k];
        if (xv) vk = xv[k] = std::max(xv[k], vv[k]);
        const T denom = o_.tf_epsilon ? std::sqrt(vk) + eps : std::sqrt(vk) / bc2s + eps;
        pv[k] = pv[k] + neg_step * mv[k] / denom;
      }
      hp.commit();
      hm.commit();
      hv.commit();
      if (hvmax) hvmax->commit();
    }
    ++this->steps_;
  }

  StateDict<T, B> state_dict() const override {
    StateDict<T, B> sd;
    sd.metadata = this->base_metadata();
    sd.metadata["beta1"] = format_double(o_.beta1);
    sd.metadata["beta2"] = format_double(o_.beta2);
    sd.metadata["eps"] = format_double(o_.eps);
    sd.metadata["weight_decay"] = format_double(o_.weight_decay);
    sd.metadata["amsgrad"] = o_.amsgrad ? "true" : "false";
    sd.metadata["tf_epsilon"] = o_.tf_epsilon ? "true" : "false";
    for (std::size_t i = 0; i < this->params_.size(); ++i) {
      const auto& name = this->params_[i].first;
      const auto& st = state_[i];
      if (!st.m.defined()) continue;
      sd.metadata["step." + name] = std::to_string(st.step);
      sd.tensors.emplace_back("exp_avg." + name, st.m.clone());
      sd.tensors.emplace_back("exp_avg_sq." + name, st.v.clone());
      if (st.vmax.defined()) sd.tensors.emplace_back("max_exp_avg_sq." + name, st.vmax.clone());
    }
    return sd;
  }

  void load_state_dict(const StateDict<T, B>& sd) override {
    auto [steps, lr] = this->read_base_metadata(sd);
    std::vector<State> fresh(this->params_.size());
    std::set<std::string, std::less<>> expected;
    for (std::size_t i = 0; i < this->params_.size(); ++i) {
      const auto& name = this->params_[i].first;
      State& st = fresh[i];
      st.step = this->read_param_step(sd, name);
      if (st.step == 0) continue;  // never stepped: no moments
      st.m = this->read_slot(sd, "exp_avg", i);
      st.v = this->read_slot(sd, "exp_avg_sq", i);
      expected.insert("exp_avg." + name);
      expected.insert("exp_avg_sq." + name);
      if (o_.amsgrad) {
        st.vmax = this->read_slot(sd, "max_exp_avg_sq", i);
        expected.insert("max_exp_avg_sq." + name);
      }
    }
    this->check_no_extra(sd, expected);
    state_ = std::move(fresh);
    this->steps_ = steps;
    this->set_lr(lr);
  }

 private:
  struct State {
    Tensor<T, B> m, v, vmax;
    std::int64_t step = 0;
  };
  AdamOptions o_;
  bool decoupled_;
  std::vector<State> state_;
};

inline AdamOptions to_adam_options(const AdamWOptions& w) {
  return {w.lr, w.beta1, w.beta2, w.eps, w.weight_decay, w.amsgrad, w.maximize, w.tf_epsilon};
}
}  // namespace detail

template <Scalar T, Backend B = cpu::native>
class Adam final : public detail::AdamBase<T, B> {
 public:
  Adam(NamedParameters<T, B> params, AdamOptions o = {})
      : detail::AdamBase<T, B>(std::move(params), o, false, "adam") {}
  Adam(const std::vector<ad::Parameter<T, B>*>& params, AdamOptions o = {})
      : Adam(Optimizer<T, B>::name_by_index(params), o) {}
  std::string_view kind() const noexcept override { return "adam"; }
};

template <Scalar T, Backend B = cpu::native>
class AdamW final : public detail::AdamBase<T, B> {
 public:
  AdamW(NamedParameters<T, B> params, AdamWOptions o = {})
      : detail::AdamBase<T, B>(std::move(params), detail::to_adam_options(o), true, "adamw") {}
  AdamW(const std::vector<ad::Parameter<T, B>*>& params, AdamWOptions o = {})
      : AdamW(Optimizer<T, B>::name_by_index(params), o) {}
  std::string_view kind() const noexcept override { return "adamw"; }
};

}  // namespace fugue::optim
