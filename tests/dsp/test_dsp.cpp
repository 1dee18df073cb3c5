// Closed-form tests of the DSP foundation: FFT, framing, STFT/iSTFT, mel, DCT, dB, loudness, IF, YIN.
#include <catch2/catch.hpp>

#include <cmath>
#include <complex>
#include <limits>
#include <numbers>
#include <random>
#include <thread>
#include <vector>

#include "fugue/dsp/f0.hpp"
#include "fugue/dsp/features.hpp"
#include "fugue/dsp/fft.hpp"
#include "fugue/dsp/instantaneous_frequency.hpp"
#include "fugue/dsp/loudness.hpp"
#include "fugue/dsp/mel.hpp"
#include "fugue/dsp/spectrogram_image.hpp"
#include "fugue/dsp/stft.hpp"

using namespace fugue::dsp;
using Catch::Matchers::Contains;
constexpr double kPi = std::numbers::pi;

namespace {
template <class T>
std::vector<T> sine(std::size_t n, double f, double sr, double amp = 1.0, double phase = 0.0) {
  std::vector<T> x(n);
  for (std::size_t i = 0; i < n; ++i) x[i] = static_cast<T>(amp * std::sin(2 * kPi * f * double(i) / sr + phase));
  return x;
}
template <class T>
std::vector<T> noise(std::size_t n, unsigned seed, double amp = 1.0) {
  std::mt19937 g(seed);
  std::normal_distribution<double> d(0.0, amp);
  std::vector<T> x(n);
  for (auto& v : x) v = static_cast<T>(d(g));
  return x;
}
}  // namespace

TEMPLATE_TEST_CASE("rfft: a sinusoid on a bin centre peaks at that bin with amplitude A*N/2", "[dsp][fft]", float,
                   double) {
  const std::size_t N = 1024, k0 = 37;
  const double A = 0.7;
  const auto x = sine<TestType>(N, double(k0), double(N), A, 0.4);
  const auto X = rfft<TestType>(x);
  REQUIRE(X.size() == N / 2 + 1);
  const double tol = std::is_same_v<TestType, float> ? 2e-3 : 1e-9;
  CHECK(std::abs(X[k0]) == Approx(A * N / 2).epsilon(1e-5));
  // phase of sin(w n + 0.4) at its bin is 0.4 - pi/2
  CHECK(std::arg(X[k0]) == Approx(0.4 - kPi / 2).margin(1e-4));
  for (std::size_t k = 0; k < X.size(); ++k)
    if (k != k0) CHECK(std::abs(X[k]) < tol * N);
}

TEMPLATE_TEST_CASE("rfft: Parseval, inverse and adjoint, for even and odd sizes", "[dsp][fft]", float, double) {
  const double tol = std::is_same_v<TestType, float> ? 1e-5 : 1e-12;
  for (std::size_t N : {1u, 2u, 7u, 64u, 400u, 1023u}) {
    const auto x = noise<TestType>(N, unsigned(N));
    RealFFT<TestType> f(N);
    std::vector<std::complex<TestType>> X(f.bins());
    f.forward(x, X);
    double e_time = 0, e_freq = 0;
    for (auto v : x) e_time += double(v) * v;
    for (std::size_t k = 0; k < X.size(); ++k) {
      const bool single = k == 0 || (N % 2 == 0 && k == N / 2);
      e_freq += (single ? 1.0 : 2.0) * std::norm(std::complex<double>(X[k]));
    }
    CHECK(e_freq / double(N) == Approx(e_time).epsilon(tol * 10));
    std::vector<TestType> y(N);
    f.inverse(X, y);
    for (std::size_t i = 0; i < N; ++i) CHECK(double(y[i]) == Approx(double(x[i])).margin(tol * 10));
    // <F x, G> == <x, F^T G> for the real inner product on (Re, Im) pairs.
    auto g = noise<TestType>(2 * f.bins(), unsigned(N) + 99);
    std::vector<std::complex<TestType>> G(f.bins());
    for (std::size_t k = 0; k < G.size(); ++k) G[k] = {g[2 * k], g[2 * k + 1]};
    std::vector<TestType> dx(N);
    f.adjoint(G, dx);
    double lhs = 0, rhs = 0;
    for (std::size_t k = 0; k < G.size(); ++k)
      lhs += double(G[k].real()) * X[k].real() + double(G[k].imag()) * X[k].imag();
    for (std::size_t i = 0; i < N; ++i) rhs += double(x[i]) * dx[i];
    CHECK(lhs == Approx(rhs).epsilon(tol * 100).margin(tol * 100));
  }
}

