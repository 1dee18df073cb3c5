// fugue/dsp/stft.hpp — short-time Fourier transform, its inverse, and magnitude / power.
//
// Contract:
// - Stft<T>(framing, window, fft_length): frames per `framing` (see framing.hpp), each frame of
//   L = framing.frame_length samples multiplied by `window` (length L; default periodic Hann), zero-padded
//   at the end to fft_length >= L (0 = L; tf.signal.stft's convention), then RealFFT'd.
//   Output: Array2<complex<T>> [frames][fft_length/2 + 1], unnormalised (librosa/torch/TF: no scaling).
//   X[t][k] = sum_m w[m] xp[t*hop + m] e^{-2 pi i k m / fft_length}, xp = padded signal.
//   (librosa's win_length < n_fft centres the window inside n_fft: pass that zero-padded window instead.)
// - frames(x): the padded, windowed, zero-padded frames [frames][fft_length] (the real input of the
//   FFTs), so a differentiable wrapper can reuse framing and FFT separately.
// - inverse(X, length): weighted overlap-add of w * irfft(X_t), divided by the squared-window envelope
//   sum_t w^2[n - t*hop] where it exceeds 1e-11 (librosa/torch istft); then drops pad_left samples and
//   returns `length` samples (zero-filled past the available signal). length = npos picks
//   padded_length - pad_left - pad_right. Perfect reconstruction when the envelope is non-zero (NOLA).
// - inverse_ola(X, synthesis_window, length): overlap-add of synthesis_window * irfft(X_t) without any
//   normalisation (tf.signal.inverse_stft); with inverse_stft_window(window, hop) that is TF's
//   inverse_stft_window_fn (GANSynth's iSTFT), which is exact away from the first/last L - hop samples.
// - magnitude / power / log helpers work elementwise and keep the shape.
#pragma once

#include <algorithm>
#include <cmath>
#include <complex>
#include <cstddef>
#include <limits>
#include <span>
#include <vector>

#include "fugue/core/error.hpp"
#include "fugue/dsp/array2.hpp"
#include "fugue/dsp/fft.hpp"
#include "fugue/dsp/framing.hpp"
#include "fugue/dsp/window.hpp"

namespace fugue::dsp {

template <fft_real T>
class Stft {
 public:
  using complex = std::complex<T>;
  static constexpr std::size_t npos = static_cast<std::size_t>(-1);

  explicit Stft(Framing framing, std::vector<T> window = {}, std::size_t fft_length = 0)
      : framing_(framing),
        window_(window.empty() ? hann<T>(framing.frame_length) : std::move(window)),
        nfft_(fft_length == 0 ? framing.frame_length : fft_length),
        fft_((framing.validate(), nfft_)) {
    FUGUE_CHECK(window_.size() == framing_.frame_length, "Stft: window has ", window_.size(),
                " samples, frame_length is ", framing_.frame_length);
    FUGUE_CHECK(nfft_ >= framing_.frame_length, "Stft: fft_length ", nfft_, " < frame_length ", framing_.frame_length);
  }

  const Framing& framing() const noexcept { return framing_; }
  std::span<const T> window() const noexcept { return window_; }
  std::size_t fft_length() const noexcept { return nfft_; }
  std::size_t bins() const noexcept { return nfft_ / 2 + 1; }
  std::size_t num_frames(std::size_t n) const { return framing_.num_frames(n); }
  const RealFFT<T>& fft() const noexcept { return fft_; }

  // Windowed frames [frames][fft_length].
  Array2<T> frames(std::span<const T> x) const {
    const std::vector<T> xp = framing_.template padded<T>(x);
    const std::size_t nf = num_frames(x.size());
    Array2<T> F(nf, nfft_);
    const std::size_t L = framing_.frame_length;
    for (std::size_t t = 0; t < nf; ++t) {
      const T* src = xp.data() + t * framing_.hop;
      T* dst = F.data() + t * nfft_;
      for (std::size_t m = 0; m < L; ++m) dst[m] = src[m] * window_[m];
    }
    return F;
  }

  // Writes the STFT into out ([frames][bins], row-major).
  void forward_into(std::span<const T> x, std::span<complex> out) const {
    const std::size_t nf = num_frames(x.size());
    FUGUE_CHECK(out.size() == nf * bins(), "Stft::forward_into: output holds ", out.size(), " values, need ",
                nf * bins());
    const std::vector<T> xp = framing_.template padded<T>(x);
    std::vector<T> frame(nfft_, T(0));
    const std::size_t L = framing_.frame_length;
    for (std::size_t t = 0; t < nf; ++t) {
      const T* src = xp.data() + t * framing_.hop;
      for (std::size_t m = 0; m < L; ++m) frame[m] = src[m] * window_[m];
      fft_.forward(frame, out.subspan(t * bins(), bins()));
    }
  }

  Array2<complex> forward(std::span<const T> x) const {
    Array2<complex> X(num_frames(x.size()), bins());
    forward_into(x, X.flat());
    return X;
  }

