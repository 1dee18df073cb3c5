// fugue/models/ddsp/model.hpp — the DDSP decoder model: f0 + loudness -> RnnFcDecoder ->
// harmonic + filtered-noise synthesizers -> reverb (docs/ddsp.md, "Model facts").
//
// Contract
//  * Model<T, B, Decoder, Harmonics, NoiseBands, Reverb, Encoder = NoEncoder>: Decoder::output_size
//    must be 1 + Harmonics + NoiseBands; its outputs split in order amps | harmonic_distribution |
//    noise_magnitudes. With an Encoder (the autoencoder, e.g. MfccRnnEncoder) z is encoded from
//    the source audio and fed to the decoder (Encoder::z_dims must equal Decoder::z_dims).
//    The class requires ControlDecoder, AudioEncoder and ReverbStage (concepts.hpp).
//    Parameters "encoder.*", "decoder.*" and "reverb.*"; parameter_count() sums them.
//  * ModelOptions: sample_rate (16000), frame_rate (250; the hop sample_rate / frame_rate must be
//    a whole number), amp_resample (window, DDSP's Harmonic default; the VST configs use linear),
//    noise_seed (42).
//  * Inputs are frame features: f0_hz [N, F] and loudness_db [N, F] (A-weighted, DDSP v2
//    convention). Preprocessing as F0LoudnessPreprocessor: f0_scaled = hz_to_midi(f0) / 127
//    (f0 <= 0 Hz -> MIDI 0), ld_scaled = loudness_db / 80 + 1.
//  * audio(tape, f0_hz, loudness_db, noise_stream, source) -> [N, F * hop] (source: the audio
//    the encoder reads, [N, F * hop]; required with an encoder, ignored without): harmonic(amps, dist, f0) +
//    filtered_noise(noise) -> reverb. The noise of row n is Philox{noise_seed, noise_stream + n}
//    (the same noise for the same stream: training passes a fresh stream per step).
//  * loss(tape, f0_hz, loudness_db, target [N, F * hop], noise_stream) -> scalar multi-scale
//    spectral loss (the target is also the encoder's source) (FFT 2048..64, overlap 0.75, L1 on magnitude and log
//    magnitude, weights 1/1).
//  * synthesize(f0_hz, loudness_db, noise_stream, source) const -> audio tensor, audio()'s value
//    without a lasting tape: decoder and encoder tape-free (control_tensor()), each synthesis
//    stage on a private graph-free tape freed before the next (ad::evaluate). Nothing in the
//    model changes, so many threads may call it on one shared const model.
//  * spectral_loss(x, y) const -> the multi-scale spectral loss of two audio tensors, as a number.
//  * Shape mismatches raise fugue::error naming the tensors.
#pragma once

#include <cmath>
#include <optional>

#include "fugue/autodiff/evaluate.hpp"
#include "fugue/autodiff/ops/elementwise.hpp"
#include "fugue/autodiff/ops/shape.hpp"
#include "fugue/dsp/filtered_noise.hpp"
#include "fugue/dsp/harmonic_synth.hpp"
#include "fugue/dsp/spectral_loss.hpp"
#include "fugue/models/ddsp/concepts.hpp"
#include "fugue/models/ddsp/decoder.hpp"
#include "fugue/models/ddsp/encoders.hpp"
#include "fugue/models/ddsp/reverbs.hpp"
#include "fugue/nn/module.hpp"

namespace fugue::models::ddsp {

inline constexpr double kDbRange = 80.0;   // DDSP HEAD core.DB_RANGE
inline constexpr double kF0Range = 127.0;  // MIDI

template <class T>
T hz_to_midi(T hz) {
  return hz > T(0) ? T(12) * (std::log2(hz) - std::log2(T(440))) + T(69) : T(0);
}
template <class T>
T midi_to_hz(T m) {
  return T(440) * std::exp2((m - T(69)) / T(12));
}
template <class T>
T scale_f0(T hz) {
  return hz_to_midi(hz) / T(kF0Range);
}
template <class T>
T scale_loudness(T db) {
  return db / T(kDbRange) + T(1);
}

struct ModelOptions {
  double sample_rate = 16000;
  double frame_rate = 250;
  dsp::AmpResample amp_resample = dsp::AmpResample::window;
  std::uint64_t noise_seed = 42;

  std::size_t hop() const {
    const double h = sample_rate / frame_rate;
    FUGUE_CHECK(sample_rate > 0 && frame_rate > 0 && h >= 1 && std::abs(h - std::round(h)) < 1e-9,
                "ddsp: sample_rate / frame_rate must be a whole number of samples, got ", sample_rate, " / ",
                frame_rate);
    return std::size_t(std::round(h));
  }
};

// The plug points are checked against concepts.hpp: a decoder with the wrong output width, an
// encoder whose z width is not the decoder's or a reverb missing a member is a compile error
// naming ControlDecoder / AudioEncoder / ReverbStage.
template <Scalar T, Backend B, class Decoder, index_t Harmonics, index_t NoiseBands, class Reverb,
          class Encoder = NoEncoder<T, B>>
  requires ControlDecoder<Decoder, T, B, 1 + Harmonics + NoiseBands> && AudioEncoder<Encoder, T, B, Decoder::z_dims> &&
           ReverbStage<Reverb, T, B>
class Model {
  static_assert(Harmonics >= 1 && NoiseBands >= 3);

