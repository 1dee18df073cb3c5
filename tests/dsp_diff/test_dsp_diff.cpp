// Differentiable DSP ops: float64 gradchecks of every op (registry rule), closed forms from the DDSP spec
// (/work/shared/specs/ddsp.md §3, §5, §9), float/double agreement.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <numbers>
#include <vector>

#include "fugue/autodiff/gradcheck.hpp"
#include "fugue/dsp/filtered_noise.hpp"
#include "fugue/dsp/harmonic_synth.hpp"
#include "fugue/dsp/reverb.hpp"
#include "fugue/dsp/spectral_loss.hpp"
#include "fugue/dsp/stft.hpp"
#include "fugue/dsp/stft_magnitude_op.hpp"

using namespace fugue;
using Bk = cpu::native;
using Td = Tensor<double, Bk>;
using Tf = Tensor<float, Bk>;
using Vd = ad::Var<double, Bk>;
using Taped = ad::Tape<double, Bk>;

namespace {

Td uni(const Shape& s, std::uint64_t stream, double lo = -1, double hi = 1) {
  return Td::uniform(s, Philox{2024, stream}, lo, hi);
}

constexpr double kPi = std::numbers::pi;

}  // namespace

// ---------------------------------------------------------------------------------------------
// Gradchecks (float64). Sizes are small so that every case runs in milliseconds.

FUGUE_AD_GRADCHECK_CASE(dsp_stft_magnitude, "[2, 40], frame 16 hop 4, pad_end") {
  return ad::gradcheck([](Taped&, std::span<Vd> v) { return dsp::stft_magnitude(v[0], dsp::Framing::end(16, 4)); },
                       {uni({2, 40}, 1)});
}
FUGUE_AD_GRADCHECK_CASE(dsp_stft_magnitude, "[37], frame 12 hop 5, fft 16, centre reflect") {
  return ad::gradcheck(
      [](Taped&, std::span<Vd> v) {
        return dsp::stft_magnitude(v[0], dsp::Framing::center(12, 5, dsp::PadKind::reflect), 16);
      },
      {uni({37}, 2)});
}

FUGUE_AD_GRADCHECK_CASE(dsp_spectral_loss, "[2, 48], sizes 16/8, both inputs, log(x + eps)") {
  dsp::SpectralLossOptions o;
  o.fft_sizes = {16, 8};
  return ad::gradcheck([o](Taped&, std::span<Vd> v) { return dsp::spectral_loss(v[0], v[1], o); },
                       {uni({2, 48}, 3), uni({2, 48}, 4)});
}
FUGUE_AD_GRADCHECK_CASE(dsp_spectral_loss, "[40], sizes 32/16/4, HEAD safe_log, weights 0.5/2, target constant") {
  dsp::SpectralLossOptions o;
  o.fft_sizes = {32, 16, 4};
  o.mag_weight = 0.5;
  o.logmag_weight = 2;
  o.log_kind = dsp::SpectralLossOptions::LogKind::safe_log;
  static const Td target = uni({40}, 6);
  return ad::gradcheck([o](Taped& t, std::span<Vd> v) { return dsp::spectral_loss(v[0], t.constant(target), o); },
                       {uni({40}, 5)});
}

FUGUE_AD_GRADCHECK_CASE(dsp_harmonic_synth, "B 2, F 4, K 5, N 32, window, exp_sigmoid, Nyquist masking") {
  dsp::HarmonicOptions o;
  o.n_samples = 32;
  o.sample_rate = 1000;  // Nyquist 500 Hz: harmonics 4-5 of the higher f0 values are removed
  return ad::gradcheck([o](Taped&, std::span<Vd> v) { return dsp::harmonic_synth(v[0], v[1], v[2], o); },
                       {uni({2, 4}, 7), uni({2, 4, 5}, 8, -2, 2), uni({2, 4}, 9, 40, 130)});
}
FUGUE_AD_GRADCHECK_CASE(dsp_harmonic_synth, "B 1, F 3, K 4, N 29, linear, no scaling, [B, F, 1] controls") {
  dsp::HarmonicOptions o;
  o.n_samples = 29;
  o.sample_rate = 800;
  o.exp_sigmoid = false;
  o.amp_resample = dsp::AmpResample::linear;
  return ad::gradcheck([o](Taped&, std::span<Vd> v) { return dsp::harmonic_synth(v[0], v[1], v[2], o); },
                       {uni({1, 3, 1}, 10, 0.2, 1), uni({1, 3, 4}, 11, 0.1, 1), uni({1, 3, 1}, 12, 30, 110)});
}