TEST_CASE("rfft: misaligned user buffers give the same result as aligned ones", "[dsp][fft]") {
  const std::size_t N = 256;
  const auto x = noise<float>(N + 1, 5);
  RealFFT<float> f(N);
  std::vector<std::complex<float>> A(f.bins() + 1), B(f.bins());
  f.forward(std::span<const float>(x).subspan(1, N), std::span<std::complex<float>>(A).subspan(0, f.bins()));
  std::vector<float> copy(x.begin() + 1, x.end());
  f.forward(copy, B);
  for (std::size_t k = 0; k < f.bins(); ++k) CHECK(A[k] == B[k]);
  std::vector<float> y(N + 1);
  f.inverse(B, std::span<float>(y).subspan(1, N));
  for (std::size_t i = 0; i < N; ++i) CHECK(y[i + 1] == Approx(copy[i]).margin(1e-5));
  CHECK_THROWS_AS(f.forward(std::span<const float>(x), B), fugue::error);
  CHECK_THROWS_AS(RealFFT<double>(0), fugue::error);
}

TEST_CASE("rfft: concurrent planning and execution from several threads", "[dsp][fft]") {
  std::vector<std::thread> threads;
  std::vector<int> ok(6, 0);
  for (int t = 0; t < 6; ++t)
    threads.emplace_back([t, &ok] {
      int good = 1;
      for (int rep = 0; rep < 20; ++rep) {
        const std::size_t N = 96 + 32 * std::size_t((t + rep) % 5);
        const auto x = sine<double>(N, 3.0, double(N));
        const auto X = rfft<double>(x);
        good &= std::abs(std::abs(X[3]) - double(N) / 2) < 1e-9;
      }
      ok[std::size_t(t)] = good;
    });
  for (auto& th : threads) th.join();
  for (int v : ok) CHECK(v == 1);
}

TEST_CASE("framing: frame counts of the model conventions", "[dsp][framing]") {
  CHECK(Framing::center(512, 64).num_frames(64000) == 1001);  // DDSP loudness, 'center'
  CHECK(Framing::end(2048, 512).num_frames(64000) == 125);    // DDSP spectral loss
  CHECK(Framing::end(64, 16).num_frames(64000) == 4000);
  CHECK(Framing::end(1024, 64).num_frames(64000) == 1000);         // CREPE 'same'
  CHECK(Framing::left(2048, 512, 3072).num_frames(64000) == 128);  // GANSynth
  CHECK(Framing::center(2048, 512).num_frames(16000) == 32);       // Onsets and Frames, 1 s
  CHECK(Framing::valid(512, 128).num_frames(511) == 0);
  CHECK(Framing::valid(512, 128).num_frames(512 + 3 * 128) == 4);
  CHECK(Framing::end(512, 128).padded_length(1000) == 7 * 128 + 512);
  const std::vector<double> x{1, 2, 3, 4, 5};
  const auto r = Framing{4, 1, 3, 2, PadKind::reflect, false}.template padded<double>(x);
  CHECK(r == std::vector<double>{4, 3, 2, 1, 2, 3, 4, 5, 4, 3});
  CHECK_THROWS_WITH(Framing::center(16, 4, PadKind::reflect).template padded<double>(x), Contains("reflect"));
  CHECK_THROWS_AS(Framing::center(16, 0).num_frames(100), fugue::error);
}

