// fugue/dsp/mel.hpp — mel scales, mel filterbanks (librosa, tf.signal, GANSynth), log-mel, DCT / MFCC.
//
// Contract (all filterbanks are computed in double, returned as Array2<T> [n_mels][n_bins], i.e. a
// linear map [out][in] for apply_rows(); TF's matrices are the transpose of these):
// - hz_to_mel / mel_to_hz: MelScale::slaney (librosa htk=False: linear 3 bins per 200 Hz below 1 kHz, log
//   above with step ln(6.4)/27), MelScale::htk (2595 log10(1 + f/700)), MelScale::tf (1127 ln(1 + f/700),
//   tf.signal and GANSynth).
// - mel_filterbank(sr, n_fft, n_mels, fmin, fmax, htk, norm): librosa.filters.mel. Bin k is at k sr/n_fft;
//   n_mels+2 edges equally spaced in mel between fmin and fmax (fmax < 0: sr/2); triangles in Hz;
//   MelNorm::slaney scales row m by 2 / (f[m+2] - f[m]) (area normalisation), MelNorm::none keeps peak 1.
// - tf_mel_filterbank(n_mels, n_bins, sr, fmin, fmax): tf.signal.linear_to_mel_weight_matrix (DDSP MFCC):
//   bins at linspace(0, sr/2, n_bins), bin 0 (DC) all zero, triangles linear in (1127 ln) mel.
// - gansynth_mel_filterbank(n_mels, n_bins, sr, fmin, fmax): GANSynth's variant: same bins but triangles
//   linear in Hz, each band widened symmetrically in mel to at least 1.5 sr/2/n_bins Hz; no normalisation.
//   gansynth_mel_inverse(M): its pseudo-inverse M^- = diag(d) M with d_j = 1/sum_i (M M^T)_{ij}
//   (d_j = 0 where |sum| <= 1e-8), returned [n_bins][n_mels].
// - dct2(x, n_out, norm): DCT-II of each row, y_k = c_k sum_n x_n cos(pi k (2n+1) / 2N), first n_out coefs.
//   DctNorm::ortho (scipy/librosa norm='ortho'): c_0 = sqrt(1/N), c_k = sqrt(2/N).
//   DctNorm::tf_mfcc (tf.signal.mfccs_from_log_mel_spectrograms, DDSP): c_k = sqrt(2/N) for every k
//   (TF's unnormalised DCT-II times rsqrt(2N)); differs from ortho only in c_0, by sqrt(2).
// - Bad arguments (fmin >= fmax, fmax > sr/2 for the TF variants, zero sizes) throw fugue::error.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <numbers>
#include <vector>

#include "fugue/core/error.hpp"
#include "fugue/dsp/array2.hpp"

