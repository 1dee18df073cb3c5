// fugue/optim/sgd.hpp — stochastic gradient descent with momentum, as torch.optim.SGD (1.13).
//
// Contract (per parameter p with gradient g, all arithmetic in T):
//   d = maximize ? -g : g;   if weight_decay: d = d + wd * p
//   if momentum: buf = (first step) ? d : buf * momentum + (1 - dampening) * d
//                d = nesterov ? d + momentum * buf : buf
//   p = p + (-lr) * d
// Nesterov requires momentum > 0 and dampening == 0 (as torch). State slot:
// "momentum_buffer.<name>" (present once the parameter has been stepped with momentum).
#pragma once

#include "fugue/optim/optimizer.hpp"

namespace fugue::optim {

struct SGDOptions {
  double lr = 1e-2;
  double momentum = 0;
  double dampening = 0;
  double weight_decay = 0;
  bool nesterov = false;
  bool maximize = false;
};

template <Scalar T, Backend B = cpu::native>
class SGD final : public Optimizer<T, B> {
  using Base = Optimizer<T, B>;

 public:
  SGD(NamedParameters<T, B> params, SGDOptions o = {}) : Base(std::move(params), o.lr, "sgd"), o_(o) {
    FUGUE_CHECK(o.momentum >= 0 && o.dampening >= 0 && o.weight_decay >= 0, "sgd: momentum (", o.momentum,
                "), dampening (", o.dampening, ") and weight_decay (", o.weight_decay, ") must be >= 0");
    FUGUE_CHECK(!o.nesterov || (o.momentum > 0 && o.dampening == 0),
                "sgd: nesterov momentum requires a momentum > 0 and zero dampening");
    state_.resize(this->params_.size());
  }
  SGD(const std::vector<ad::Parameter<T, B>*>& params, SGDOptions o = {}) : SGD(Base::name_by_index(params), o) {}

  std::string_view kind() const noexcept override { return "sgd"; }
  const SGDOptions& options() const noexcept { return o_; }

  void step() override {
    const T wd = T(o_.weight_decay), mom = T(o_.momentum), damp1 = T(1 - o_.dampening), neg_lr = T(-this->lr_);
    for (std::size_t i = 0; i < this->params_.size(); ++i) {
      Tensor<T, B>* g = this->grad_of(i);
      if (!g) continue;
      auto& p = *this->params_[i].second;
      auto& st = state_[i];
      const bool first = !st.buf.defined();
      if (o_.momentum != 0 && first) st.buf = Tensor<T, B>::empty(p.value.shape());
      detail::HostSpan<T, B> hp(p.value), hg(*g);
      T* pv = hp.data();
      const T* gv = hg.data();
      const std::size_t n = std::size_t(p.numel());
      if (o_.momentum != 0) {
        detail::HostSpan<T, B> hb(st.buf);
        T* bv = hb.data();
        for (std::size_t k = 0; k < n; ++k) {
          T d = o_.maximize ? -gv[k] : gv[k];
          if (o_.weight_decay != 0) d = d + wd * pv[k];
          bv[k] = first ? d : bv[k] * mom + damp1 * d;
          d = o_.nesterov ? d + mom * bv[k] : bv[k];
          pv[k] = pv[k] + neg_lr * d;
        }
        hb.commit();
      } else {
        for (std::size_t k = 0; k < n; ++k) {
          T d = o_.maximize ? -gv[k] : gv[k];
          if (o_.weight_decay != 0) d = d + wd * pv[k];
          pv[k] = pv[k] + neg_lr * d;
        }
      }
      hp.commit();
      ++st.step;
    }
    ++this->steps_;
  }

  StateDict<T, B> state_dict() const override {
    StateDict<T, B> sd;
    sd.metadata = this->base_metadata();
    sd.metadata["momentum"] = detail::format_double(o_.momentum);
    sd.metadata["dampening"] = detail::format_double(o_.dampening);
    sd.metadata["weight_decay"] = detail::format_double(o_.weight_decay);
    sd.metadata["nesterov"] = o_.nesterov ? "true" : "false";
    for (std::size_t i = 0; i < this->params_.size(); ++i) {
      const auto& name = this->params_[i].first;
      if (state_[i].step) sd.metadata["step." + name] = std::to_string(state_[i].step);
      if (state_[i].buf.defined()) sd.tensors.emplace_back("momentum_buffer." + name, state_[i].buf.clone());
    }
    return sd;
  }

  void load_state_dict(const StateDict<T, B>& sd) override {
    auto [steps, lr] = this->read_base_metadata(sd);
    std::vector<State> fresh(this->params_.size());
    std::set<std::string, std::less<>> expected;
    for (std::size_t i = 0; i < this->params_.size(); ++i) {
      const auto& name = this->params_[i].first;
      fresh[i].step = this->read_param_step(sd, name);
      if (sd.find("momentum_buffer." + name)) {
        fresh[i].buf = this->read_slot(sd, "momentum_buffer", i);
        expected.insert("momentum_buffer." + name);
      }
    }
    this->check_no_extra(sd, expected);
    state_ = std::move(fresh);
    this->steps_ = steps;
    this->set_lr(lr);
  }

 private:
  struct State {
    Tensor<T, B> buf;
    std::int64_t step = 0;
  };
  SGDOptions o_;
  std::vector<State> state_;
};

}  // namespace fugue::optim