TEST_CASE("stft: matches a direct DFT of the windowed frames", "[dsp][stft]") {
  const auto x = noise<double>(300, 11);
  const Framing fr = Framing::center(64, 16, PadKind::reflect);
  const Stft<double> s(fr);
  const auto X = s.forward(x);
  REQUIRE(X.rows() == 1 + 300 / 16);
  const auto xp = fr.template padded<double>(x);
  const auto w = hann<double>(64);
  for (std::size_t t : {std::size_t(0), std::size_t(5), X.rows() - 1})
    for (std::size_t k : {0u, 1u, 13u, 32u}) {
      std::complex<double> acc = 0;
      for (std::size_t m = 0; m < 64; ++m)
        acc += xp[t * 16 + m] * w[m] * std::polar(1.0, -2 * kPi * double(k * m) / 64);
      CHECK(std::abs(X(t, k) - acc) < 1e-12);
    }
  // fft_length > frame_length zero-pads each windowed frame at the end (tf.signal.stft).
  const Stft<double> s2(Framing::valid(48, 16), {}, 64);
  CHECK(s2.bins() == 33);
  const auto F = s2.frames(x);
  CHECK(F.cols() == 64);
  CHECK(F(2, 50) == 0.0);
}

TEMPLATE_TEST_CASE("stft -> istft reconstructs the signal exactly", "[dsp][stft]", float, double) {
  const double tol = std::is_same_v<TestType, float> ? 2e-5 : 1e-12;
  const auto x = noise<TestType>(5000, 3, 0.3);
  for (auto fr : {Framing::center(512, 128, PadKind::reflect), Framing::center(512, 128, PadKind::zeros),
                  Framing::center(400, 100, PadKind::zeros)}) {
    const Stft<TestType> s(fr);
    const auto y = s.inverse(s.forward(x), x.size());
    REQUIRE(y.size() == x.size());
    double err = 0;
    for (std::size_t i = 0; i < x.size(); ++i) err = std::max(err, double(std::abs(y[i] - x[i])));
    CHECK(err < tol);
  }
}

TEST_CASE("stft: TF-style inverse window reconstructs away from the edges (GANSynth)", "[dsp][stft]") {
  const auto x = noise<double>(8000, 4);
  const Stft<double> s(Framing::left(1024, 256, 1024));
  const auto w = inverse_stft_window<double>(s.window(), 256);
  const auto y = s.inverse_ola(s.forward(x), w, x.size());
  double err = 0;
  for (std::size_t i = 0; i + 1024 < x.size(); ++i) err = std::max(err, std::abs(y[i] - x[i]));
  CHECK(err < 1e-12);
}

TEST_CASE("mel scales: known values and round trips", "[dsp][mel]") {
  CHECK(hz_to_mel(1000, MelScale::slaney) == Approx(15.0));
  CHECK(hz_to_mel(200, MelScale::slaney) == Approx(3.0));
  CHECK(hz_to_mel(700, MelScale::htk) == Approx(2595 * std::log10(2.0)));
  CHECK(hz_to_mel(8000, MelScale::tf) == Approx(2840.04).margin(0.01));  // gansynth.md §8.4
  for (auto s : {MelScale::slaney, MelScale::htk, MelScale::tf})
    for (double f : {0.0, 30.0, 999.0, 1000.0, 4321.0, 11025.0})
      CHECK(mel_to_hz(hz_to_mel(f, s), s) == Approx(f).margin(1e-9));
}

TEST_CASE("mel filterbank rows: triangles, peaks and Slaney area normalisation", "[dsp][mel]") {
  const double sr = 16000;
  const std::size_t n_fft = 8192, n_mels = 40;
  const auto W = mel_filterbank<double>(sr, n_fft, n_mels, 0, -1, false, MelNorm::none);
  const auto Wn = mel_filterbank<double>(sr, n_fft, n_mels, 0, -1, false, MelNorm::slaney);
  const auto edges = mel_frequencies(n_mels + 2, 0, sr / 2, MelScale::slaney);
  const double df = sr / double(n_fft);
  for (std::size_t m = 0; m < n_mels; ++m) {
    double peak = 0, area = 0;
    std::size_t first = 0, last = 0;
    for (std::size_t k = 0; k < W.cols(); ++k) {
      CHECK(W(m, k) >= 0);
      peak = std::max(peak, W(m, k));
      area += Wn(m, k) * df;
      if (W(m, k) > 0) {
        if (!first) first = k;
        last = k;
      }
    }
    CHECK(peak <= 1.0);
    CHECK(peak > 0.9);                         // a fine grid comes close to the apex
    CHECK(area == Approx(1.0).epsilon(0.02));  // Slaney: unit area per triangle (2/(hi-lo) * (hi-lo)/2)
    CHECK(double(first) * df >= edges[m]);
    CHECK(double(last) * df <= edges[m + 2]);
  }
  CHECK_THROWS_AS(mel_filterbank<double>(16000, 512, 10, 5000, 4000), fugue::error);
}

