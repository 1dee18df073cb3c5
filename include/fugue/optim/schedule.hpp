// fugue/optim/schedule.hpp — learning-rate schedules: lr = schedule(step).
//
// Contract: a schedule is a value type with `double operator()(std::int64_t step) const`,
// where step counts completed optimizer steps (0 for the first update: TF's global_step
// before its increment). set_lr(opt, schedule) sets the optimizer's lr for its next step.
//  * ConstantLR{lr}.
//  * ExponentialDecayLR{initial, decay_rate, minimum}: (initial - minimum) * decay_rate^step
//    + minimum — MusicVAE's schedule (defaults 1e-3, 0.9999, 1e-5: lr(10000) = 3.742e-4).
//  * WarmupRsqrtLR{constant, warmup_steps, hidden_size}: tensor2tensor's
//    constant * linear_warmup * rsqrt_decay * rsqrt_hidden_size =
//    constant * min(1, step / warmup) * max(step, warmup)^-1/2 * hidden^-1/2 (hidden 0: that
//    factor omitted; linear_warmup false: the min(...) factor omitted, which gives the
//    Transformer TPU schedule max(step, warmup)^-1/2). Defaults 2.0, 8000, 512: peak 9.88e-4.
#pragma once

#include <algorithm>
#include <cmath>
#include <concepts>
#include <cstdint>

#include "fugue/optim/optimizer.hpp"

namespace fugue::optim {

template <class S>
concept Schedule = requires(const S& s, std::int64_t step) {
  { s(step) } -> std::convertible_to<double>;
};

struct ConstantLR {
  double lr = 1e-3;
  double operator()(std::int64_t) const noexcept { return lr; }
};

struct ExponentialDecayLR {
  double initial = 1e-3;
  double decay_rate = 0.9999;
  double minimum = 1e-5;
  double operator()(std::int64_t step) const {
    return (initial - minimum) * std::pow(decay_rate, double(step)) + minimum;
  }
};

struct WarmupRsqrtLR {
  double constant = 2.0;
  double warmup_steps = 8000;
  double hidden_size = 512;  // 0: no rsqrt(hidden) factor
  bool linear_warmup = true;
  double operator()(std::int64_t step) const {
    const double s = double(step);
    double lr = constant;
    if (linear_warmup) lr *= std::min(1.0, s / warmup_steps);
    lr /= std::sqrt(std::max(s, warmup_steps));
    if (hidden_size > 0) lr /= std::sqrt(hidden_size);
    return lr;
  }
};

// Sets opt's learning rate to schedule(opt.steps()) and returns it.
template <Scalar T, Backend B, Schedule S>
double set_lr(Optimizer<T, B>& opt, const S& schedule) {
  const double lr = schedule(opt.steps());
  opt.set_lr(lr);
  return lr;
}

}  // namespace fugue::optim
