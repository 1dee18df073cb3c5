// The streaming engine against the offline model: same parameters, the frame features held
// per sample, any block size 1..2048: stream sample s equals offline sample s - hop (one hop of
// latency) within 1e-5 of the signal's peak, up to the last offline hop (where the offline
// model holds the final frame instead of interpolating to the next).
#include <catch2/catch.hpp>

#include <cmath>

#include "common.hpp"

using namespace ddsp_test;

namespace {
template <class M>
void check_stream_equals_offline(M& m, index_t F, std::vector<int> blocks, std::uint64_t stream,
                                 typename dd::Streamer<M>::Weights w = dd::Streamer<M>::Weights::f32,
                                 double tolerance = 1e-5) {
  auto [f0, ld] = features<float>(F, 150, 3000);  // up to 3 kHz: the upper harmonics cross Nyquist
  const auto offline = m.synthesize(f0, ld, stream).to_vector();
  const std::size_t hop = m.hop(), S = std::size_t(F) * hop;
  REQUIRE(offline.size() == S);
  std::vector<float> f0s(S + hop), lds(S + hop);
  for (std::size_t s = 0; s < S + hop; ++s) {
    const std::size_t t = std::min<std::size_t>(s / hop, std::size_t(F) - 1);
    f0s[s] = f0.data()[t];
    lds[s] = ld.data()[t];
  }
  dd::Streamer<M> st(m);
  const int max_block = *std::max_element(blocks.begin(), blocks.end());
  st.reset(16000, max_block, stream, w);
  st.prewarm();
  std::vector<float> out(S + hop);
  std::size_t pos = 0, b = 0;
  while (pos < S + hop) {
    const int n = int(std::min<std::size_t>(std::size_t(blocks[b++ % blocks.size()]), S + hop - pos));
    st.process(f0s.data() + pos, lds.data() + pos, out.data() + pos, n);
    pos += std::size_t(n);
  }
  double peak = 0, worst = 0, head = 0;
  for (std::size_t s = 0; s < hop; ++s) head = std::max(head, double(std::abs(out[s])));
  const std::size_t cmp = (std::size_t(F) - 1) * hop;
  for (std::size_t n = 0; n < cmp; ++n) {
    peak = std::max(peak, double(std::abs(offline[n])));
    worst = std::max(worst, double(std::abs(out[hop + n] - offline[n])));
  }
  INFO("peak " << peak << " worst " << worst);
  CHECK(head == 0.0);
  CHECK(peak > 0.05);               // a real signal, not near-silence
  CHECK(worst < tolerance * peak);  // f32: 5e-7 .. 9e-7 of peak achieved
}
}  // namespace

TEST_CASE("ddsp streaming: equals the offline model (window amplitudes, trainable reverb)", "[ddsp][streaming]") {
  Small<float> m;
  perturb(m, 21, 0.3);
  // A reverb audible in the output: a decaying tail instead of N(0, 1e-6).
  for (index_t i = 0; i < 300; ++i)
    m.reverb().ir.value.data()[i] = float(0.3 * std::exp(-i / 60.0) * std::sin(0.7 * i));
  m.reverb().ir.value.data()[0] = 0.5f;  // the dry tap: both paths must mask it
  check_stream_equals_offline(m, 40, {64}, 0);
  check_stream_equals_offline(m, 40, {128, 1, 77, 2048, 5}, 3);
}

TEST_CASE("ddsp streaming: equals the offline model (VST-style: 50 frames/s, linear amplitudes, noise reverb)",
          "[ddsp][streaming]") {
  dd::ModelOptions o;
  o.frame_rate = 50;
  o.amp_resample = dsp::AmpResample::linear;
  SmallVst<float> m(o);
  perturb(m, 22, 0.3);
  REQUIRE(m.hop() == 320);
  check_stream_equals_offline(m, 12, {128}, 0);
  check_stream_equals_offline(m, 12, {512, 64, 2048, 333}, 1);
}