FUGUE_AD_GRADCHECK_CASE(dsp_filtered_noise, "B 2, F 3, M 5, N 20, exp_sigmoid bias -5") {
  dsp::FilteredNoiseOptions o;
  o.n_samples = 20;
  return ad::gradcheck([o](Taped&, std::span<Vd> v) { return dsp::filtered_noise(v[0], o); },
                       {uni({2, 3, 5}, 13, 2, 6)});
}
FUGUE_AD_GRADCHECK_CASE(dsp_filtered_noise, "B 1, F 4, M 9, N 30 (ragged last block), no scaling") {
  dsp::FilteredNoiseOptions o;
  o.n_samples = 30;
  o.exp_sigmoid = false;
  o.seed = 7;
  return ad::gradcheck([o](Taped&, std::span<Vd> v) { return dsp::filtered_noise(v[0], o); }, {uni({1, 4, 9}, 14)});
}

FUGUE_AD_GRADCHECK_CASE(dsp_reverb, "[2, 20] audio, shared [7] IR, masked first tap, dry") {
  return ad::gradcheck([](Taped&, std::span<Vd> v) { return dsp::reverb(v[0], v[1]); },
                       {uni({2, 20}, 15), uni({7}, 16)});
}
FUGUE_AD_GRADCHECK_CASE(dsp_reverb, "[2, 13] audio, per-row [2, 9] IR, no mask, wet only") {
  dsp::ReverbOptions o;
  o.add_dry = false;
  o.mask_first_tap = false;
  return ad::gradcheck([o](Taped&, std::span<Vd> v) { return dsp::reverb(v[0], v[1], o); },
                       {uni({2, 13}, 17), uni({2, 9}, 18)});
}

TEST_CASE("dsp_diff: every differentiable DSP op gradchecks in float64", "[dsp_diff][gradcheck]") {
  for (auto& r : ad::run_gradcheck_cases()) {
    INFO(r.summary());
    CHECK(r.ok);
  }
  for (const char* op :
       {"dsp_stft_magnitude", "dsp_spectral_loss", "dsp_harmonic_synth", "dsp_filtered_noise", "dsp_reverb"}) {
    INFO(op);
    CHECK(ad::registry::is_registered(op));
    CHECK(ad::registry::is_checked(op));
  }
  CHECK(ad::registry::conflicts().empty());
}

// ---------------------------------------------------------------------------------------------
// |STFT| op against the non-differentiable Stft kernel.

TEST_CASE("dsp_diff: stft_magnitude equals |Stft::forward| (double and float)", "[dsp_diff]") {
  const auto fr = dsp::Framing::center(64, 16, dsp::PadKind::reflect);
  Td x = uni({301}, 20);
  ad::Tape<double> t;
  auto m = dsp::stft_magnitude(t.input(x), fr, 80).value().to_vector();
  const auto X = dsp::Stft<double>(fr, {}, 80).forward(x.to_vector());
  REQUIRE(m.size() == X.size());
  double e = 0;
  for (std::size_t i = 0; i < m.size(); ++i) e = std::max(e, std::abs(m[i] - std::abs(X.data()[i])));
  CHECK(e < 1e-12);
  const auto xd = x.to_vector();  // one vector: begin() and end() must come from the same one
  Tf xf = Tf::from(std::vector<float>(xd.begin(), xd.end()), {301});
  ad::Tape<float> tf;
  auto mf = dsp::stft_magnitude(tf.input(xf), fr, 80).value().to_vector();
  double ef = 0;
  for (std::size_t i = 0; i < m.size(); ++i) ef = std::max(ef, std::abs(double(mf[i]) - m[i]));
  CHECK(ef < 1e-4);
}

// ---------------------------------------------------------------------------------------------
// Harmonic synthesizer closed forms (spec §9.3-9.5, §3.2-3.3).

namespace {
std::vector<double> synth(const dsp::HarmonicOptions& o, const Td& a, const Td& d, const Td& f0) {
  ad::Tape<double> t;
  return dsp::harmonic_synth(t.input(a), t.input(d), t.input(f0), o).value().to_vector();
}
}  // namespace

