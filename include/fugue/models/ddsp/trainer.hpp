// fugue/models/ddsp/trainer.hpp — DDSP's training loop (spec ddsp.md §6).
//
// Contract
//  * Trainer<Model>(model, TrainConfig, seed): Adam with Keras' epsilon placement (b1 0.9,
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
#include <string>

#include "fugue/nn/module.hpp"
#include "fugue/optim/adam.hpp"
#include "fugue/optim/clip.hpp"
#include "fugue/optim/training_checkpoint.hpp"

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

struct StepStats {
  std::int64_t step = 0;  // updates done after this one
  double loss = 0, grad_norm = 0, lr = 0;
};

template <class Model, Scalar T = float, Backend B = cpu::native>
class Trainer {
 public:
  Trainer(Model& model, TrainConfig hp = {}, std::uint64_t seed = 1)
      : model_(model),
        hp_(hp),
        seed_(seed),
        params_(nn::named_parameters<T, B>(model)),
        adam_(params_, adam_options(hp)) {}

  double learning_rate(std::int64_t step) const {
    return hp_.learning_rate * std::pow(hp_.decay_rate, double(step) / hp_.decay_steps);
  }

  StepStats step(const Batch<T, B>& batch) {
    const std::int64_t s = adam_.steps();
    StepStats st;
    st.lr = learning_rate(s);
    adam_.set_lr(st.lr);
    FUGUE_CHECK(batch.f0_hz.defined() && batch.size() >= 1 && batch.size() <= 4096, "ddsp::Trainer::step: batch of ",
                batch.f0_hz.defined() ? batch.size() : 0, " rows (1 .. 4096)");
    tape_.clear();
    auto loss = model_.loss(tape_, batch.f0_hz, batch.loudness_db, batch.audio, noise_stream(s));
    st.loss = double(loss.value().item());
    FUGUE_CHECK(std::isfinite(st.loss), "training diverged at step ", s, ": the loss is ", st.loss,
                "; parameters left unchanged, the last checkpoint is the last good state");
    adam_.zero_grad();
    tape_.backward(loss);
    st.grad_norm = optim::clip_grad_norm(params_, hp_.grad_clip);
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
  std::uint64_t noise_stream(std::int64_t step) const { return (seed_ << 40) | ((std::uint64_t(step) + 1) << 12); }
  std::uint64_t seed() const { return seed_; }

  void save(const std::filesystem::path& path) {
    optim::save_training_checkpoint(path, model_, adam_, "fugue-ddsp-1", batches_, seed_);
  }

  void load(const std::filesystem::path& path) {
    const auto c = optim::load_training_checkpoint(path, model_, adam_, "fugue-ddsp-1", "DDSP");
    batches_ = c.batches;
    seed_ = c.seed;
  }

 private:
  static optim::AdamOptions adam_options(const TrainConfig& hp) {
    optim::AdamOptions a;
    a.lr = hp.learning_rate;
    a.eps = 1e-7;
    a.tf_epsilon = true;
    return a;
  }

  Model& model_;
  TrainConfig hp_;
  std::uint64_t seed_;
  optim::NamedParameters<T, B> params_;
  optim::Adam<T, B> adam_;
  ad::Tape<T, B> tape_;
  std::int64_t batches_ = 0;
};

}  // namespace fugue::models::ddsp
