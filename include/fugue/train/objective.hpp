// fugue/train/objective.hpp — what a model family hands the shared trainer (train/trainer.hpp).
//
// Contract
//  * An Objective is a small value type that owns nothing but a reference to its model and its
//    hyperparameters. It names its scalar, backend, batch and metrics types and provides:
//      model()                  the parameter module (nn::Module) the optimizer updates and the
//                               checkpoint saves;
//      loss(tape, batch, ctx)   a train::Loss: the differentiable scalar plus the step's metrics
//                               (plain doubles, no host work beyond what the loss needs); every
//                               random draw comes from ctx (seed, step), so a step is a pure
//                               function of (parameters, optimizer state, step, batch);
//      learning_rate(step)      the schedule, step = updates done so far;
//      clip()                   the gradient clipping rule (ClipRule);
//      optimizer_options()      what the optimizer is built with;
//      family / checkpoint_format  static strings naming the model family and the checkpoint
//                               layout ("fugue-music-vae-1").
//  * Metrics may provide `std::string describe() const`: the trainer adds it to the divergence
//    message ("training diverged at step N: the loss is nan (<describe>) ...").
#pragma once

#include <concepts>
#include <cstdint>
#include <string>
#include <string_view>

#include "fugue/autodiff/tape.hpp"
#include "fugue/nn/module.hpp"

namespace fugue::train {

// What the trainer tells the objective about the step it is computing.
struct StepContext {
  std::int64_t step = 0;   // updates done before this one (TF's global_step)
  std::uint64_t seed = 0;  // the trainer's seed
};

template <Scalar T, Backend B, class Metrics>
struct Loss {
  ad::Var<T, B> value;  // the scalar the trainer differentiates
  Metrics metrics;      // the step's reported scalars
};

// Gradient clipping by global norm, in the flavour each family was published with.
struct ClipRule {
  enum class Kind {
    none,
    torch_global_norm,       // torch.nn.utils.clip_grad_norm_ (DDSP's PyTorch ports)
    tf_global_norm,          // tf.clip_by_global_norm
    tf_global_norm_or_zero,  // MusicVAE: clip_by_global_norm below a threshold, zero above it
  };
  Kind kind = Kind::none;
  double max_norm = 0;
  double zero_threshold = 0;

  static ClipRule none() { return {}; }
  static ClipRule torch_global_norm(double max_norm) { return {Kind::torch_global_norm, max_norm, 0}; }
  static ClipRule tf_global_norm(double max_norm) { return {Kind::tf_global_norm, max_norm, 0}; }
  static ClipRule tf_global_norm_or_zero(double max_norm, double zero_threshold) {
    return {Kind::tf_global_norm_or_zero, max_norm, zero_threshold};
  }
};

template <class O>
concept Objective =
    Scalar<typename O::scalar_type> && Backend<typename O::backend_type> && std::copyable<typename O::metrics_type> &&
    requires(O& o, const O& co, ad::Tape<typename O::scalar_type, typename O::backend_type>& tape,
             const typename O::batch_type& batch, const StepContext& ctx, std::int64_t step) {
      { o.model() } -> nn::Module;
      {
        o.loss(tape, batch, ctx)
      } -> std::same_as<Loss<typename O::scalar_type, typename O::backend_type, typename O::metrics_type>>;
      { co.learning_rate(step) } -> std::convertible_to<double>;
      { co.clip() } -> std::same_as<ClipRule>;
      co.optimizer_options();
      { O::family } -> std::convertible_to<std::string_view>;
      { O::checkpoint_format } -> std::convertible_to<std::string_view>;
    };

}  // namespace fugue::train