 public:
  using value_type = T;
  using backend_type = B;
  using tensor_type = Tensor<T, B>;
  using var_type = ad::Var<T, B>;
  using decoder_type = Decoder;
  using encoder_type = Encoder;
  static constexpr bool has_encoder = Encoder::z_dims > 0;
  using reverb_type = Reverb;
  static constexpr index_t harmonics = Harmonics;
  static constexpr index_t noise_bands = NoiseBands;

  explicit Model(ModelOptions o = {}, Philox init = {0xdd5b, 0})
      : opt_(o),
        hop_(o.hop()),
        encoder_(Philox{init.seed, init.stream + 800}),
        decoder_(init),
        reverb_(Philox{init.seed, init.stream + 900}) {}

  struct Controls {
    var_type amps, distribution, noise;  // [N, F, 1], [N, F, Harmonics], [N, F, NoiseBands]
  };

  // Scaled decoder inputs [N, F, 1] from f0_hz / loudness_db [N, F].
  static std::pair<tensor_type, tensor_type> preprocess(const tensor_type& f0_hz, const tensor_type& loudness_db) {
    check_features(f0_hz, loudness_db);
    const index_t n = f0_hz.dim(0), f = f0_hz.dim(1);
    std::vector<T> fv = f0_hz.contiguous().to_vector(), lv = loudness_db.contiguous().to_vector();
    for (std::size_t i = 0; i < fv.size(); ++i) {
      FUGUE_CHECK(std::isfinite(double(fv[i])) && std::isfinite(double(lv[i])), "ddsp::Model: frame ", i,
                  " has a non-finite f0 (", double(fv[i]), ") or loudness (", double(lv[i]), ")");
      fv[i] = scale_f0(fv[i]);
      lv[i] = scale_loudness(lv[i]);
    }
    return {tensor_type::from(fv, {n, f, 1}), tensor_type::from(lv, {n, f, 1})};
  }

  Controls controls(ad::Tape<T, B>& tape, const tensor_type& f0_hz, const tensor_type& loudness_db,
                    const tensor_type* source = nullptr) {
    auto [f0s, lds] = preprocess(f0_hz, loudness_db);
    var_type y;
    if constexpr (has_encoder) {
      check_source(source, f0_hz);
      const var_type z = encoder_(tape, Encoder::features(*source), f0_hz.dim(1));
      y = decoder_(tape, tape.constant(lds), tape.constant(f0s), &z);
    } else {
      y = decoder_(tape, tape.constant(lds), tape.constant(f0s));
    }
    return {ad::slice(y, 2, 0, 1), ad::slice(y, 2, 1, 1 + Harmonics),
            ad::slice(y, 2, 1 + Harmonics, 1 + Harmonics + NoiseBands)};
  }

  // Dry synth output (harmonic + noise) before the reverb.
  var_type dry(ad::Tape<T, B>& tape, const tensor_type& f0_hz, const tensor_type& loudness_db,
               std::uint64_t noise_stream = 0, const tensor_type* source = nullptr) {
    const Controls c = controls(tape, f0_hz, loudness_db, source);
    const std::size_t N = std::size_t(f0_hz.dim(1)) * hop_;
    const var_type f0 = tape.constant(f0_hz.contiguous());
    const var_type h = harmonic(N)(c.amps, c.distribution, f0);
    const var_type z = noise(N, noise_stream)(c.noise);
    return ad::add(h, z);
  }

  var_type audio(ad::Tape<T, B>& tape, const tensor_type& f0_hz, const tensor_type& loudness_db,
                 std::uint64_t noise_stream = 0, const tensor_type* source = nullptr) {
    return reverb_.apply(tape, dry(tape, f0_hz, loudness_db, noise_stream, source));
  }

  var_type loss(ad::Tape<T, B>& tape, const tensor_type& f0_hz, const tensor_type& loudness_db,
                const tensor_type& target, std::uint64_t noise_stream = 0) {
    const std::size_t N = std::size_t(f0_hz.dim(1)) * hop_;
    FUGUE_CHECK(target.rank() == 2 && target.dim(0) == f0_hz.dim(0) && std::size_t(target.dim(1)) == N,
                "ddsp::Model::loss: target audio must be [", f0_hz.dim(0), ", ", N, "] (frames x hop ", hop_, "), got ",
                target.shape().str());
    const var_type y = audio(tape, f0_hz, loudness_db, noise_stream, &target);
    return loss_(y, tape.constant(target.contiguous()));
  }

  // The raw controls [N, F, 1 + Harmonics + NoiseBands] without a tape (inference).
  tensor_type control_tensor(const tensor_type& f0_hz, const tensor_type& loudness_db,
                             const tensor_type* source = nullptr) const {
    auto [f0s, lds] = preprocess(f0_hz, loudness_db);
    if constexpr (has_encoder) {
      check_source(source, f0_hz);
      const tensor_type z = encoder_.forward(Encoder::features(*source), f0_hz.dim(1));
      return decoder_.forward(lds, f0s, &z);
    } else {
      return decoder_.forward(lds, f0s);
    }
  }

