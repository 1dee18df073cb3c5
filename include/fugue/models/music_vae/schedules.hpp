// fugue/models/music_vae/schedules.hpp — MusicVAE's training-time scalars (docs/music_vae.md, "Loss",
// "Training").
//
// Contract (step = the optimizer's step count before the update, as TF's global_step):
//  * kl_beta(step, max_beta, beta_rate) = (1 - beta_rate^step) * max_beta.
//  * free_bits_nats(bits) = bits * ln 2; kl_cost(kl, bits) = max(kl - bits ln 2, 0), a hinge on
//    the TOTAL KL of one example (not per latent dimension).
//  * SamplingSchedule: the probability that a decoder input is the model's own sample instead
//    of the ground truth: none -> 0; inverse_sigmoid(k) -> 1 - k / (k + exp(step / k));
//    exponential(r) -> 1 - r^step; constant(r) -> r.
//  * MusicVAE's learning rate is optim::ExponentialDecayLR{1e-3, 0.9999, 1e-5}.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>

#include "fugue/optim/schedule.hpp"

namespace fugue::models::music_vae {

inline double kl_beta(std::int64_t step, double max_beta, double beta_rate) {
  return (1.0 - std::pow(beta_rate, double(step))) * max_beta;
}
inline double free_bits_nats(double bits) { return bits * std::log(2.0); }
inline double kl_cost(double kl_nats, double free_bits) { return std::max(kl_nats - free_bits_nats(free_bits), 0.0); }

struct SamplingSchedule {
  enum class Kind { none, inverse_sigmoid, exponential, constant } kind = Kind::none;
  double rate = 0;
  double operator()(std::int64_t step) const {
    switch (kind) {
      case Kind::none: return 0.0;
      case Kind::inverse_sigmoid: {
        const double e = double(step) / rate;
        if (e > 700) return 1.0;  // exp overflows; the limit is 1
        return 1.0 - rate / (rate + std::exp(e));
      }
      case Kind::exponential: return 1.0 - std::pow(rate, double(step));
      case Kind::constant: return rate;
    }
    return 0.0;
  }
  static SamplingSchedule inverse_sigmoid(double k) { return {Kind::inverse_sigmoid, k}; }
  static SamplingSchedule exponential(double r) { return {Kind::exponential, r}; }
  static SamplingSchedule constant(double r) { return {Kind::constant, r}; }
};

}  // namespace fugue::models::music_vae