TEST_CASE("tf / GANSynth mel matrices: DC row zero, minimum band width, inverse", "[dsp][mel]") {
  const auto T = tf_mel_filterbank<double>(128, 513, 16000, 20, 8000);
  for (std::size_t m = 0; m < 128; ++m) CHECK(T(m, 0) == 0.0);
  const auto G = gansynth_mel_filterbank<double>();
  REQUIRE(G.rows() == 1024);
  REQUIRE(G.cols() == 1024);
  // GANSynth assigns linspace(0, 8000, 1024) to its bins (7.82 Hz apart). Without the 11.72 Hz minimum
  // width the lowest mel bands (~2.8 Hz wide) would fall between two bins and be empty; with it every
  // band covers at least one bin, except band 0, which only covers bin 0 = "DC" and is zeroed with it
  // (a quirk of GANSynth's matrix, reproduced).
  for (std::size_t m = 0; m < 1024; ++m) {
    CHECK(G(m, 0) == 0.0);
    double mx = 0;
    for (std::size_t k = 0; k < 1024; ++k) mx = std::max(mx, G(m, k));
    if (m == 0)
      CHECK(mx == 0.0);
    else
      CHECK(mx > 0.25);
  }
  const auto Gi = gansynth_mel_inverse(G);
  CHECK(Gi.rows() == 1024);
  CHECK(Gi.cols() == 1024);
}

TEST_CASE("dct2: orthonormal basis and the TF MFCC scaling", "[dsp][mel]") {
  const std::size_t N = 16;
  Array2<double> I(N, N, 0.0);
  for (std::size_t i = 0; i < N; ++i) I(i, i) = 1.0;
  const auto D = dct2(I, 0, DctNorm::ortho);  // row i = DCT of e_i: D is the transposed DCT matrix
  for (std::size_t a = 0; a < N; ++a)
    for (std::size_t b = 0; b < N; ++b) {
      double dot = 0;
      for (std::size_t i = 0; i < N; ++i) dot += D(i, a) * D(i, b);
      CHECK(dot == Approx(a == b ? 1.0 : 0.0).margin(1e-12));
    }
  const auto Dt = dct2(I, 4, DctNorm::tf_mfcc);
  CHECK(Dt.cols() == 4);
  CHECK(Dt(3, 0) == Approx(D(3, 0) * std::sqrt(2.0)));
  CHECK(Dt(3, 2) == Approx(D(3, 2)));
}

TEST_CASE("decibels: librosa and DDSP conventions", "[dsp][db]") {
  std::vector<double> p{1.0, 1e-3, 0.0, 100.0};
  power_to_db<double>(p);
  CHECK(p[0] == Approx(0.0).margin(1e-12));
  CHECK(p[1] == Approx(-30.0));
  CHECK(p[2] == Approx(20.0 - 80.0));  // clipped at max - top_db
  CHECK(p[3] == Approx(20.0));
  std::vector<double> q{1.0, 0.0, 1e-3};
  ddsp_power_to_db<double>(q);
  CHECK(q[1] == Approx(-80.0));
  CHECK(q[2] == Approx(-30.0));
  std::vector<float> a{0.5f, -1.0f};
  amplitude_to_db<float>(a);
  CHECK(a[0] == Approx(-6.0206).margin(1e-3));
  CHECK(a[1] == Approx(0.0).margin(1e-6));
}

