// fugue/models/music_vae/trainer.hpp — MusicVAE's training loop (spec §4-5).
//
// Contract
//  * Trainer<Model>(model, TrainConfig, seed): Adam with TF's epsilon placement (b1 0.9,
//    b2 0.999, eps 1e-8), learning rate (lr0 - lr_min) decay^step + lr_min, KL beta
//    (1 - beta_rate^step) max_beta, free bits, the config's scheduled-sampling schedule, and
//    global-norm clipping to grad_clip with MusicVAE's zeroing rule (norm >= 10000: the update
//    uses zero gradients). "step" is the number of updates done so far (TF's global_step).
//  * step(batch): one update; returns loss, r_loss, kl, accuracy, grad norm, lr, beta. Every
//    random draw of the step comes from Philox{seed, 8 * step + ...}, so a step is a pure
//    function of (parameters, optimizer state, step, batch): resuming from a checkpoint
//    continues bit-exactly.
//  * A non-finite loss or gradient norm throws fugue::error ("training diverged at step N ...")
//    BEFORE the parameters change, so the last saved checkpoint stays the last good state.
//  * save(path): one safetensors file, written atomically, holding "model.*" (parameters),
//    "optim.*" (Adam moments, step counts, lr) and metadata "trainer.step",
//    "trainer.batches" (batches consumed, for the caller to resume its data stream),
//    "trainer.seed", "trainer.format". load(path) restores all of it; a checkpoint of another
//    model (missing or extra tensors, other shapes) raises fugue::error naming the tensor.
#pragma once

#include <chrono>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <string>

#include "fugue/core/error.hpp"
#include "fugue/models/music_vae/configs.hpp"
#include "fugue/nn/module.hpp"
#include "fugue/optim/adam.hpp"
#include "fugue/optim/clip.hpp"
#include "fugue/optim/training_checkpoint.hpp"
#include "fugue/optim/schedule.hpp"

namespace fugue::models::music_vae {

struct StepStats {
  std::int64_t step = 0;  // updates done after this one
  double loss = 0, r_loss = 0, kl = 0, accuracy = 0, grad_norm = 0, lr = 0, beta = 0, sampling_prob = 0;
  bool zeroed = false;  // the zeroing rule fired
};

template <class Model, Scalar T = float, Backend B = cpu::native>
class Trainer {
 public:
  Trainer(Model& model, TrainConfig hp, std::uint64_t seed = 1)
      : model_(model),
        hp_(hp),
        seed_(seed),
        params_(nn::named_parameters<T, B>(model)),
        adam_(params_, adam_options(hp)),
        lr_{hp.learning_rate, hp.decay_rate, hp.min_learning_rate} {}

  StepStats step(const Batch<T, B>& batch) {
    const std::int64_t s = adam_.steps();
    StepStats st;
    st.lr = lr_(s);
    adam_.set_lr(st.lr);
    LossOptions o;
    o.beta = st.beta = kl_beta(s, hp_.max_beta, hp_.beta_rate);
    o.free_bits = hp_.free_bits;
    o.sampling_prob = st.sampling_prob = hp_.sampling(s);
    o.rng = Philox{seed_, 8 * std::uint64_t(s)};
    tape_.clear();
    auto r = model_.loss(tape_, batch, o);
    st.loss = double(r.loss.value().item());
    st.r_loss = r.r_loss;
    st.kl = r.kl;
    st.accuracy = r.accuracy;
    FUGUE_CHECK(std::isfinite(st.loss), "training diverged at step ", s, ": the loss is ", st.loss, " (reconstruction ",
                r.r_loss, ", KL ", r.kl, "); parameters left unchanged, the last checkpoint is the last good state");
    adam_.zero_grad();
    tape_.backward(r.loss);
    const auto clip = optim::clip_grad_norm_or_zero(params_, hp_.grad_clip, hp_.grad_norm_clip_to_zero);
    st.grad_norm = clip.norm;
    st.zeroed = clip.zeroed;
    FUGUE_CHECK(std::isfinite(st.grad_norm), "training diverged at step ", s, ": the gradient norm is ", st.grad_norm,
                "; parameters left unchanged, the last checkpoint is the last good state");
    adam_.step();
    tape_.clear();
    ++batches_;
    st.step = adam_.steps();
    return st;
  }

  std::int64_t steps() const { return adam_.steps(); }
  std::int64_t batches() const { return batches_; }
  void set_batches(std::int64_t b) { batches_ = b; }
  const TrainConfig& config() const { return hp_; }
  optim::Adam<T, B>& optimizer() { return adam_; }

  void save(const std::filesystem::path& path) {
    optim::save_training_checkpoint(path, model_, adam_, "fugue-music-vae-1", batches_, seed_);
  }

  void load(const std::filesystem::path& path) {
    const auto c = optim::load_training_checkpoint(path, model_, adam_, "fugue-music-vae-1", "MusicVAE");
    batches_ = c.batches;
    seed_ = c.seed;
  }

 private:
  static optim::AdamOptions adam_options(const TrainConfig& hp) {
    optim::AdamOptions a;
    a.lr = hp.learning_rate;
    a.tf_epsilon = true;
    return a;
  }

  Model& model_;
  TrainConfig hp_;
  std::uint64_t seed_;
  optim::NamedParameters<T, B> params_;
  optim::Adam<T, B> adam_;
  optim::ExponentialDecayLR lr_;
  ad::Tape<T, B> tape_;
  std::int64_t batches_ = 0;
};

}  // namespace fugue::models::music_vae