namespace fugue::dsp {

enum class MelScale { slaney, htk, tf };
enum class MelNorm { none, slaney };
enum class DctNorm { ortho, tf_mfcc };

inline double hz_to_mel(double f, MelScale s) {
  switch (s) {
    case MelScale::htk: return 2595.0 * std::log10(1.0 + f / 700.0);
    case MelScale::tf: return 1127.0 * std::log(1.0 + f / 700.0);
    case MelScale::slaney: break;
  }
  constexpr double f_sp = 200.0 / 3.0, min_log_hz = 1000.0, min_log_mel = min_log_hz / f_sp;
  const double logstep = std::log(6.4) / 27.0;
  return f >= min_log_hz ? min_log_mel + std::log(f / min_log_hz) / logstep : f / f_sp;
}

inline double mel_to_hz(double m, MelScale s) {
  switch (s) {
    case MelScale::htk: return 700.0 * (std::pow(10.0, m / 2595.0) - 1.0);
    case MelScale::tf: return 700.0 * (std::exp(m / 1127.0) - 1.0);
    case MelScale::slaney: break;
  }
  constexpr double f_sp = 200.0 / 3.0, min_log_hz = 1000.0, min_log_mel = min_log_hz / f_sp;
  const double logstep = std::log(6.4) / 27.0;
  return m >= min_log_mel ? min_log_hz * std::exp(logstep * (m - min_log_mel)) : f_sp * m;
}

// n frequencies equally spaced in mel from fmin to fmax (librosa.mel_frequencies).
inline std::vector<double> mel_frequencies(std::size_t n, double fmin, double fmax, MelScale s) {
  std::vector<double> f(n);
  const double a = hz_to_mel(fmin, s), b = hz_to_mel(fmax, s);
  for (std::size_t i = 0; i < n; ++i) f[i] = mel_to_hz(n == 1 ? a : a + (b - a) * double(i) / double(n - 1), s);
  return f;
}

// Centre frequency of each rfft bin: k sr / n_fft, k = 0..n_fft/2 (librosa.fft_frequencies).
inline std::vector<double> fft_frequencies(double sr, std::size_t n_fft) {
  std::vector<double> f(n_fft / 2 + 1);
  for (std::size_t k = 0; k < f.size(); ++k) f[k] = double(k) * sr / double(n_fft);
  return f;
}

template <class T = double>
Array2<T> mel_filterbank(double sr, std::size_t n_fft, std::size_t n_mels, double fmin = 0.0, double fmax = -1.0,
                         bool htk = false, MelNorm norm = MelNorm::slaney) {
  if (fmax < 0) fmax = sr / 2;
  FUGUE_CHECK(sr > 0 && n_fft >= 1 && n_mels >= 1, "mel_filterbank: need sr > 0, n_fft >= 1, n_mels >= 1");
  FUGUE_CHECK(fmin >= 0 && fmin < fmax, "mel_filterbank: need 0 <= fmin < fmax, got ", fmin, ", ", fmax);
  const auto fftf = fft_frequencies(sr, n_fft);
  const auto melf = mel_frequencies(n_mels + 2, fmin, fmax, htk ? MelScale::htk : MelScale::slaney);
  Array2<T> W(n_mels, fftf.size());
  for (std::size_t m = 0; m < n_mels; ++m) {
    const double lo = melf[m], c = melf[m + 1], hi = melf[m + 2];
    const double enorm = norm == MelNorm::slaney ? 2.0 / (hi - lo) : 1.0;
    for (std::size_t k = 0; k < fftf.size(); ++k) {
      const double lower = (fftf[k] - lo) / (c - lo), upper = (hi - fftf[k]) / (hi - c);
      W(m, k) = static_cast<T>(std::max(0.0, std::min(lower, upper)) * enorm);
    }
  }
  return W;
}

namespace detail {
inline void check_tf_mel(std::size_t n_mels, std::size_t n_bins, double sr, double fmin, double fmax) {
  FUGUE_CHECK(n_mels >= 1 && n_bins >= 2 && sr > 0, "mel filterbank: need n_mels >= 1, n_bins >= 2, sr > 0");
  FUGUE_CHECK(fmin >= 0 && fmin < fmax && fmax <= sr / 2, "mel filterbank: need 0 <= fmin < fmax <= sr/2, got ", fmin,
              ", ", fmax);
}
}  // namespace detail

template <class T = double>
Array2<T> tf_mel_filterbank(std::size_t n_mels, std::size_t n_bins, double sr, double fmin, double fmax) {
  detail::check_tf_mel(n_mels, n_bins, sr, fmin, fmax);
  const double a = hz_to_mel(fmin, MelScale::tf), b = hz_to_mel(fmax, MelScale::tf);
  Array2<T> W(n_mels, n_bins, T(0));
  for (std::size_t m = 0; m < n_mels; ++m) {
    const double lo = a + (b - a) * double(m) / double(n_mels + 1);
    const double c = a + (b - a) * double(m + 1) / double(n_mels + 1);
    const double hi = a + (b - a) * double(m + 2) / double(n_mels + 1);
    for (std::size_t k = 1; k < n_bins; ++k) {
      const double f = hz_to_mel(sr / 2 * double(k) / double(n_bins - 1), MelScale::tf);
      W(m, k) = static_cast<T>(std::max(0.0, std::min((f - lo) / (c - lo), (hi - f) / (hi - c))));
    }
  }
  return W;
}

template <class T = double>
Array2<T> gansynth_mel_filterbank(std::size_t n_mels = 1024, std::size_t n_bins = 1024, double sr = 16000,
                                  double fmin = 0, double fmax = 8000) {
  detail::check_tf_mel(n_mels, n_bins, sr, fmin, fmax);
  const double a = hz_to_mel(fmin, MelScale::tf), b = hz_to_mel(fmax, MelScale::tf);
  const double thr = 1.5 * (sr / 2) / double(n_bins);
  Array2<T> W(n_mels, n_bins, T(0));
  for (std::size_t m = 0; m < n_mels; ++m) {
    double lo = a + (b - a) * double(m) / double(n_mels + 1);
    const double c = a + (b - a) * double(m + 1) / double(n_mels + 1);
    double hi = a + (b - a) * double(m + 2) / double(n_mels + 1);
    const double c_hz = mel_to_hz(c, MelScale::tf);
    if (mel_to_hz(hi, MelScale::tf) - mel_to_hz(lo, MelScale::tf) < thr) {
      const double dm = 1127.0 * std::asinh(0.5 * thr / (c_hz + 700.0));
      lo = c - dm;
      hi = c + dm;
    }
    const double lo_hz = mel_to_hz(lo, MelScale::tf), hi_hz = mel_to_hz(hi, MelScale::tf);
    for (std::size_t k = 1; k < n_bins; ++k) {
      const double f = sr / 2 * double(k) / double(n_bins - 1);
      W(m, k) = static_cast<T>(std::max(0.0, std::min((f - lo_hz) / (c_hz - lo_hz), (hi_hz - f) / (hi_hz - c_hz))));
    }
  }
  return W;
}

// Pseudo-inverse used by GANSynth to go from mel back to linear bins: [n_bins][n_mels].
template <class T>
Array2<T> gansynth_mel_inverse(const Array2<T>& M) {
  const std::size_t nm = M.rows(), nb = M.cols();
  // In GANSynth's [bins, mels] layout m = M^T: P = m m^T ([bins, bins]); d_j = 1 / sum_i P_ij;
  // inverse = m^T diag(d) ([mels, bins]); as a [out=bins][in=mels] map that is diag(d) m.
  // sum_i P_ij = sum_i sum_q m_iq m_jq = sum_q m_jq (sum_i m_iq) = sum_q M(q, j) s_q, s_q = row sums of M.
  std::vector<double> s(nm, 0.0);
  for (std::size_t q = 0; q < nm; ++q)
    for (std::size_t i = 0; i < nb; ++i) s[q] += double(M(q, i));
  Array2<T> inv(nb, nm, T(0));
  for (std::size_t j = 0; j < nb; ++j) {
    double sum = 0;
    for (std::size_t q = 0; q < nm; ++q) sum += double(M(q, j)) * s[q];
    if (std::abs(sum) <= 1e-8) continue;
    for (std::size_t q = 0; q < nm; ++q) inv(j, q) = static_cast<T>(double(M(q, j)) / sum);
  }
  return inv;
}

// DCT-II of each row of x, keeping the first n_out coefficients (n_out = 0: all).
template <class T>
Array2<T> dct2(const Array2<T>& x, std::size_t n_out = 0, DctNorm norm = DctNorm::ortho) {
  const std::size_t N = x.cols();
  FUGUE_CHECK(N >= 1, "dct2: empty rows");
  if (n_out == 0) n_out = N;
  FUGUE_CHECK(n_out <= N, "dct2: ", n_out, " coefficients requested from ", N, " inputs");
  std::vector<double> basis(n_out * N);
  for (std::size_t k = 0; k < n_out; ++k) {
    const double c = (k == 0 && norm == DctNorm::ortho) ? std::sqrt(1.0 / double(N)) : std::sqrt(2.0 / double(N));
    for (std::size_t n = 0; n < N; ++n)
      basis[k * N + n] = c * std::cos(std::numbers::pi * double(k) * double(2 * n + 1) / double(2 * N));
  }
  Array2<T> y(x.rows(), n_out);
  for (std::size_t r = 0; r < x.rows(); ++r)
    for (std::size_t k = 0; k < n_out; ++k) {
      double acc = 0;
      for (std::size_t n = 0; n < N; ++n) acc += basis[k * N + n] * double(x(r, n));
      y(r, k) = static_cast<T>(acc);
    }
  return y;
}

}  // namespace fugue::dsp