TEST_CASE("A-weighting: 0 dB at 1 kHz, IEC values elsewhere", "[dsp][loudness]") {
  CHECK(a_weighting_db(1000) == Approx(0.0).margin(0.01));
  CHECK(a_weighting_db(100) == Approx(-19.1).margin(0.05));
  CHECK(a_weighting_db(10000) == Approx(-2.5).margin(0.05));
  CHECK(a_weighting_db(31.5) == Approx(-39.4).margin(0.15));  // IEC table value is rounded
  CHECK(a_weighting_db(0) == -80.0);
  CHECK(a_weighting_db(1, -80) == -80.0);
}

TEST_CASE("loudness: DDSP v2 of a full-scale 1 kHz sine and of silence", "[dsp][loudness]") {
  const auto x = sine<float>(64000, 1000, 16000);
  const auto L = loudness_db<float>(x, 16000);
  REQUIRE(L.size() == 1001);
  // bin 32 exactly: |X| = 512/4 = 128 at the peak and 64 in the two Hann side bins;
  // mean power over 257 bins = (128^2 + 2 * 64^2) / 257, A-weight ~ 0 dB (bins at 968.75 / 1031.25 Hz).
  const double expect =
      10 *
      std::log10((128.0 * 128 +
                  2 * 64.0 * 64 * std::pow(10.0, (a_weighting_db(968.75) + a_weighting_db(1031.25)) / 20.0) / 1.0) /
                 257.0);
  for (std::size_t t = 10; t < 990; t += 37) CHECK(L[t] == Approx(expect).margin(0.02));
  const std::vector<float> silence(32000, 0.0f);
  for (float v : loudness_db<float>(silence, 16000)) CHECK(v == -80.0f);
  const auto L1 = loudness_db<float>(x, 16000, LoudnessConfig::v1());
  CHECK(L1.size() == 1000);
  for (float v : loudness_db<float>(silence, 16000, LoudnessConfig::v1())) CHECK(v == -120.0f);
  CHECK_THROWS_AS(loudness_db<float>(x, 16000, {LoudnessConvention::ddsp_v2, 333}), fugue::error);
  // RMS power of a unit sine: -3.01 dB.
  const auto P = power_db<float>(x, 16000);
  CHECK(P[100] == Approx(-3.0103).margin(0.01));
}

TEST_CASE("loudness: frame counts of the three DDSP conventions for a length off the hop", "[dsp][loudness]") {
  // 32,017 samples at 16 kHz, hop 64. ddsp 3.7 (v2): centre padding, 1 + floor(N / hop) = 501.
  // ddsp 1.x (v1): pad_end gives ceil(N / hop) = 501, trimmed to int(N / sr * 250) = 500.
  // ddsp 0.0.6 (v0): the same 501 pad_end frames, untrimmed.
  const auto x = sine<float>(32017, 440, 16000);
  const auto v2 = loudness_db<float>(x, 16000);
  const auto v1 = loudness_db<float>(x, 16000, LoudnessConfig::v1());
  const auto v0 = loudness_db<float>(x, 16000, LoudnessConfig::v0());
  CHECK(v2.size() == 501);
  CHECK(v1.size() == 500);
  REQUIRE(v0.size() == 501);
  for (std::size_t t = 0; t < v1.size(); ++t) REQUIRE(v0[t] == v1[t]);  // same frames, only the trim differs
  // v0's last frame starts at sample 500 * 64 = 32,000: 17 samples of sine, the rest zero padding,
  // so it is a computed frame (not the -120 dB pad value) unlike the stationary frames before it.
  CHECK(v0[500] > -120.0f);
  CHECK(std::fabs(v0[500] - v0[250]) > 1.0f);
  CHECK(v0[250] == Approx(v0[100]).margin(1e-3));
  // A whole number of hops: v1 and v0 agree on the count, v2 has the extra centre frame.
  const auto y = sine<float>(32000, 440, 16000);
  CHECK(loudness_db<float>(y, 16000, LoudnessConfig::v0()).size() == 500);
  CHECK(loudness_db<float>(y, 16000, LoudnessConfig::v1()).size() == 500);
  CHECK(loudness_db<float>(y, 16000).size() == 501);
}