TEST_CASE("ddsp streaming: equals the offline model for the vst_16k config itself and a stack-free variant",
          "[ddsp][streaming]") {
  // 60 harmonics from 50 Hz (the Chebyshev recurrence's worst case: high k at low f0).
  {
    dd::configs::vst_16k<float> m(dd::configs::vst_16k_options());
    perturb(m, 23, 0.05);
    auto [f0, ld] = features<float>(10, 50, 400);
    const auto offline = m.synthesize(f0, ld).to_vector();
    dd::Streamer<dd::configs::vst_16k<float>> st(m);
    st.reset(16000, 128);
    const std::size_t hop = m.hop(), S = 10 * hop;
    std::vector<float> f0s(S + hop), lds(S + hop), out(S + hop);
    for (std::size_t s = 0; s < S + hop; ++s) {
      f0s[s] = f0.data()[std::min<std::size_t>(s / hop, 9)];
      lds[s] = ld.data()[std::min<std::size_t>(s / hop, 9)];
    }
    for (std::size_t p = 0; p < S + hop; p += 128)
      st.process(f0s.data() + p, lds.data() + p, out.data() + p, int(std::min<std::size_t>(128, S + hop - p)));
    double peak = 0, worst = 0;
    for (std::size_t n = 0; n < 9 * hop; ++n) {
      peak = std::max(peak, double(std::abs(offline[n])));
      worst = std::max(worst, double(std::abs(out[hop + n] - offline[n])));
    }
    INFO("peak " << peak << " worst " << worst);
    CHECK(peak > 0.05);
    CHECK(worst < 1e-5 * peak);
  }
  {
    using Bare = dd::Model<float, B, dd::RnnFcDecoder<float, B, 8, 0, 12, 1 + 40 + 9>, 40, 9, dd::NoReverb<float, B>>;
    Bare m;
    perturb(m, 24, 0.4);
    check_stream_equals_offline(m, 30, {100, 7, 64}, 2);
  }
}

TEST_CASE("ddsp streaming: half-precision GRU weights stay within 5e-3 of the peak", "[ddsp][streaming]") {
  dd::ModelOptions o;
  o.frame_rate = 50;
  o.amp_resample = dsp::AmpResample::linear;
  SmallVst<float> m(o);
  perturb(m, 22, 0.3);
  using S = dd::Streamer<SmallVst<float>>;
  check_stream_equals_offline(m, 12, {128}, 0, S::Weights::f16, 5e-3);
  // ... and are really used: the f32 tolerance fails for them.
  dd::Streamer<SmallVst<float>> a(m), b(m);
  a.reset(16000, 320, 0, S::Weights::f32);
  b.reset(16000, 320, 0, S::Weights::f16);
  std::vector<float> f0(320, 300.f), ld(320, -20.f), ya(320), yb(320);
  double diff = 0;
  for (int i = 0; i < 6; ++i) {
    a.process(f0.data(), ld.data(), ya.data(), 320);
    b.process(f0.data(), ld.data(), yb.data(), 320);
    for (int j = 0; j < 320; ++j) diff = std::max(diff, double(std::abs(ya[std::size_t(j)] - yb[std::size_t(j)])));
  }
  CHECK(diff > 1e-7);
}

TEST_CASE("ddsp streaming: reset and bad arguments", "[ddsp][streaming]") {
  Small<float> m;
  dd::Streamer<Small<float>> st(m);
  CHECK_THROWS_WITH(st.reset(44100, 128), Catch::Contains("model runs at 16000 Hz"));
  CHECK_THROWS_WITH(st.reset(16000, 0), Catch::Contains("max_block must be >= 1"));
  CHECK_THROWS_WITH(st.prewarm(), Catch::Contains("call reset() first"));
  st.reset(16000, 128);
  std::vector<float> f0(256, 440.f), ld(256, -20.f), a(256), b(256);
  CHECK_THROWS_WITH(st.process(f0.data(), ld.data(), a.data(), 256), Catch::Contains("max_block is 128"));
  st.process(f0.data(), ld.data(), a.data(), 128);
  st.process(f0.data(), ld.data(), a.data() + 128, 128);
  st.reset(16000, 128);  // a reset starts the same stream again
  st.process(f0.data(), ld.data(), b.data(), 128);
  st.process(f0.data(), ld.data(), b.data() + 128, 128);
  CHECK(a == b);
  // NaN / negative conditioning is treated as 0 Hz / the floor loudness, never propagated.
  std::vector<float> bad(128, std::numeric_limits<float>::quiet_NaN());
  st.process(bad.data(), bad.data(), a.data(), 128);
  for (float v : a) REQUIRE(std::isfinite(v));
}
