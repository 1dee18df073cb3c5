// fugue/dsp/instantaneous_frequency.hpp — GANSynth's phase unwrapping, instantaneous frequency (IF)
// and the mel-IF representation.
//
// Contract (arrays are [time][freq], as GANSynth's [time, freq] images):
// - unwrap_time(phase): numpy.unwrap along time (discont pi): each first difference dd is replaced by
//   its wrap into [-pi, pi) (mod floored; -pi with dd > 0 becomes +pi); differences with |dd| < pi are left
//   exactly as they are; the corrections are accumulated. Frame 0 is unchanged.
// - instantaneous_frequency(phase): unwrap, first difference along time, frame 0 keeps the raw phase,
//   all divided by pi (values in [-1, 1] after frame 0).
// - if_to_phase(IF): the inverse: cumulative sum over time of IF * pi.
// - GanSynthSpec: the IF-Mel + H front end (2048-point STFT, hop 512, 3072 zeros prepended, no end pad,
//   periodic Hann, DC bin dropped => [128][1024] for 64000 samples). to_specgram() gives log magnitude
//   log(|X| + 1e-6) and IF; to_mel() gives log mel power log(exp(2 logmag) M + 1e-6) and mel IF
//   (IF of (cumsum_t(IF pi)) M); from_mel()/to_waveform() invert (mel inverse via gansynth_mel_inverse,
//   logmag = 0.5 log(power + 1e-6), zero DC bin re-inserted, TF-style iSTFT with inverse_stft_window,
//   first 3072 samples dropped). Linear round trip is exact to ~1e-5 away from the edges; mel is lossy.
#pragma once

#include <cmath>
#include <complex>
#include <cstddef>
#include <numbers>
#include <span>
#include <vector>

#include "fugue/core/error.hpp"
#include "fugue/dsp/array2.hpp"
#include "fugue/dsp/mel.hpp"
#include "fugue/dsp/stft.hpp"

namespace fugue::dsp {

template <class T>
Array2<T> unwrap_time(const Array2<T>& p) {
  const T pi = std::numbers::pi_v<T>, two_pi = 2 * std::numbers::pi_v<T>;
  Array2<T> u = p;
  const std::size_t nt = p.rows(), nf = p.cols();
  std::vector<T> correction(nf, T(0));
  for (std::size_t t = 1; t < nt; ++t)
    for (std::size_t k = 0; k < nf; ++k) {
      const T dd = p(t, k) - p(t - 1, k);
      if (std::abs(dd) >= pi) {
        T m = std::fmod(dd + pi, two_pi);
        if (m < 0) m += two_pi;  // floored modulo, as numpy / tf.mod
        T ddmod = m - pi;
        if (ddmod == -pi && dd > 0) ddmod = pi;
        correction[k] += ddmod - dd;
      }
      u(t, k) = p(t, k) + correction[k];
    }
  return u;
}

template <class T>
Array2<T> instantaneous_frequency(const Array2<T>& phase) {
  const T inv_pi = T(1) / std::numbers::pi_v<T>;
  const Array2<T> u = unwrap_time(phase);
  Array2<T> f(u.rows(), u.cols());
  for (std::size_t t = 0; t < u.rows(); ++t)
    for (std::size_t k = 0; k < u.cols(); ++k) f(t, k) = (t == 0 ? u(t, k) : u(t, k) - u(t - 1, k)) * inv_pi;
  return f;
}

template <class T>
Array2<T> if_to_phase(const Array2<T>& inst_freq) {
  const T pi = std::numbers::pi_v<T>;
  Array2<T> p(inst_freq.rows(), inst_freq.cols());
  for (std::size_t t = 0; t < p.rows(); ++t)
    for (std::size_t k = 0; k < p.cols(); ++k) p(t, k) = inst_freq(t, k) * pi + (t ? p(t - 1, k) : T(0));
  return p;
}

template <fft_real T>
class GanSynthSpec {
 public:
  struct Specgram {
    Array2<T> logmag, inst_freq;  // [time][freq]
  };