TEST_CASE("instantaneous frequency of a stationary sinusoid on bin k (gansynth.md §8.3)", "[dsp][if]") {
  const std::size_t n_fft = 2048, hop = 512;
  for (std::size_t k : {40u, 41u, 42u, 43u}) {
    const auto x = sine<double>(64000, double(k) * 16000 / n_fft, 16000, 0.5, 0.2);
    const Stft<double> s(Framing::left(n_fft, hop, 3072));
    const auto X = s.forward(x);
    Array2<double> ph(X.rows(), 1);
    for (std::size_t t = 0; t < X.rows(); ++t) ph(t, 0) = std::arg(X(t, k));
    const auto F = instantaneous_frequency(ph);
    CHECK(F(0, 0) == Approx(ph(0, 0) / kPi));
    const double expect[4] = {0.0, 0.5, 1.0, -0.5};
    for (std::size_t t = 10; t < X.rows(); t += 9) {
      if (k % 4 == 2)
        CHECK(std::abs(F(t, 0)) == Approx(1.0).margin(1e-6));
      else
        CHECK(F(t, 0) == Approx(expect[k % 4]).margin(1e-6));
    }
    const auto P = if_to_phase(F);
    const auto U = unwrap_time(ph);
    for (std::size_t t = 0; t < X.rows(); t += 13) CHECK(P(t, 0) == Approx(U(t, 0)).margin(1e-9));
  }
}

TEST_CASE("GANSynth spectrogram: shapes and linear round trip (gansynth.md §8.1-8.2)", "[dsp][if]") {
  // A decaying harmonic tone: GANSynth drops the DC bin, so a signal with DC content per frame (e.g.
  // white noise) does not come back exactly; this one has none to speak of.
  std::vector<double> x(64000, 0.0);
  for (int h = 1; h <= 12; ++h) {
    const auto a = sine<double>(64000, 261.6 * h, 16000, 0.4 / h, 0.3 * h);
    for (std::size_t i = 0; i < x.size(); ++i) x[i] += a[i] * std::exp(-double(i) / 30000.0);
  }
  const GanSynthSpec<double> g;
  CHECK(g.left_pad() == 3072);
  const auto S = g.to_specgram(x);
  CHECK(S.logmag.rows() == 128);
  CHECK(S.logmag.cols() == 1024);
  for (std::size_t t = 1; t < 128; t += 11)
    for (std::size_t k = 0; k < 1024; k += 97) CHECK(std::abs(S.inst_freq(t, k)) <= 1.0 + 1e-12);
  const auto y = g.to_waveform(S);
  double se = 0;
  std::size_t cnt = 0;
  for (std::size_t i = 2048; i + 2048 < x.size(); ++i, ++cnt) se += (y[i] - x[i]) * (y[i] - x[i]);
  CHECK(std::sqrt(se / double(cnt)) < 1e-5);
  const auto M = g.to_mel(S);
  CHECK(M.logmag.rows() == 128);
  CHECK(M.logmag.cols() == 1024);
  const auto back = g.from_mel(M);
  CHECK(back.logmag.cols() == 1024);
}

