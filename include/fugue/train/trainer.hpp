// fugue/train/trainer.hpp — the one training step every model family uses.
//
// Contract
//  * Trainer<Objective, Optimizer = optim::Adam>(objective, seed): the optimizer is built over
//    nn::named_parameters(objective.model()) with objective.optimizer_options().
//  * step(batch), with s = steps() the updates done so far:
//      1. lr = objective.learning_rate(s); a non-finite or negative lr is refused (fugue::error)
//         before anything changes;
//      2. loss = objective.loss(tape, batch, {s, seed}) on a cleared tape;
//      3. a non-finite loss throws "training diverged at step s: the loss is ..." BEFORE the
//         parameters change, so the last saved checkpoint stays the last good state;
//      4. zero-grad, backward, global-norm clipping by objective.clip() (ClipRule), and the same
//         divergence error for a non-finite gradient norm (parameters still unchanged);
//      5. the optimizer step at lr; batches() counts the batch.
//    It returns StepResult<Metrics>: the objective's metrics plus step (updates done after this
//    one), loss, grad_norm, lr and zeroed (the clip rule zeroed the gradients).
//  * save(path) / load(path): one safetensors file written atomically (temp file + fsync +
//    rename) holding "model.*", "optim.*" and the metadata trainer.format (the objective's
//    checkpoint_format), trainer.step, trainer.batches, trainer.seed. Resume is bit-exact: a step
//    is a pure function of (parameters, optimizer state, step, batch). A checkpoint of another
//    model raises fugue::error naming the tensor (optim/training_checkpoint.hpp).
//  * Not thread-safe (one tape per trainer); the model must outlive the trainer.
#pragma once

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <string>
#include <type_traits>
#include <utility>

#include "fugue/core/error.hpp"
#include "fugue/nn/module.hpp"
#include "fugue/optim/adam.hpp"
#include "fugue/optim/clip.hpp"
#include "fugue/optim/training_checkpoint.hpp"
#include "fugue/train/objective.hpp"

namespace fugue::train {

// The objective's metrics plus what every step reports.
template <class Metrics>
struct StepResult : Metrics {
  std::int64_t step = 0;  // updates done after this one
  double loss = 0, grad_norm = 0, lr = 0;
  bool zeroed = false;  // the clip rule set every gradient to zero
};

// Applies a ClipRule to the named parameters; returns {norm before clipping, zeroed}.
template <class Params>
std::pair<double, bool> apply_clip(Params& params, const ClipRule& rule) {
  switch (rule.kind) {
    case ClipRule::Kind::none: return {optim::grad_global_norm(params), false};
    case ClipRule::Kind::torch_global_norm: return {optim::clip_grad_norm(params, rule.max_norm), false};
    case ClipRule::Kind::tf_global_norm: return {optim::clip_grad_norm_tf(params, rule.max_norm).norm, false};
    case ClipRule::Kind::tf_global_norm_or_zero: {
      const auto c = optim::clip_grad_norm_or_zero(params, rule.max_norm, rule.zero_threshold);
      return {c.norm, c.zeroed};
    }
  }
  FUGUE_FAIL("train: unknown clip rule");
}

template <Objective O, class Opt = optim::Adam<typename O::scalar_type, typename O::backend_type>>
  requires std::derived_from<Opt, optim::Optimizer<typename O::scalar_type, typename O::backend_type>>
class Trainer {
 public:
  using objective_type = O;
  using scalar_type = typename O::scalar_type;
  using backend_type = typename O::backend_type;
  using batch_type = typename O::batch_type;
  using metrics_type = typename O::metrics_type;
  using result_type = StepResult<metrics_type>;

  explicit Trainer(O objective, std::uint64_t seed = 1)
      : objective_(std::move(objective)),
        seed_(seed),
        params_(nn::named_parameters<scalar_type, backend_type>(objective_.model())),
        opt_(params_, objective_.optimizer_options()) {}

  // Trainers hold pointers into their own parameter list: not copyable or movable.
  Trainer(const Trainer&) = delete;
  Trainer& operator=(const Trainer&) = delete;

  result_type step(const batch_type& batch) {
    const std::int64_t s = opt_.steps();
    result_type r;
    r.lr = objective_.learning_rate(s);
    FUGUE_CHECK(std::isfinite(r.lr) && r.lr >= 0, O::family, " trainer: the learning rate at step ", s, " is ", r.lr,
                " (must be finite and >= 0); nothing was changed");
    tape_.clear();
    auto loss = objective_.loss(tape_, batch, StepContext{s, seed_});
    static_cast<metrics_type&>(r) = loss.metrics;
    r.loss = double(loss.value.value().item());
    FUGUE_CHECK(std::isfinite(r.loss), "training diverged at step ", s, ": the loss is ", r.loss, describe(r),
                "; parameters left unchanged, the last checkpoint is the last good state");
    opt_.zero_grad();
    tape_.backward(loss.value);
    std::tie(r.grad_norm, r.zeroed) = apply_clip(params_, objective_.clip());
    FUGUE_CHECK(std::isfinite(r.grad_norm), "training diverged at step ", s, ": the gradient norm is ", r.grad_norm,
                "; parameters left unchanged, the last checkpoint is the last good state");
    opt_.set_lr(r.lr);
    opt_.step();
    tape_.clear();
    ++batches_;
    r.step = opt_.steps();
    return r;
  }

  std::int64_t steps() const { return opt_.steps(); }
  std::int64_t batches() const { return batches_; }
  void set_batches(std::int64_t b) { batches_ = b; }
  std::uint64_t seed() const { return seed_; }
  O& objective() { return objective_; }
  const O& objective() const { return objective_; }
  Opt& optimizer() { return opt_; }
  const Opt& optimizer() const { return opt_; }

  void save(const std::filesystem::path& path) {
    optim::save_training_checkpoint(path, objective_.model(), opt_, O::checkpoint_format, batches_, seed_);
  }

  void load(const std::filesystem::path& path) {
    const auto c = optim::load_training_checkpoint(path, objective_.model(), opt_, O::checkpoint_format, O::family);
    batches_ = c.batches;
    seed_ = c.seed;
  }

 private:
  static std::string describe(const metrics_type& m) {
    if constexpr (requires { m.describe(); })
      return " (" + m.describe() + ")";
    else
      return {};
  }

  O objective_;
  std::uint64_t seed_;
  optim::NamedParameters<scalar_type, backend_type> params_;
  Opt opt_;
  ad::Tape<scalar_type, backend_type> tape_;
  std::int64_t batches_ = 0;
};

}  // namespace fugue::train
