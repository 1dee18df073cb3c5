// fugue/models/ddsp/reverbs.hpp — the reverb stage of a DDSP model (docs/ddsp.md, "Reverb").
//
// Contract: each type is a module (visit_parameters) with
//   apply(tape, audio [N, S]) -> [N, S]        the training path;
//   render(audio [N, S]) const -> [N, S]       the same without a lasting tape (inference);
//   impulse_response() -> std::vector<T>       the effective IR with the dry tap masked
//                                              (ir[0] = 0; the dry path is added separately),
//                                              empty for NoReverb; used by the streaming engine;
//   static constexpr index_t length            IR taps (0: no reverb).
//  * NoReverb: identity (DDSP ae.gin: no reverb).
//  * TrainableReverb<T, B, Taps>: DDSP effects.Reverb(trainable=True, add_dry=True):
//    parameter "ir" [Taps], init N(0, 1e-6); out = audio + (masked ir) * audio (causal, first S
//    samples).
//  * NoiseReverb<T, B, Taps, Frames, Banks>: DDSP FilteredNoiseReverb (VST configs): the IR is
//    filtered noise (Taps samples) shaped by the trainable magnitudes "magnitudes" [1, Frames,
//    Banks], init N(0, 1e-2), exp_sigmoid(x + initial_bias) (initial_bias -3 at 16 kHz);
//    its noise is fixed (Philox seed 0x2e7e5b), so the IR is a deterministic function of the
//    magnitudes.
#pragma once

#include <vector>

#include "fugue/autodiff/evaluate.hpp"
#include "fugue/autodiff/ops/shape.hpp"
#include "fugue/autodiff/parameter.hpp"
#include "fugue/autodiff/tape.hpp"
#include "fugue/dsp/filtered_noise.hpp"
#include "fugue/dsp/reverb.hpp"
#include "fugue/nn/module.hpp"

namespace fugue::models::ddsp {

template <Scalar T, Backend B>
struct NoReverb {
  static constexpr index_t length = 0;
  explicit NoReverb(Philox = {}) {}
  ad::Var<T, B> apply(ad::Tape<T, B>&, const ad::Var<T, B>& audio) { return audio; }
  Tensor<T, B> render(const Tensor<T, B>& audio) const { return audio; }
  std::vector<T> impulse_response() const { return {}; }
  template <class F>
  void visit_parameters(F&&, std::string_view = {}) {}
};

template <Scalar T, Backend B, index_t Taps>
class TrainableReverb {
  static_assert(Taps >= 2);

 public:
  static constexpr index_t length = Taps;
  explicit TrainableReverb(Philox init = {0x7e7e, 0}) { ir.value = Tensor<T, B>::normal({Taps}, init, T(0), T(1e-6)); }
  ad::Var<T, B> apply(ad::Tape<T, B>& tape, const ad::Var<T, B>& audio) { return dsp::reverb(audio, tape.param(ir)); }
  Tensor<T, B> render(const Tensor<T, B>& audio) const {
    return ad::evaluate([](const auto& a, const auto& h) { return dsp::reverb(a, h); }, audio, ir.value);
  }
  std::vector<T> impulse_response() const {
    std::vector<T> h = ir.value.to_vector();
    h[0] = T(0);
    return h;
  }
  template <class F>
  void visit_parameters(F&& f, std::string_view prefix = {}) {
    f(nn::join_name(prefix, "ir"), ir);
  }
  ad::Parameter<T, B> ir;
};

template <Scalar T, Backend B, index_t Taps, index_t Frames, index_t Banks>
class NoiseReverb {
  static_assert(Taps >= Frames && Banks >= 3);

 public:
  static constexpr index_t length = Taps;
  explicit NoiseReverb(Philox init = {0x7e7f, 0}, double initial_bias = -3.0) : noise_(options(initial_bias)) {
    magnitudes.value = Tensor<T, B>::normal({1, Frames, Banks}, init, T(0), T(1e-2));
  }
  ad::Var<T, B> apply(ad::Tape<T, B>& tape, const ad::Var<T, B>& audio) {
    const auto ir = ad::reshape(noise_(tape.param(magnitudes)), {Taps});
    return dsp::reverb(audio, ir);
  }
  // render() and impulse_response() call dsp::filtered_noise, which builds its own noise spectra
  // (noise_ caches them for apply() and is not touched): the same options, so the same IR.
  Tensor<T, B> render(const Tensor<T, B>& audio) const {
    const auto& o = noise_.options();
    return ad::evaluate(
        [&o](const auto& a, const auto& m) { return dsp::reverb(a, ad::reshape(dsp::filtered_noise(m, o), {Taps})); },
        audio, magnitudes.value);
  }
  std::vector<T> impulse_response() const {
    std::vector<T> h =
        ad::evaluate([this](const auto& m) { return dsp::filtered_noise(m, noise_.options()); }, magnitudes.value)
            .to_vector();
    h[0] = T(0);
    return h;
  }
  template <class F>
  void visit_parameters(F&& f, std::string_view prefix = {}) {
    f(nn::join_name(prefix, "magnitudes"), magnitudes);
  }
  ad::Parameter<T, B> magnitudes;

 private:
  static dsp::FilteredNoiseOptions options(double bias) {
    dsp::FilteredNoiseOptions o;
    o.n_samples = std::size_t(Taps);
    o.initial_bias = bias;
    o.seed = 0x2e7e5b;
    return o;
  }
  dsp::FilteredNoise<T> noise_;
};

}  // namespace fugue::models::ddsp