TEST_CASE("dsp_diff: one harmonic, constant f0 and amplitude = A sin(2 pi f (n+1) / sr)", "[dsp_diff][harmonic]") {
  dsp::HarmonicOptions o;  // 1000 frames -> 64000 samples at 16 kHz
  o.exp_sigmoid = false;
  const double A = 0.7, f = 441.25;  // exactly representable in float: both runs see the same f0
  for (auto method : {dsp::AmpResample::window, dsp::AmpResample::linear}) {
    o.amp_resample = method;
    auto y = synth(o, Td::full({1, 1000}, A), Td::full({1, 1000, 1}, 3.0), Td::full({1, 1000}, f));
    double e = 0;
    for (std::size_t n = 0; n < y.size(); ++n)
      e = std::max(e, std::abs(y[n] - A * std::sin(2 * kPi * f * double(n + 1) / 16000.0)));
    CHECK(e < 1e-9);
    // Float: the wrapped double phase keeps it accurate over all 64000 samples.
    ad::Tape<float> t;
    auto yf = dsp::harmonic_synth(t.input(Tf::full({1, 1000}, float(A))), t.input(Tf::full({1, 1000, 1}, 3.f)),
                                  t.input(Tf::full({1, 1000}, float(f))), o)
                  .value()
                  .to_vector();
    double ef = 0;
    for (std::size_t n = 0; n < y.size(); ++n) ef = std::max(ef, std::abs(double(yf[n]) - y[n]));
    CHECK(ef < 2e-6);
  }
}

TEST_CASE("dsp_diff: exp_sigmoid scaling of the controls (spec §9.1)", "[dsp_diff][harmonic]") {
  dsp::HarmonicOptions o;
  o.n_samples = 640;
  // exp_sigmoid(0) = 0.405399233; one harmonic: the distribution normalises to 1.
  auto y = synth(o, Td::zeros({1, 10}), Td::full({1, 10, 1}, -3.0), Td::full({1, 10}, 1000.0));
  for (std::size_t n : {0u, 17u, 639u})
    CHECK(y[n] == Approx(0.405399233 * std::sin(2 * kPi * 1000.0 * (n + 1) / 16000)).margin(1e-8));
}

TEST_CASE("dsp_diff: Nyquist removal zeroes harmonics >= sr/2 and renormalises (f0 440 Hz: 18 of 30)",
          "[dsp_diff][harmonic]") {
  dsp::HarmonicOptions o;
  o.n_samples = 6400;
  o.exp_sigmoid = false;
  const std::size_t F = 100, K = 30;
  auto y = synth(o, Td::full({1, F}, 1.0), Td::full({1, F, K}, 0.25), Td::full({1, F}, 440.0));
  double e = 0;
  for (std::size_t n = 0; n < y.size(); ++n) {
    double ref = 0;
    for (int k = 1; k <= 18; ++k) ref += std::sin(2 * kPi * k * 440.0 * double(n + 1) / 16000.0) / 18.0;
    e = std::max(e, std::abs(y[n] - ref));
  }
  CHECK(e < 1e-9);
  // Oscillators at or above Nyquist (1.0, 1.1, 1.5, 2.0 x) are exactly silent (spec §9.5).
  for (double r : {1.0, 1.1, 1.5, 2.0}) {
    auto z = synth(o, Td::full({1, F}, 1.0), Td::full({1, F, 1}, 1.0), Td::full({1, F}, 8000.0 * r));
    double m = 0;
    for (double v : z) m = std::max(m, std::abs(v));
    CHECK(m == 0.0);
  }
}

TEST_CASE("dsp_diff: phase continuity across frames when f0 changes", "[dsp_diff][harmonic]") {
  dsp::HarmonicOptions o;
  o.n_samples = 64 * 50;
  o.exp_sigmoid = false;
  const std::size_t F = 50, K = 3;
  std::vector<double> f0(F);
  for (std::size_t f = 0; f < F; ++f) f0[f] = f % 2 ? 300.0 : 1200.0;  // jumps every frame
  auto y = synth(o, Td::full({1, F}, 1.0), Td::full({1, F, K}, 1.0), Td::from(f0, {1, F}));
  // Reference: per-harmonic inclusive cumulative sum of the linearly upsampled frequency (DDSP).
  std::vector<double> ph(K, 0.0);
  double e = 0, maxstep = 0;
  for (std::size_t n = 0; n < y.size(); ++n) {
    const double p = double(n) / 64.0;
    const std::size_t i0 = std::min<std::size_t>(std::size_t(p), F - 1), i1 = std::min(i0 + 1, F - 1);
    const double fu = f0[i0] + (f0[i1] - f0[i0]) * (i0 == F - 1 ? 0.0 : p - double(i0));
    double ref = 0;
    for (std::size_t k = 0; k < K; ++k) {
      ph[k] += 2 * kPi * double(k + 1) * fu / 16000.0;
      ref += std::sin(ph[k]) / 3.0;
    }
    e = std::max(e, std::abs(y[n] - ref));
    if (n) maxstep = std::max(maxstep, std::abs(y[n] - y[n - 1]));
  }
  CHECK(e < 1e-9);
  // No discontinuity: a sample-to-sample step never exceeds the steepest slope of the signal.
  CHECK(maxstep <= 2 * kPi * 3 * 1200.0 / 16000.0 + 1e-9);
}

