// fugue/models/ddsp/features.hpp — DDSP conditioning features from audio with fugue's own DSP
// (docs/ddsp.md, "Features"; CREPE is replaced by YIN, dsp/f0.hpp).
//
// Contract
//  * compute_features(audio, options) -> Features{f0_hz, loudness_db, confidence} with exactly
//    F = audio.size() / hop frames (hop = sample_rate / frame_rate; audio.size() must be a
//    multiple of hop, else fugue::error). Frame t describes the audio centred on sample t * hop:
//    YIN and the loudness STFT use centre padding and the final (1 + F)-th centre frame is
//    dropped (DDSP resamples its 1001 loudness frames to 1000 instead; the two differ by less
//    than a frame's hop).
//  * f0: YIN (frame 1024, fmin / fmax from the options). Frames that are silent or unvoiced with
//    confidence below min_confidence take the nearest confident frame's f0 (forward fill, the
//    first confident value before it), so the oscillators never jump to 0 Hz between notes; a
//    clip with no confident frame gets fallback_f0_hz. `confidence` keeps YIN's raw value.
//  * loudness: LoudnessKind::a_weighted = dsp::loudness_db, DDSP v2 convention (n_fft 512,
//    A-weighted mean power, range 80 dB); LoudnessKind::rms_power = dsp::power_db (DDSP-VST's
//    pw_db: frame-RMS in dB, frame 1024), for the vst_16k config.
#pragma once

#include <span>
#include <vector>

#include "fugue/core/error.hpp"
#include "fugue/dsp/f0.hpp"
#include "fugue/dsp/loudness.hpp"

namespace fugue::models::ddsp {

enum class LoudnessKind { a_weighted, rms_power };

struct FeatureOptions {
  double sample_rate = 16000;
  double frame_rate = 250;
  double fmin = 60, fmax = 2000;
  double yin_threshold = 0.1;  // YIN's absolute threshold on the normalised difference
  double min_confidence = 0.5;
  double fallback_f0_hz = 440;
  LoudnessKind loudness = LoudnessKind::a_weighted;
};

template <class T>
struct Features {
  std::vector<T> f0_hz, loudness_db, confidence;
  std::size_t frames() const { return f0_hz.size(); }
};

template <class T>
Features<T> compute_features(std::span<const T> audio, const FeatureOptions& o = {}) {
  const double h = o.sample_rate / o.frame_rate;
  FUGUE_CHECK(o.sample_rate > 0 && o.frame_rate > 0 && h >= 1 && h == std::floor(h),
              "ddsp::compute_features: sample_rate / frame_rate must be a whole number, got ", o.sample_rate, " / ",
              o.frame_rate);
  const std::size_t hop = std::size_t(h);
  FUGUE_CHECK(!audio.empty() && audio.size() % hop == 0, "ddsp::compute_features: ", audio.size(),
              " samples is not a positive multiple of the hop ", hop);
  for (std::size_t i = 0; i < audio.size(); ++i)
    FUGUE_CHECK(std::isfinite(double(audio[i])), "ddsp::compute_features: sample ", i, " is not finite");
  const std::size_t F = audio.size() / hop;

  dsp::YinConfig yc;
  yc.sample_rate = o.sample_rate;
  yc.fmin = o.fmin;
  yc.fmax = o.fmax;
  yc.hop = hop;
  yc.center = true;
  yc.threshold = o.yin_threshold;
  const auto track = dsp::yin<T>(audio, yc);
  Features<T> out;
  out.f0_hz.assign(track.f0_hz.begin(), track.f0_hz.begin() + std::ptrdiff_t(F));
  out.confidence.assign(track.confidence.begin(), track.confidence.begin() + std::ptrdiff_t(F));
  // Fill frames without a confident pitch from their neighbours.
  T last = T(-1);
  for (std::size_t t = 0; t < F; ++t) {
    const bool ok = out.f0_hz[t] > T(0) && double(out.confidence[t]) >= o.min_confidence;
    if (ok)
      last = out.f0_hz[t];
    else
      out.f0_hz[t] = last;
  }
  T first = T(o.fallback_f0_hz);
  for (std::size_t t = 0; t < F; ++t)
    if (out.f0_hz[t] > T(0)) {
      first = out.f0_hz[t];
      break;
    }
  for (std::size_t t = 0; t < F && out.f0_hz[t] <= T(0); ++t) out.f0_hz[t] = first;

  std::vector<T> ld;
  if (o.loudness == LoudnessKind::a_weighted) {
    dsp::LoudnessConfig lc = dsp::LoudnessConfig::v2();
    lc.frame_rate = o.frame_rate;
    ld = dsp::loudness_db<T>(audio, o.sample_rate, lc);
  } else {
    ld = dsp::power_db<T>(audio, o.sample_rate, o.frame_rate);
  }
  FUGUE_CHECK(ld.size() >= F, "ddsp::compute_features: ", ld.size(), " loudness frames for ", F, " frames");
  out.loudness_db.assign(ld.begin(), ld.begin() + std::ptrdiff_t(F));
  return out;
}

}  // namespace fugue::models::ddsp
