// fugue/optim/optimizer.hpp — what every optimizer shares: its parameter list, learning
// rate, step count, per-parameter state and a saveable state dict.
//
// Contract:
//  * An optimizer is built from the output of nn::named_parameters(module) (or from bare
//    ad::Parameter pointers, which are then named "0", "1", ...). Names and pointers must be
//    unique; the parameters must outlive the optimizer. State (moments, momentum buffers,
//    per-parameter step counts) is kept per parameter, in the order given.
//  * step() updates every parameter whose grad is defined, like PyTorch skips parameters
//    whose .grad is None (their state and per-parameter step count do not advance); steps()
//    counts calls of step(). zero_grad() zero-fills the defined gradients.
//  * state_dict() returns named tensors "<slot>.<parameter name>" (e.g. "exp_avg.enc.weight")
//    and string metadata: "optimizer" (its kind), "steps", "lr" (shortest round-trip
//    decimal, so it reads back to the same double), the hyperparameters (informational) and
//    "step.<parameter name>" per-parameter step counts. load_state_dict() restores the
//    state, steps() and lr() so that training resumes bit-exactly; hyperparameters other than
//    lr stay as constructed. It checks the kind, every tensor's presence and shape and rejects
//    unknown tensors, naming the offending entry; on error the optimizer is left unchanged.
//  * The update arithmetic runs on the host (directly on host-accessible backends, through a
//    host copy otherwise), elementwise in T with PyTorch 1.13's operation order.
#pragma once

#include <charconv>
#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "fugue/autodiff/parameter.hpp"
#include "fugue/core/error.hpp"
#include "fugue/core/host_span.hpp"
#include "fugue/tensor.hpp"

namespace fugue::optim {

template <Scalar T, Backend B = cpu::native>
using NamedParameters = std::vector<std::pair<std::string, ad::Parameter<T, B>*>>;

// Named tensors plus string metadata: what an optimizer saves (write it with
// io::SafetensorsWriter, or optim::save_state in fugue/optim/checkpoint.hpp).
template <Scalar T, Backend B = cpu::native>
struct StateDict {
  std::vector<std::pair<std::string, Tensor<T, B>>> tensors;
  std::map<std::string, std::string, std::less<>> metadata;

  const Tensor<T, B>* find(std::string_view name) const {
    for (const auto& [n, t] : tensors)
      if (n == name) return &t;
    return nullptr;
  }
};

namespace detail {
// Shortest decimal that parses back to the same double.
inline std::string format_double(double v) {
  char buf[32];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}
inline double parse_double(std::string_view s, std::string_view what) {
  double v = 0;
  auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  FUGUE_CHECK(r.ec == std::errc() && r.ptr == s.data() + s.size(), "optimizer state: ", what, " = '", s,
              "' is not a number");
  return v;
}
inline std::int64_t parse_int(std::string_view s, std::string_view what) {
  std::int64_t v = 0;
  auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  FUGUE_CHECK(r.ec == std::errc() && r.ptr == s.data() + s.size() && v >= 0, "optimizer state: ", what, " = '", s,
              "' is not a non-negative integer");
  return v;
}

// Host pointer to a contiguous tensor's elements (core/host_span.hpp).
using fugue::HostSpan;
}  // namespace detail

template <Scalar T, Backend B = cpu::native>
class Optimizer {
 public:
  using Param = ad::Parameter<T, B>;

  Optimizer(NamedParameters<T, B> params, double lr, std::string_view kind) : params_(std::move(params)), lr_(lr) {
    std::set<std::string, std::less<>> names;
    std::set<const Param*> ptrs;
    for (const auto& [name, p] : params_) {
      FUGUE_CHECK(p != nullptr, kind, ": parameter '", name, "' is a null pointer");
      FUGUE_CHECK(names.insert(name).second, kind, ": duplicate parameter name '", name, "'");
      FUGUE_CHECK(ptrs.insert(p).second, kind, ": parameter '", name, "' is listed twice (under another name too)");
      FUGUE_CHECK(p->value.defined(), kind, ": parameter '", name, "' has no value");
    }
    FUGUE_CHECK(lr >= 0, kind, ": learning rate must be >= 0, got ", lr);
  }
  static NamedParameters<T, B> name_by_index(const std::vector<Param*>& params) {
    NamedParameters<T, B> out;
    for (std::size_t i = 0; i < params.size(); ++i) out.emplace_back(std::to_string(i), params[i]);
    return out;
  }
  virtual ~Optimizer() = default;