  // audio()'s result on a const model that many threads may share: the decoder (and encoder)
  // run tape-free, the synthesizers and the reverb each on a private graph-free tape that is
  // freed before the next stage (ad::evaluate), so no stage's temporaries outlive it.
  tensor_type synthesize(const tensor_type& f0_hz, const tensor_type& loudness_db, std::uint64_t noise_stream = 0,
                         const tensor_type* source = nullptr) const {
    const tensor_type controls = control_tensor(f0_hz, loudness_db, source);
    const std::size_t N = std::size_t(f0_hz.dim(1)) * hop_;
    const dsp::HarmonicOptions ho = harmonic_options(N);
    const dsp::FilteredNoiseOptions no = noise_options(N, noise_stream);
    const tensor_type dry = ad::evaluate(
        [&](const var_type& c, const var_type& f0) {
          dsp::HarmonicSynth<T> harmonic(ho);
          dsp::FilteredNoise<T> noise(no);
          return ad::add(harmonic(ad::slice(c, 2, 0, 1), ad::slice(c, 2, 1, 1 + Harmonics), f0),
                         noise(ad::slice(c, 2, 1 + Harmonics, 1 + Harmonics + NoiseBands)));
        },
        controls, f0_hz.contiguous());
    return reverb_.render(dry);
  }

  // The multi-scale spectral loss on plain tensors (for evaluation and baselines), on a const model.
  double spectral_loss(const tensor_type& x, const tensor_type& y) const {
    return double(ad::evaluate([this](const var_type& a, const var_type& b) { return loss_(a, b); }, x.contiguous(),
                               y.contiguous())
                      .item());
  }

  Decoder& decoder() { return decoder_; }
  const Decoder& decoder() const { return decoder_; }
  Encoder& encoder() { return encoder_; }
  const Encoder& encoder() const { return encoder_; }
  Reverb& reverb() { return reverb_; }
  const Reverb& reverb() const { return reverb_; }
  const ModelOptions& options() const { return opt_; }
  std::size_t hop() const { return hop_; }
  index_t parameter_count() { return nn::count_parameters(*this); }

  template <class F>
  void visit_parameters(F&& f, std::string_view prefix = {}) {
    encoder_.visit_parameters(f, nn::join_name(prefix, "encoder"));
    decoder_.visit_parameters(f, nn::join_name(prefix, "decoder"));
    reverb_.visit_parameters(f, nn::join_name(prefix, "reverb"));
  }

 private:
  static void check_features(const tensor_type& f0, const tensor_type& ld) {
    FUGUE_CHECK(f0.defined() && ld.defined() && f0.rank() == 2 && f0.shape() == ld.shape() && f0.dim(1) >= 1,
                "ddsp::Model: f0_hz and loudness_db must both be [N, F] with F >= 1, got ",
                f0.defined() ? f0.shape().str() : std::string("undefined"), " and ",
                ld.defined() ? ld.shape().str() : std::string("undefined"));
  }
  static void check_source(const tensor_type* source, const tensor_type& f0_hz) {
    FUGUE_CHECK(source && source->defined() && source->rank() == 2 && source->dim(0) == f0_hz.dim(0),
                "ddsp::Model: this autoencoder needs the source audio [", f0_hz.dim(0), ", S] to encode z");
  }
  dsp::HarmonicOptions harmonic_options(std::size_t n) const {
    dsp::HarmonicOptions h;
    h.n_samples = n;
    h.sample_rate = opt_.sample_rate;
    h.amp_resample = opt_.amp_resample;
    return h;
  }
  dsp::FilteredNoiseOptions noise_options(std::size_t n, std::uint64_t stream) const {
    dsp::FilteredNoiseOptions o;
    o.n_samples = n;
    o.seed = opt_.noise_seed;
    o.stream = stream;
    return o;
  }
  // The training path keeps its synthesizers between steps (their resampling tables and noise
  // spectra are cached per length and stream); synthesize() builds its own per call.
  dsp::HarmonicSynth<T>& harmonic(std::size_t n) {
    if (!harmonic_ || harmonic_->options().n_samples != n) harmonic_.emplace(harmonic_options(n));
    return *harmonic_;
  }
  dsp::FilteredNoise<T>& noise(std::size_t n, std::uint64_t stream) {
    if (!noise_ || noise_->options().n_samples != n || noise_->options().stream != stream)
      noise_.emplace(noise_options(n, stream));
    return *noise_;
  }

  ModelOptions opt_;
  std::size_t hop_;
  Encoder encoder_;
  Decoder decoder_;
  Reverb reverb_;
  std::optional<dsp::HarmonicSynth<T>> harmonic_;
  std::optional<dsp::FilteredNoise<T>> noise_;
  dsp::SpectralLoss<T> loss_;
};

}  // namespace fugue::models::ddsp