TEST_CASE("dsp_diff: harmonic synth, float agrees with double at K 64 (recurrence error)", "[dsp_diff][harmonic]") {
  dsp::HarmonicOptions o;
  o.n_samples = 64 * 200;
  const index_t F = 200, K = 64;
  Td a = uni({1, F}, 30, -1, 3), d = uni({1, F, K}, 31, -3, 3), f0 = uni({1, F}, 32, 60, 400);
  auto yd = synth(o, a, d, f0);
  auto tof = [](const Td& x) {
    auto v = x.to_vector();
    return Tf::from(std::vector<float>(v.begin(), v.end()), x.shape());
  };
  ad::Tape<float> t;
  auto af = t.input(tof(a), true), df = t.input(tof(d), true), ff = t.input(tof(f0), true);
  auto yv = dsp::harmonic_synth(af, df, ff, o);
  auto yf = yv.value().to_vector();
  double e = 0, m = 0;
  for (std::size_t n = 0; n < yd.size(); ++n) {
    e = std::max(e, std::abs(double(yf[n]) - yd[n]));
    m = std::max(m, std::abs(yd[n]));
  }
  CHECK(e / m < 1e-4);
  // Float gradients against double gradients.
  ad::Tape<double> td;
  auto ad_ = td.input(a, true), dd = td.input(d, true), fd = td.input(f0, true);
  auto yvd = dsp::harmonic_synth(ad_, dd, fd, o);
  Td seed = uni({1, 64 * 200}, 33);
  td.backward(yvd, seed);
  auto sv = seed.to_vector();
  t.backward(yv, Tf::from(std::vector<float>(sv.begin(), sv.end()), seed.shape()));
  auto cmp = [](const Tf& gf, const Td& gd) {
    auto a = gf.to_vector();
    auto b = gd.to_vector();
    double e = 0, m = 0;
    for (std::size_t i = 0; i < a.size(); ++i) {
      e = std::max(e, std::abs(double(a[i]) - b[i]));
      m = std::max(m, std::abs(b[i]));
    }
    return e / m;
  };
  CHECK(cmp(af.grad(), ad_.grad()) < 1e-3);
  CHECK(cmp(df.grad(), dd.grad()) < 1e-3);
  CHECK(cmp(ff.grad(), fd.grad()) < 1e-3);
}

TEST_CASE("dsp_diff: harmonic synth results do not depend on the thread count", "[dsp_diff][harmonic]") {
  dsp::HarmonicOptions o;
  o.n_samples = 64 * 100;
  Td a = uni({2, 100}, 40), d = uni({2, 100, 16}, 41), f0 = uni({2, 100}, 42, 80, 900);
  auto run = [&](int threads) {
    cpu::set_num_threads(threads);
    ad::Tape<double> t;
    auto va = t.input(a, true), vd = t.input(d, true), vf = t.input(f0, true);
    auto y = dsp::harmonic_synth(va, vd, vf, o);
    t.backward(y, uni({2, 64 * 100}, 43));
    auto out = y.value().to_vector();
    for (auto* v : {&va, &vd, &vf}) {
      auto g = v->grad().to_vector();
      out.insert(out.end(), g.begin(), g.end());
    }
    return out;
  };
  auto one = run(1), two = run(2);
  cpu::set_num_threads(1);
  CHECK(one == two);
}

