// fugue/dsp/features.hpp — the spectral front ends of the Magenta models, composed from stft/mel/db.
//
// Contract (outputs [frames][features]):
// - melspectrogram(x, sr, n_fft, hop, n_mels, fmin, fmax, htk, power, pad): librosa.feature.melspectrogram
//   with a periodic Hann window, center=True framing (pad = zeros: librosa 0.10's default pad_mode
//   'constant'; reflect: older librosa / torch), |X|^power, Slaney-normalised filterbank.
// - onsets_frames_logmel(x): Onsets and Frames input: sr 16000, n_fft 2048, hop 512, 229 HTK mels from
//   30 Hz, power 2, then librosa.power_to_db (amin 1e-10, ref 1, top_db 80 over the whole clip).
// - ddsp_logmel(x, ...) / ddsp_mfcc(x, ...): DDSP spectral_ops.compute_logmel / compute_mfcc: |STFT| with
//   frame fft_size, hop fft_size (1 - overlap), tf pad_end framing, tf.signal mel matrix applied to the
//   *magnitude*, safe_log (HEAD: log(max(x, 1e-5)) for x <= 0 only), then (mfcc) DCT-II with TF's
//   mfccs_from_log_mel_spectrograms scaling, first n_mfcc coefficients. The MFCC z-encoder uses
//   128 mels, 20..8000 Hz, 30 coefficients, with fft_size/overlap from z_time_steps (125: 1024, 0.5).
#pragma once

#include <cmath>
#include <cstddef>
#include <span>

#include "fugue/dsp/array2.hpp"
#include "fugue/dsp/db.hpp"
#include "fugue/dsp/mel.hpp"
#include "fugue/dsp/stft.hpp"

namespace fugue::dsp {

template <fft_real T>
Array2<T> melspectrogram(std::span<const T> x, double sr, std::size_t n_fft = 2048, std::size_t hop = 512,
                         std::size_t n_mels = 128, double fmin = 0, double fmax = -1, bool htk = false,
                         double power_exp = 2.0, PadKind pad = PadKind::zeros) {
  const Stft<T> stft(Framing::center(n_fft, hop, pad));
  Array2<T> S = magnitude(stft.forward(x));
  if (power_exp == 2.0) {
    for (auto& v : S.flat()) v *= v;
  } else if (power_exp != 1.0) {
    for (auto& v : S.flat()) v = static_cast<T>(std::pow(v, power_exp));
  }
  return apply_rows(mel_filterbank<T>(sr, n_fft, n_mels, fmin, fmax, htk, MelNorm::slaney), S);
}

template <fft_real T>
Array2<T> onsets_frames_logmel(std::span<const T> x) {
  Array2<T> M = melspectrogram<T>(x, 16000, 2048, 512, 229, 30.0, -1, true, 2.0, PadKind::zeros);
  power_to_db<T>(M.flat(), T(1), T(1e-10), T(80));
  return M;
}

template <fft_real T>
Array2<T> ddsp_logmel(std::span<const T> x, double sr = 16000, std::size_t n_mels = 64, double lo_hz = 80,
                      double hi_hz = 7600, std::size_t fft_size = 2048, double overlap = 0.75) {
  const auto hop = static_cast<std::size_t>(double(fft_size) * (1.0 - overlap));
  FUGUE_CHECK(hop >= 1, "ddsp_logmel: overlap leaves no hop");
  const Stft<T> stft(Framing::end(fft_size, hop));
  const Array2<T> mag = magnitude(stft.forward(x));
  return safe_log(apply_rows(tf_mel_filterbank<T>(n_mels, stft.bins(), sr, lo_hz, hi_hz), mag));
}

template <fft_real T>
Array2<T> ddsp_mfcc(std::span<const T> x, double sr = 16000, std::size_t n_mfcc = 30, std::size_t n_mels = 128,
                    double lo_hz = 20, double hi_hz = 8000, std::size_t fft_size = 1024, double overlap = 0.5) {
  return dct2(ddsp_logmel<T>(x, sr, n_mels, lo_hz, hi_hz, fft_size, overlap), n_mfcc, DctNorm::tf_mfcc);
}

}  // namespace fugue::dsp