  virtual void step() = 0;
  virtual std::string_view kind() const noexcept = 0;
  virtual StateDict<T, B> state_dict() const = 0;
  virtual void load_state_dict(const StateDict<T, B>& sd) = 0;

  void zero_grad() {
    for (auto& [name, p] : params_) p->zero_grad();
  }
  double lr() const noexcept { return lr_; }
  void set_lr(double lr) {
    FUGUE_CHECK(lr >= 0, kind(), ": learning rate must be >= 0, got ", lr);
    lr_ = lr;
  }
  // Number of completed step() calls.
  std::int64_t steps() const noexcept { return steps_; }
  const NamedParameters<T, B>& parameters() const noexcept { return params_; }

 protected:
  // The gradient to use for parameter i, or nullptr when it has none (skipped, as in torch).
  Tensor<T, B>* grad_of(std::size_t i) {
    auto& [name, p] = params_[i];
    if (!p->grad.defined()) return nullptr;
    FUGUE_CHECK(p->grad.shape() == p->value.shape(), kind(), ": gradient of '", name, "' has shape ",
                p->grad.shape().str(), ", the parameter ", p->value.shape().str());
    return &p->grad;
  }

  // Common metadata of state_dict().
  std::map<std::string, std::string, std::less<>> base_metadata() const {
    return {{"optimizer", std::string(kind())}, {"steps", std::to_string(steps_)}, {"lr", detail::format_double(lr_)}};
  }
  // Checks kind and reads steps/lr; returns them (applied by the caller once all checks pass).
  std::pair<std::int64_t, double> read_base_metadata(const StateDict<T, B>& sd) const {
    auto get = [&](std::string_view key) -> const std::string& {
      auto it = sd.metadata.find(key);
      FUGUE_CHECK(it != sd.metadata.end(), kind(), " state: missing metadata '", key, "'");
      return it->second;
    };
    FUGUE_CHECK(get("optimizer") == kind(), kind(), " state: the state was saved by optimizer '", get("optimizer"),
                "'");
    return {detail::parse_int(get("steps"), "steps"), detail::parse_double(get("lr"), "lr")};
  }
  // Per-parameter step count from "step.<name>" (0 when absent: never stepped).
  std::int64_t read_param_step(const StateDict<T, B>& sd, const std::string& name) const {
    auto it = sd.metadata.find("step." + name);
    return it == sd.metadata.end() ? 0 : detail::parse_int(it->second, "step." + name);
  }
  // The state tensor "<slot>.<name>" with the parameter's shape (throws naming it otherwise).
  Tensor<T, B> read_slot(const StateDict<T, B>& sd, std::string_view slot, std::size_t i) const {
    const auto& [name, p] = params_[i];
    const std::string key = std::string(slot) + "." + name;
    const Tensor<T, B>* t = sd.find(key);
    FUGUE_CHECK(t != nullptr, kind(), " state: missing tensor '", key, "'");
    FUGUE_CHECK(t->shape() == p->value.shape(), kind(), " state: tensor '", key, "' has shape ", t->shape().str(),
                ", the parameter ", p->value.shape().str());
    return t->clone();
  }
  // Rejects tensors not in `expected`.
  void check_no_extra(const StateDict<T, B>& sd, const std::set<std::string, std::less<>>& expected) const {
    for (const auto& [n, t] : sd.tensors)
      FUGUE_CHECK(expected.count(n), kind(), " state: unexpected tensor '", n, "' (no such parameter or slot)");
  }

  NamedParameters<T, B> params_;
  double lr_;
  std::int64_t steps_ = 0;
};

}  // namespace fugue::optim
