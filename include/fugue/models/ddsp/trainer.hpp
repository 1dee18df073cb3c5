// fugue/models/ddsp/trainer.hpp — DDSP's objective for the shared trainer (train/trainer.hpp).
//
// Contract
//  * Objective<Model>{model, TrainConfig}; Trainer<Model>(model, TrainConfig, seed) is
//    train::Trainer over it, with Adam with Keras' epsilon placement (b1 0.9,
//    b2 0.999, eps 1e-7), learning rate lr0 * decay_rate^(step / decay_steps) (continuous
//    ExponentialDecay; 3e-4, 0.98, 10000 by default), global-norm clipping to grad_clip (3.0,
//    torch's clip_grad_norm_ = tf.clip_by_global_norm). "step" = updates done so far.
//  * step(batch): one update on the multi-scale spectral loss; returns loss, grad norm, lr.
//    The filtered-noise draws of step s use noise stream (seed << 40) | ((s + 1) << 12) (row n: + n,
//    batches of at most 4096 rows), so a step is a pure function of (parameters, optimizer state,
//    step, batch) and no two (seed, step, row) share noise: resume continues bit-exactly.
//  * A non-finite loss or gradient norm throws fugue::error ("training diverged at step N")
//    BEFORE the parameters change, so the last saved checkpoint stays the last good state.
//  * save(path) / load(path): one safetensors file written atomically: "model.*", "optim.*",
//    metadata trainer.step / trainer.batches / trainer.seed / trainer.format ("fugue-ddsp-1").
//    A checkpoint of another model raises fugue::error naming the tensor.
//  * Batch: f0_hz [N, F], loudness_db [N, F], audio [N, F * hop].
#pragma once

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <string_view>

#include "fugue/train/trainer.hpp"

namespace fugue::models::ddsp {

template <Scalar T, Backend B = cpu::native>
struct Batch {
  Tensor<T, B> f0_hz, loudness_db, audio;
  index_t size() const { return f0_hz.dim(0); }
};

struct TrainConfig {
  double learning_rate = 3e-4;
  double decay_rate = 0.98;
  double decay_steps = 10000;
  double grad_clip = 3.0;
};

struct Metrics {};  // the spectral loss is the only reported scalar
using StepStats = train::StepResult<Metrics>;

template <class Model, Scalar T = float, Backend B = cpu::native>
struct Objective {
  using scalar_type = T;
  using backend_type = B;
  using batch_type = Batch<T, B>;
  using metrics_type = Metrics;
  static constexpr std::string_view family = "DDSP";
  static constexpr std::string_view checkpoint_format = "fugue-ddsp-1";

  Model* net;
  TrainConfig hp;

  Model& model() { return *net; }
  double learning_rate(std::int64_t step) const {
    return hp.learning_rate * std::pow(hp.decay_rate, double(step) / hp.decay_steps);
  }
  train::ClipRule clip() const { return train::ClipRule::torch_global_norm(hp.grad_clip); }
  optim::AdamOptions optimizer_options() const {
    optim::AdamOptions a;
    a.lr = hp.learning_rate;
    a.eps = 1e-7;
    a.tf_epsilon = true;
    return a;
  }
  // The filtered-noise stream of a step: no two (seed, step, row) share noise.
  static std::uint64_t noise_stream(std::uint64_t seed, std::int64_t step) {
    return (seed << 40) | ((std::uint64_t(step) + 1) << 12);
  }

  train::Loss<T, B, Metrics> loss(ad::Tape<T, B>& tape, const batch_type& batch, const train::StepContext& ctx) {
    FUGUE_CHECK(batch.f0_hz.defined() && batch.size() >= 1 && batch.size() <= 4096, "ddsp::Trainer::step: batch of ",
                batch.f0_hz.defined() ? batch.size() : 0, " rows (1 .. 4096)");
    return {net->loss(tape, batch.f0_hz, batch.loudness_db, batch.audio, noise_stream(ctx.seed, ctx.step)), {}};
  }
};

template <class Model, Scalar T = float, Backend B = cpu::native>
class Trainer : public train::Trainer<Objective<Model, T, B>> {
  using Base = train::Trainer<Objective<Model, T, B>>;

 public:
  Trainer(Model& model, TrainConfig hp = {}, std::uint64_t seed = 1) : Base(Objective<Model, T, B>{&model, hp}, seed) {}

  double learning_rate(std::int64_t step) const { return this->objective().learning_rate(step); }
  std::uint64_t noise_stream(std::int64_t step) const {
    return Objective<Model, T, B>::noise_stream(this->seed(), step);
  }
};

}  // namespace fugue::models::ddsp