// Row b of the batch starts b * N samples into the sample-rate buffers: for N = 499 (linear) no row
// after the first is SIMD-aligned. Each row must equal that row synthesized alone (it once read
// those buffers with aligned loads and crashed).
TEST_CASE("dsp_diff: harmonic synth, batch rows at unaligned offsets equal single-row calls", "[dsp_diff][harmonic]") {
  for (const std::size_t N : {std::size_t(499), std::size_t(501)}) {
    dsp::HarmonicOptions o;
    o.n_samples = N;
    o.amp_resample = dsp::AmpResample::linear;
    const auto a = uni({3, 7}, 44).to_vector(), d = uni({3, 7, 9}, 45).to_vector(),
               f = uni({3, 7}, 46, 100, 1900).to_vector();
    auto as_float = [](const std::vector<double>& v, std::size_t from, std::size_t n, Shape s) {
      return Tf::from(std::vector<float>(v.begin() + std::ptrdiff_t(from), v.begin() + std::ptrdiff_t(from + n)), s);
    };
    ad::Tape<float> t;
    const auto all = dsp::harmonic_synth(t.input(as_float(a, 0, 21, {3, 7})), t.input(as_float(d, 0, 189, {3, 7, 9})),
                                         t.input(as_float(f, 0, 21, {3, 7})), o)
                         .value()
                         .to_vector();
    REQUIRE(all.size() == 3 * N);
    for (std::size_t b = 0; b < 3; ++b) {
      const auto row =
          dsp::harmonic_synth(t.input(as_float(a, 7 * b, 7, {1, 7})), t.input(as_float(d, 63 * b, 63, {1, 7, 9})),
                              t.input(as_float(f, 7 * b, 7, {1, 7})), o)
              .value()
              .to_vector();
      INFO("N " << N << ", row " << b);
      CHECK(std::equal(row.begin(), row.end(), all.begin() + std::ptrdiff_t(b * N)));
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Filtered noise (spec §3.4).

TEST_CASE("dsp_diff: filtered noise with flat magnitudes is scaled noise, delayed 2 samples", "[dsp_diff][noise]") {
  dsp::FilteredNoiseOptions o;
  o.exp_sigmoid = false;
  dsp::FilteredNoise<double> fn(o);
  ad::Tape<double> t;
  const double g = 0.3;
  auto y = fn(t.input(Td::full({1, 1000, 65}, g))).value().to_vector();
  const auto x = fn.noise(0);
  double e = 0;
  for (std::size_t n = 0; n < y.size(); ++n) e = std::max(e, std::abs(y[n] - (n >= 2 ? g * x[n - 2] : 0.0)));
  CHECK(e < 1e-12);
  // Flat-ish spectrum: average power per octave band within 1.5 dB of the mean.
  const std::size_t nfft = 1024;
  std::vector<double> P(nfft / 2 + 1, 0.0);
  for (std::size_t s = 0; s + nfft <= y.size(); s += nfft) {
    auto X = dsp::rfft<double>(std::span<const double>(y.data() + s, nfft));
    for (std::size_t k = 0; k < P.size(); ++k) P[k] += std::norm(X[k]);
  }
  double mean = 0;
  for (std::size_t k = 1; k < P.size() - 1; ++k) mean += P[k];
  mean /= double(P.size() - 2);
  for (std::size_t lo = 8; lo < 512; lo *= 2) {
    double band = 0;
    for (std::size_t k = lo; k < 2 * lo; ++k) band += P[k];
    band /= double(lo);
    CHECK(std::abs(10 * std::log10(band / mean)) < 1.5);
  }
}

TEST_CASE("dsp_diff: band-limited magnitudes attenuate out-of-band energy", "[dsp_diff][noise]") {
  dsp::FilteredNoiseOptions o;
  o.exp_sigmoid = false;
  std::vector<float> m(1000 * 65, 0.f);
  for (std::size_t f = 0; f < 1000; ++f)
    for (std::size_t k = 0; k < 16; ++k) m[f * 65 + k] = 1.f;  // pass band 0..1875 Hz of 8 kHz
  ad::Tape<float> t;
  auto y = dsp::filtered_noise(t.input(Tf::from(m, {1, 1000, 65})), o).value().to_vector();
  const std::size_t nfft = 1024;
  double in = 0, out = 0;
  for (std::size_t s = 0; s + nfft <= y.size(); s += nfft) {
    auto X = dsp::rfft<float>(std::span<const float>(y.data() + s, nfft));
    for (std::size_t k = 0; k < X.size(); ++k) {
      const double hz = double(k) * 16000.0 / nfft;
      if (hz < 1700) in += std::norm(X[k]);
      if (hz > 3000) out += std::norm(X[k]);
    }
  }
  CHECK(10 * std::log10(out / in) < -30.0);
}

// ---------------------------------------------------------------------------------------------
// Spectral loss (spec §5).

TEST_CASE("dsp_diff: spectral loss is 0 for identical signals, symmetric, and has DDSP's frame counts",
          "[dsp_diff][loss]") {
  Td x = uni({2, 4000}, 50), y = uni({2, 4000}, 51);
  dsp::SpectralLoss<double> L;
  ad::Tape<double> t;
  auto vx = t.input(x, true);
  auto l0 = L(vx, t.input(x));
  CHECK(l0.value().item() == 0.0);
  t.backward(l0);
  for (double g : vx.grad().to_vector()) CHECK(g == 0.0);
  const double a = L(t.input(x), t.input(y)).value().item(), b = L(t.input(y), t.input(x)).value().item();
  CHECK(a > 0);
  CHECK(a == Approx(b).epsilon(1e-13));
  // 4 s at 16 kHz: 2048 -> 125 x 1025, ..., 64 -> 4000 x 33 (tf pad_end framing).
  const std::size_t frames[] = {125, 250, 500, 1000, 2000, 4000};
  for (std::size_t i = 0; i < 6; ++i) {
    const std::size_t s = std::size_t(2048) >> i;
    dsp::StftMagKernel<double> k(dsp::Framing::end(s, s / 4), s);
    CHECK(k.num_frames(64000) == frames[i]);
    CHECK(k.bins() == s / 2 + 1);
  }
  // Float and 2 threads agree with double / 1 thread.
  cpu::set_num_threads(2);
  ad::Tape<double> t2;
  CHECK(L(t2.input(x), t2.input(y)).value().item() == Approx(a).epsilon(1e-12));
  cpu::set_num_threads(1);
  auto tof = [](const Td& v) {
    auto h = v.to_vector();
    return Tf::from(std::vector<float>(h.begin(), h.end()), v.shape());
  };
  ad::Tape<float> tf;
  dsp::SpectralLoss<float> Lf;
  CHECK(double(Lf(tf.input(tof(x)), tf.input(tof(y))).value().item()) == Approx(a).epsilon(1e-4));
}

// ---------------------------------------------------------------------------------------------
// Reverb (spec §3.5, §9.9).

TEST_CASE("dsp_diff: reverb with an impulse IR is the identity / a pure delay", "[dsp_diff][reverb]") {
  Td x = uni({2, 1000}, 60);
  std::vector<double> h(300, 0.0);
  h[0] = 0.8;  // the masked dry tap: anything
  ad::Tape<double> t;
  auto y = dsp::reverb(t.input(x), t.input(Td::from(h, {300}))).value().to_vector();
  auto xv = x.to_vector();
  double e = 0;
  for (std::size_t i = 0; i < xv.size(); ++i) e = std::max(e, std::abs(y[i] - xv[i]));
  CHECK(e < 1e-12);
  // Wet only, IR = delta at 7: output = input delayed by 7 samples.
  h[0] = 0;
  h[7] = 1;
  dsp::ReverbOptions o;
  o.add_dry = false;
  auto z = dsp::reverb(t.input(x), t.input(Td::from(h, {300})), o).value().to_vector();
  e = 0;
  for (std::size_t r = 0; r < 2; ++r)
    for (std::size_t n = 0; n < 1000; ++n)
      e = std::max(e, std::abs(z[r * 1000 + n] - (n >= 7 ? xv[r * 1000 + n - 7] : 0.0)));
  CHECK(e < 1e-12);
}

// ---------------------------------------------------------------------------------------------
// Inputs the ops cannot handle are refused with a fugue::error, not read or written out of bounds.

TEST_CASE("dsp_diff: bad shapes and too-short signals raise fugue::error", "[dsp_diff][errors]") {
  dsp::FilteredNoiseOptions o;
  o.n_samples = 64;
  dsp::FilteredNoise<double> fn(o);
  {
    ad::Tape<double> t;
    // Two bands would make a 2-tap IR whose crop offset is negative.
    CHECK_THROWS_AS(fn(t.input(Td::full({1, 4, 2}, 0.1), true)), fugue::error);
    CHECK_THROWS_AS(fn(t.input(Td::full({4, 3}, 0.1), true)), fugue::error);
  }
  {
    ad::Tape<double> t;
    // Reflect-padding 32 samples on each side of a 20-sample signal has nothing to mirror.
    const auto fr = dsp::Framing::center(64, 16, dsp::PadKind::reflect);
    CHECK_THROWS_AS(dsp::stft_magnitude(t.input(uni({20}, 31), true), fr), fugue::error);
    CHECK_NOTHROW(dsp::stft_magnitude(t.input(uni({33}, 32), true), fr));
  }
}