  // Defaults: the IF-Mel + H configuration (n_fft 2048, hop 512, 128 frames for 64000 samples at 16 kHz).
  explicit GanSynthSpec(std::size_t n_fft = 2048, std::size_t hop = 512, std::size_t n_frames = 128,
                        std::size_t audio_length = 64000, double sr = 16000)
      : n_fft_(n_fft),
        hop_(hop),
        n_frames_(n_frames),
        length_(audio_length),
        pad_((check(n_fft, hop, n_frames, audio_length), hop * (n_frames - 1) + n_fft - audio_length)),
        stft_(Framing::left(n_fft, hop, pad_)),
        M_(gansynth_mel_filterbank<T>(n_fft / 2, n_fft / 2, sr, 0, sr / 2)),
        Minv_(gansynth_mel_inverse(M_)) {}

  std::size_t left_pad() const noexcept { return pad_; }
  const Array2<T>& mel_matrix() const noexcept { return M_; }      // [mel][linear]
  const Array2<T>& mel_inverse() const noexcept { return Minv_; }  // [linear][mel]

  Specgram to_specgram(std::span<const T> audio) const {
    FUGUE_CHECK(audio.size() == length_, "GanSynthSpec: expected ", length_, " samples, got ", audio.size());
    const auto X = stft_.forward(audio);
    FUGUE_CHECK(X.rows() == n_frames_, "GanSynthSpec: internal frame count mismatch");
    const std::size_t nb = n_fft_ / 2;
    Array2<T> lm(X.rows(), nb), ph(X.rows(), nb);
    for (std::size_t t = 0; t < X.rows(); ++t)
      for (std::size_t k = 0; k < nb; ++k) {
        lm(t, k) = std::log(std::abs(X(t, k + 1)) + T(1e-6));
        ph(t, k) = std::arg(X(t, k + 1));
      }
    return {std::move(lm), instantaneous_frequency(ph)};
  }

  std::vector<T> to_waveform(const Specgram& s) const {
    const std::size_t nb = n_fft_ / 2;
    FUGUE_CHECK(s.logmag.cols() == nb && s.inst_freq.cols() == nb && s.logmag.rows() == s.inst_freq.rows(),
                "GanSynthSpec::to_waveform: expected [time][", nb, "] logmag and IF of equal shape");
    const Array2<T> ph = if_to_phase(s.inst_freq);
    Array2<std::complex<T>> X(s.logmag.rows(), nb + 1, std::complex<T>(0));
    for (std::size_t t = 0; t < X.rows(); ++t)
      for (std::size_t k = 0; k < nb; ++k) X(t, k + 1) = std::polar(std::exp(s.logmag(t, k)), ph(t, k));
    const auto w = inverse_stft_window<T>(stft_.window(), hop_);
    return stft_.inverse_ola(X, w, length_);  // drops the pad_ leading samples
  }

  // Linear (logmag, IF) -> (log mel power, mel IF).
  Specgram to_mel(const Specgram& s) const {
    Array2<T> pw = s.logmag;
    for (auto& v : pw.flat()) v = std::exp(2 * v);
    Array2<T> mp = apply_rows(M_, pw);
    for (auto& v : mp.flat()) v = std::log(v + T(1e-6));
    const Array2<T> mph = apply_rows(M_, if_to_phase(s.inst_freq));
    return {std::move(mp), instantaneous_frequency(mph)};
  }

  Specgram from_mel(const Specgram& m) const {
    Array2<T> pw = m.logmag;
    for (auto& v : pw.flat()) v = std::exp(v);
    Array2<T> lin = apply_rows(Minv_, pw);
    for (auto& v : lin.flat()) v = T(0.5) * std::log(v + T(1e-6));
    const Array2<T> ph = apply_rows(Minv_, if_to_phase(m.inst_freq));
    return {std::move(lin), instantaneous_frequency(ph)};
  }

 private:
  static bool check(std::size_t n_fft, std::size_t hop, std::size_t n_frames, std::size_t len) {
    FUGUE_CHECK(n_fft >= 4 && n_fft % 2 == 0 && hop >= 1 && n_frames >= 1, "GanSynthSpec: bad STFT sizes");
    FUGUE_CHECK(hop * (n_frames - 1) + n_fft >= len, "GanSynthSpec: ", n_frames, " frames cannot cover ", len,
                " samples");
    return true;
  }

  std::size_t n_fft_, hop_, n_frames_, length_, pad_;
  Stft<T> stft_;
  Array2<T> M_, Minv_;
};

}  // namespace fugue::dsp