  // Inverse with squared-window envelope normalisation (librosa / torch istft).
  std::vector<T> inverse(const Array2<complex>& X, std::size_t length = npos) const {
    std::vector<T> y, env;
    overlap_add(X, window_, y, &env);
    for (std::size_t i = 0; i < y.size(); ++i)
      if (env[i] > T(1e-11)) y[i] /= env[i];
    return crop(y, X.rows(), length);
  }

  // Plain overlap-add with a synthesis window (tf.signal.inverse_stft).
  std::vector<T> inverse_ola(const Array2<complex>& X, std::span<const T> synthesis_window,
                             std::size_t length = npos) const {
    FUGUE_CHECK(synthesis_window.size() == framing_.frame_length, "Stft::inverse_ola: window has ",
                synthesis_window.size(), " samples, frame_length is ", framing_.frame_length);
    std::vector<T> y;
    overlap_add(X, synthesis_window, y, nullptr);
    return crop(y, X.rows(), length);
  }

 private:
  void overlap_add(const Array2<complex>& X, std::span<const T> w, std::vector<T>& y, std::vector<T>* env) const {
    FUGUE_CHECK(X.cols() == bins(), "Stft::inverse: spectrogram has ", X.cols(), " bins, expected ", bins());
    const std::size_t nf = X.rows(), L = framing_.frame_length, hop = framing_.hop;
    const std::size_t total = nf == 0 ? 0 : (nf - 1) * hop + L;
    y.assign(total, T(0));
    if (env) env->assign(total, T(0));
    std::vector<T> frame(nfft_);
    for (std::size_t t = 0; t < nf; ++t) {
      fft_.inverse(X.row(t), frame);
      T* dst = y.data() + t * hop;
      for (std::size_t m = 0; m < L; ++m) dst[m] += frame[m] * w[m];
      if (env) {
        T* e = env->data() + t * hop;
        for (std::size_t m = 0; m < L; ++m) e[m] += w[m] * w[m];
      }
    }
  }

  std::vector<T> crop(const std::vector<T>& y, std::size_t nf, std::size_t length) const {
    const std::size_t total = y.size();
    if (length == npos) {
      const std::size_t pads = framing_.pad_left + framing_.pad_right;
      length = total > pads ? total - pads : 0;
    }
    std::vector<T> out(length, T(0));
    for (std::size_t i = 0; i < length && framing_.pad_left + i < total; ++i) out[i] = y[framing_.pad_left + i];
    return out;
  }

  Framing framing_;
  std::vector<T> window_;
  std::size_t nfft_;
  RealFFT<T> fft_;
};

// TF's inverse_stft_window_fn: w[m] / sum_j w^2[(m mod hop) + j*hop] (the sum over all frames that
// overlap a sample in steady state), so that plain overlap-add of w * synthesis reconstructs exactly.
template <class T>
std::vector<T> inverse_stft_window(std::span<const T> w, std::size_t hop) {
  FUGUE_CHECK(hop >= 1, "inverse_stft_window: hop must be >= 1");
  const std::size_t L = w.size();
  std::vector<T> denom(hop, T(0));
  for (std::size_t m = 0; m < L; ++m) denom[m % hop] += w[m] * w[m];
  std::vector<T> out(L);
  for (std::size_t m = 0; m < L; ++m) {
    FUGUE_CHECK(denom[m % hop] > T(0), "inverse_stft_window: window does not overlap-add to non-zero at hop ", hop);
    out[m] = w[m] / denom[m % hop];
  }
  return out;
}

// Elementwise spectrogram helpers -------------------------------------------------------------

template <class T>
Array2<T> magnitude(const Array2<std::complex<T>>& X) {
  Array2<T> m(X.rows(), X.cols());
  for (std::size_t i = 0; i < X.size(); ++i) m.data()[i] = std::abs(X.data()[i]);
  return m;
}

template <class T>
Array2<T> power(const Array2<std::complex<T>>& X) {
  Array2<T> m(X.rows(), X.cols());
  for (std::size_t i = 0; i < X.size(); ++i) m.data()[i] = std::norm(X.data()[i]);
  return m;
}

template <class T>
Array2<T> phase(const Array2<std::complex<T>>& X) {
  Array2<T> m(X.rows(), X.cols());
  for (std::size_t i = 0; i < X.size(); ++i) m.data()[i] = std::arg(X.data()[i]);
  return m;
}

// log(x + eps) elementwise (GANSynth: eps 1e-6 on |X|; DDSP v0.0.6 safe_log: eps 1e-5).
template <class T>
Array2<T> log_add(Array2<T> x, T eps) {
  for (auto& v : x.flat()) v = std::log(v + eps);
  return x;
}

// DDSP HEAD safe_log: log(x) where x > 0, log(eps) where x <= 0 (eps 1e-5).
template <class T>
Array2<T> safe_log(Array2<T> x, T eps = T(1e-5)) {
  for (auto& v : x.flat()) v = std::log(v > T(0) ? v : eps);
  return x;
}

}  // namespace fugue::dsp
