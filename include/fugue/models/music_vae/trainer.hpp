// fugue/models/music_vae/trainer.hpp — MusicVAE's objective for the shared trainer
// (train/trainer.hpp): schedules and options as docs/music_vae.md, "Training".
//
// Contract
//  * Objective<Model>{model, TrainConfig}: Adam with TF's epsilon placement (b1 0.9, b2 0.999,
//    eps 1e-8), learning rate (lr0 - lr_min) decay^step + lr_min, KL beta
//    (1 - beta_rate^step) max_beta, free bits, the config's scheduled-sampling schedule, and
//    global-norm clipping to grad_clip with MusicVAE's zeroing rule (norm >= grad_norm_clip_to_zero:
//    the update uses zero gradients). "step" is the number of updates done so far (TF's
//    global_step). Every random draw of step s comes from Philox{seed, 8 s + ...}.
//  * Trainer<Model>(model, TrainConfig, seed) = train::Trainer over that objective: step(batch)
//    returns StepStats (loss, grad_norm, lr, zeroed, step and the metrics r_loss, kl, beta,
//    sampling_prob); save / load one atomic checkpoint of format "fugue-music-vae-1". The
//    teacher-forced accuracy is not computed per step (metrics stay out of the loss): see
//    teacher_forced_accuracy in model.hpp.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "fugue/models/music_vae/configs.hpp"
#include "fugue/models/music_vae/model.hpp"
#include "fugue/optim/schedule.hpp"
#include "fugue/train/trainer.hpp"

namespace fugue::models::music_vae {

struct Metrics {
  double r_loss = 0, kl = 0, beta = 0, sampling_prob = 0;
  std::string describe() const { return "reconstruction " + std::to_string(r_loss) + ", KL " + std::to_string(kl); }
  std::vector<std::pair<std::string, double>> fields() const {
    return {{"r_loss", r_loss}, {"kl", kl}, {"beta", beta}, {"sampling_prob", sampling_prob}};
  }
};
using StepStats = train::StepResult<Metrics>;

template <class Model, Scalar T = float, Backend B = cpu::native>
struct Objective {
  using scalar_type = T;
  using backend_type = B;
  using batch_type = Batch<T, B>;
  using metrics_type = Metrics;
  static constexpr std::string_view family = "MusicVAE";
  static constexpr std::string_view checkpoint_format = "fugue-music-vae-1";

  Model* net;
  TrainConfig hp;

  Model& model() { return *net; }
  double learning_rate(std::int64_t step) const {
    return optim::ExponentialDecayLR{hp.learning_rate, hp.decay_rate, hp.min_learning_rate}(step);
  }
  train::ClipRule clip() const {
    return train::ClipRule::tf_global_norm_or_zero(hp.grad_clip, hp.grad_norm_clip_to_zero);
  }
  optim::AdamOptions optimizer_options() const {
    optim::AdamOptions a;
    a.lr = hp.learning_rate;
    a.tf_epsilon = true;
    return a;
  }

  train::Loss<T, B, Metrics> loss(ad::Tape<T, B>& tape, const batch_type& batch, const train::StepContext& ctx) {
    LossOptions o;
    o.beta = kl_beta(ctx.step, hp.max_beta, hp.beta_rate);
    o.free_bits = hp.free_bits;
    o.sampling_prob = hp.sampling(ctx.step);
    o.rng = Philox{ctx.seed, 8 * std::uint64_t(ctx.step)};
    auto r = net->loss(tape, batch, o);
    return {std::move(r.loss), Metrics{r.r_loss, r.kl, o.beta, o.sampling_prob}};
  }
};

template <class Model, Scalar T = float, Backend B = cpu::native>
class Trainer : public train::Trainer<Objective<Model, T, B>> {
 public:
  Trainer(Model& model, TrainConfig hp, std::uint64_t seed = 1)
      : train::Trainer<Objective<Model, T, B>>(Objective<Model, T, B>{&model, hp}, seed) {}
  const TrainConfig& config() const { return this->objective().hp; }
};

}  // namespace fugue::models::music_vae