TEST_CASE("YIN recovers the pitch of sinusoids and of a harmonic tone", "[dsp][f0]") {
  YinConfig cfg;  // 16 kHz, frame 1024, hop 64, fmin 40, fmax 2000, threshold 0.1
  for (double f : {82.41, 110.0, 196.0, 261.63, 440.0, 987.77}) {
    const auto x = sine<double>(16000, f, 16000, 0.5);
    const auto r = yin<double>(x, cfg);
    REQUIRE(r.f0_hz.size() == 1 + 16000 / 64);
    for (std::size_t t = 20; t + 20 < r.f0_hz.size(); t += 7) {
      CHECK(r.f0_hz[t] == Approx(f).epsilon(1e-3));
      CHECK(r.voiced[t] == 1);
      CHECK(r.confidence[t] > 0.9);
    }
  }
  std::vector<float> tone(16000, 0.0f);
  const double f0 = 147.0;
  for (int h = 1; h <= 10; ++h) {
    const auto p = sine<float>(16000, f0 * h, 16000, 0.3 / h, 0.7 * h);
    for (std::size_t i = 0; i < tone.size(); ++i) tone[i] += p[i];
  }
  const auto r = yin<float>(tone, cfg);
  for (std::size_t t = 20; t + 20 < r.f0_hz.size(); t += 5) CHECK(r.f0_hz[t] == Approx(f0).epsilon(1e-3));
  const std::vector<double> silence(4000, 0.0);
  const auto s = yin<double>(silence, cfg);
  for (std::size_t t = 0; t < s.f0_hz.size(); ++t) {
    CHECK(s.f0_hz[t] == 0.0);
    CHECK(s.voiced[t] == 0);
  }
  const auto nz = yin<double>(noise<double>(16000, 1), cfg);
  std::size_t voiced = 0;
  for (auto v : nz.voiced) voiced += v;
  CHECK(voiced < nz.voiced.size() / 10);
  CHECK_THROWS_WITH(yin<double>(silence, {16000, 10, 2000, 1024}), Contains("too short"));
}

TEST_CASE("feature front ends: shapes of the model inputs", "[dsp][features]") {
  const auto x = noise<float>(16000, 2, 0.1);
  const auto of = onsets_frames_logmel<float>(x);
  CHECK(of.rows() == 32);
  CHECK(of.cols() == 229);
  const auto mf = ddsp_mfcc<float>(noise<float>(64000, 3, 0.1));
  CHECK(mf.rows() == 125);
  CHECK(mf.cols() == 30);
}

TEST_CASE("spectrogram picture: viridis brightens monotonically and a tone lights its own row", "[dsp][image]") {
  // Rec. 601 luma of the colour map rises with u: louder is always brighter.
  double last = -1;
  for (int i = 0; i <= 64; ++i) {
    const auto c = fugue::dsp::viridis(i / 64.0);
    const double luma = 0.299 * c[0] + 0.587 * c[1] + 0.114 * c[2];
    CHECK(luma > last);
    last = luma;
  }
  CHECK(fugue::dsp::viridis(-1.0) == fugue::dsp::viridis(0.0));
  CHECK(fugue::dsp::viridis(std::nan("")) == fugue::dsp::viridis(0.0));

  // A 1 kHz tone at 16 kHz, frame 1024: bin 64. Every column's brightest row is that bin's.
  std::vector<float> x(16000);
  for (std::size_t i = 0; i < x.size(); ++i)
    x[i] = float(0.5 * std::sin(2 * std::numbers::pi * 1000.0 * double(i) / 16000.0));
  fugue::dsp::SpectrogramImageOptions one_per_bin;
  one_per_bin.height = 0;
  const auto img = fugue::dsp::spectrogram_rgb(std::span<const float>(x), one_per_bin);
  CHECK(img.width == 16000 / 256 + 1);
  CHECK(img.height == 513);                                                     // 0 .. 8 kHz inclusive
  CHECK(fugue::dsp::spectrogram_rgb(std::span<const float>(x)).height == 256);  // the default: 256 rows
  const std::uint32_t tone_row = img.height - 1 - 64;
  for (std::uint32_t t = 4; t + 4 < img.width; ++t) {
    std::uint32_t best = 0;
    int best_sum = -1;
    for (std::uint32_t r = 0; r < img.height; ++r) {
      const auto* p = &img.rgb[(std::size_t(r) * img.width + t) * 3];
      if (p[0] + p[1] + p[2] > best_sum) best_sum = p[0] + p[1] + p[2], best = r;
    }
    CHECK(best == tone_row);
  }
  x[7] = std::numeric_limits<float>::infinity();
  CHECK_THROWS_WITH(fugue::dsp::spectrogram_rgb(std::span<const float>(x)), Catch::Contains("sample 7 is not finite"));
}
