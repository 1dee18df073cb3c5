// fugue/dsp/framing.hpp — how a signal is padded and cut into overlapping frames.
//
// Contract: a Framing says: pad `pad_left` / `pad_right` samples (zeros, or a mirror image without
// repeating the edge sample, numpy/torch 'reflect'), then optionally pad zeros at the end so every
// sample starts a hop (tf.signal pad_end), then cut frames of `frame_length` every `hop` samples.
//   valid (no pad_end):  frames = 1 + (Np - L) / hop  if Np >= L, else 0      (Np = padded length)
//   pad_end:             frames = ceil(Np / hop), zeros appended up to (frames - 1) * hop + L
// Presets, for n_fft-sample frames:
//   center(n_fft, hop, zeros)   librosa 0.10 stft(center=True) default pad_mode='constant'; DDSP 'center'
//                               (n_fft/2 zeros each side; 1 + N/hop frames)
//   center(n_fft, hop, reflect) torch.stft(center=True) default pad_mode='reflect'
//   valid(n_fft, hop)           tf.signal.stft(pad_end=False), librosa/torch center=False
//   end(n_fft, hop)             tf.signal.stft(pad_end=True) = DDSP 'same' padding: ceil(N/hop) frames
//   left(n_fft, hop, L)         GANSynth: L zeros prepended (3072 for 64000 samples), then valid
// Reflect padding needs pad < N (as torch); violations and hop = 0 / frame_length = 0 throw fugue::error.
#pragma once

#include <algorithm>
#include <cstddef>
#include <span>
#include <vector>

#include "fugue/core/error.hpp"

namespace fugue::dsp {

enum class PadKind { zeros, reflect };

struct Framing {
  std::size_t frame_length = 0;
  std::size_t hop = 0;
  std::size_t pad_left = 0, pad_right = 0;
  PadKind pad = PadKind::zeros;
  bool pad_end = false;

  static Framing center(std::size_t n_fft, std::size_t hop, PadKind kind = PadKind::zeros) {
    return {n_fft, hop, n_fft / 2, n_fft / 2, kind, false};
  }
  static Framing valid(std::size_t n_fft, std::size_t hop) { return {n_fft, hop, 0, 0, PadKind::zeros, false}; }
  static Framing end(std::size_t n_fft, std::size_t hop) { return {n_fft, hop, 0, 0, PadKind::zeros, true}; }
  static Framing left(std::size_t n_fft, std::size_t hop, std::size_t n_left) {
    return {n_fft, hop, n_left, 0, PadKind::zeros, false};
  }

  void validate() const {
    FUGUE_CHECK(frame_length >= 1, "Framing: frame_length must be >= 1");
    FUGUE_CHECK(hop >= 1, "Framing: hop must be >= 1");
  }

  // Number of frames for an input of n samples.
  std::size_t num_frames(std::size_t n) const {
    validate();
    const std::size_t np = pad_left + n + pad_right;
    if (pad_end) return (np + hop - 1) / hop;
    return np >= frame_length ? 1 + (np - frame_length) / hop : 0;
  }

  // Length of the padded signal the frames are cut from.
  std::size_t padded_length(std::size_t n) const {
    const std::size_t np = pad_left + n + pad_right;
    if (!pad_end) return np;
    const std::size_t f = num_frames(n);
    return f == 0 ? np : std::max(np, (f - 1) * hop + frame_length);
  }

  // Writes the padded signal into out (size padded_length(x.size())).
  template <class T>
  void pad_into(std::span<const T> x, std::span<T> out) const {
    validate();
    const std::size_t n = x.size();
    FUGUE_CHECK(out.size() == padded_length(n), "Framing::pad_into: output has ", out.size(), " samples, need ",
                padded_length(n));
    std::fill(out.begin(), out.end(), T(0));
    std::copy(x.begin(), x.end(), out.begin() + static_cast<std::ptrdiff_t>(pad_left));
    if (pad == PadKind::reflect && (pad_left > 0 || pad_right > 0)) {
      FUGUE_CHECK(pad_left < n && pad_right < n, "Framing: reflect padding of ", std::max(pad_left, pad_right),
                  " samples needs a longer input than ", n, " samples");
      for (std::size_t i = 1; i <= pad_left; ++i) out[pad_left - i] = x[i];
      for (std::size_t i = 1; i <= pad_right; ++i) out[pad_left + n - 1 + i] = x[n - 1 - i];
    }
  }

  template <class T>
  std::vector<T> padded(std::span<const T> x) const {
    std::vector<T> out(padded_length(x.size()));
    pad_into<T>(x, out);
    return out;
  }
};

}  // namespace fugue::dsp
