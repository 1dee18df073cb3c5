// DDSP model: the spec's preprocessing numbers, float64 gradchecks of the whole objective (decoder,
// both synthesizers, both reverb kinds, multi-scale spectral loss), tape / tape-free / step paths
// agreeing, training (loss falls, bit-exact resume, NaN guard), features from audio, bad input.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <numbers>
#include <thread>

#include "common.hpp"
#include "fugue/autodiff/gradcheck.hpp"

using namespace ddsp_test;

namespace {
template <class M>
std::vector<ad::Parameter<double, B>*> params_of(M& m) {
  std::vector<ad::Parameter<double, B>*> v;
  m.visit_parameters([&](const std::string&, ad::Parameter<double, B>& p) { v.push_back(&p); });
  return v;
}
template <class T>
Tensor<T, B> tone(index_t n, double f0, double sr = 16000, double amp = 0.3) {
  std::vector<T> v(static_cast<std::size_t>(n));
  for (index_t i = 0; i < n; ++i) {
    double s = 0;
    for (int k = 1; k <= 5; ++k) s += std::sin(2 * std::numbers::pi * k * f0 * double(i) / sr) / k;
    v[std::size_t(i)] = T(amp * s);
  }
  return Tensor<T, B>::from(v, {1, n});
}
}  // namespace

TEST_CASE("ddsp: preprocessing scales as the spec's checks", "[ddsp]") {
  CHECK(dd::scale_f0(440.0) == Approx(69.0 / 127.0).epsilon(1e-12));
  CHECK(dd::scale_f0(440.0) == Approx(0.543307).epsilon(1e-6));
  CHECK(dd::scale_f0(0.0) == 0.0);
  CHECK(dd::scale_loudness(-80.0) == 0.0);
  CHECK(dd::scale_loudness(0.0) == 1.0);
  CHECK(dd::midi_to_hz(dd::hz_to_midi(261.6256)) == Approx(261.6256).epsilon(1e-12));
}

TEST_CASE("ddsp: gradcheck of the whole objective, trainable reverb (float64)", "[ddsp][gradcheck]") {
  Tiny<double> m;
  perturb(m, 3);
  auto [f0, ld] = features<double>(4, 300, 3000);
  const auto target = tone<double>(4 * 64, 330);
  auto f = [&](ad::Tape<double, B>& tape) { return m.loss(tape, f0, ld, target, 5); };
  const auto rep = ad::gradcheck_params<B>(f, params_of(m));
  INFO(rep.summary());
  CHECK(rep.ok());
}

TEST_CASE("ddsp: gradcheck of the whole objective, filtered-noise reverb (float64)", "[ddsp][gradcheck]") {
  TinyNoiseReverb<double> m;
  perturb(m, 4);
  auto [f0, ld] = features<double>(4, 300, 3000);
  const auto target = tone<double>(4 * 64, 250);
  auto f = [&](ad::Tape<double, B>& tape) { return m.loss(tape, f0, ld, target, 2); };
  const auto rep = ad::gradcheck_params<B>(f, params_of(m));
  INFO(rep.summary());
  CHECK(rep.ok());
}

TEST_CASE("ddsp: gradcheck of the autoencoder objective, MFCC z-encoder (float64)", "[ddsp][gradcheck]") {
  TinyAe<double> m;
  perturb(m, 5);
  auto [f0, ld] = features<double>(24, 300, 3000);
  const auto target = tone<double>(24 * 64, 290);
  REQUIRE(dd::MfccRnnEncoder<double, B, 3, 2, 5>::features(target).shape() == Shape{1, 3, 5});  // ceil(1536 / 512)
  auto f = [&](ad::Tape<double, B>& tape) { return m.loss(tape, f0, ld, target, 1); };
  const auto rep = ad::gradcheck_params<B>(f, params_of(m));
  INFO(rep.summary());
  CHECK(rep.ok());
  // The encoder really conditions the output: another source gives other audio.
  const auto other = tone<double>(24 * 64, 520);
  const auto a = m.synthesize(f0, ld, 0, &target).to_vector(), b = m.synthesize(f0, ld, 0, &other).to_vector();
  double diff = 0;
  for (std::size_t i = 0; i < a.size(); ++i) diff = std::max(diff, std::abs(a[i] - b[i]));
  CHECK(diff > 1e-6);
  ad::Tape<double, B> tape;
  CHECK_THROWS_WITH(m.audio(tape, f0, ld), Catch::Contains("needs the source audio"));
}

TEST_CASE("ddsp: the z resampling matrix is TF's linear resize", "[ddsp]") {
  const auto R = dd::MfccRnnEncoder<double, B, 3, 2, 5>::resample_matrix(8, 2).to_vector();  // 2 -> 8 frames
  // frame t reads position t / 4: weights (1 - t/4, t/4) for t < 4, then the last frame held.
  for (int t = 0; t < 8; ++t) {
    INFO("t " << t);
    CHECK(R[std::size_t(2 * t)] == Approx(t < 4 ? 1 - t / 4.0 : 0.0));
    CHECK(R[std::size_t(2 * t + 1)] == Approx(t < 4 ? t / 4.0 : 1.0));
  }
}

TEST_CASE("ddsp: decoder tape, tape-free and per-frame step paths agree", "[ddsp]") {
  Small<float> m;
  perturb(m, 7, 0.2);
  const index_t F = 12;
  auto [f0, ld] = features<float>(F);
  auto [f0s, lds] = Small<float>::preprocess(f0, ld);
  ad::Tape<float, B> tape;
  const auto y_tape = m.decoder()(tape, tape.constant(lds), tape.constant(f0s)).value().to_vector();
  const auto y_fwd = m.decoder().forward(lds, f0s).to_vector();
  REQUIRE(y_tape.size() == std::size_t(F * 28));
  typename Small<float>::decoder_type::StepWorkspace ws;
  std::vector<float> h(24, 0.f), out(28);
  double worst_fwd = 0, worst_step = 0;
  for (index_t t = 0; t < F; ++t) {
    m.decoder().step(ws, lds.data()[t], f0s.data()[t], h.data(), out.data());
    for (index_t j = 0; j < 28; ++j) {
      const std::size_t i = std::size_t(t * 28 + j);
      worst_fwd = std::max(worst_fwd, double(std::abs(y_tape[i] - y_fwd[i])));
      worst_step = std::max(worst_step, double(std::abs(y_tape[i] - out[std::size_t(j)])));
    }
  }
  CHECK(worst_fwd < 1e-5);
  CHECK(worst_step < 1e-4);
}

namespace {
// Worst |synthesize - audio on a no-grad tape| over the peak of the tape path.
template <class M>
double synthesize_vs_tape(M& m, index_t F, std::uint64_t stream, const Tensor<double, B>* source = nullptr) {
  auto [f0, ld] = features<double>(F, 200, 3000);
  ad::Tape<double, B> tape;
  ad::NoGrad<double, B> no_graph(tape);
  const auto ref = m.audio(tape, f0, ld, stream, source).value().to_vector();
  const M& shared = m;
  const auto got = shared.synthesize(f0, ld, stream, source).to_vector();
  REQUIRE(got.size() == ref.size());
  double worst = 0, peak = 0;
  for (std::size_t i = 0; i < ref.size(); ++i) {
    worst = std::max(worst, std::abs(got[i] - ref[i]));
    peak = std::max(peak, std::abs(ref[i]));
  }
  REQUIRE(peak > 1e-3);  // not comparing silence
  return worst / peak;
}
}  // namespace

TEST_CASE("ddsp: synthesize on a const model equals the training path's audio (float64)", "[ddsp]") {
  // The decoder / encoder run tape-free there (their GEMMs sum in other orders): equal to rounding.
  Small<double> trainable;
  perturb(trainable, 8, 0.2);
  CHECK(synthesize_vs_tape(trainable, 20, 3) < 1e-12);
  SmallVst<double> noise_reverb;
  perturb(noise_reverb, 9, 0.2);
  CHECK(synthesize_vs_tape(noise_reverb, 20, 4) < 1e-12);
  TinyAe<double> ae;
  perturb(ae, 10);
  const auto source = tone<double>(24 * 64, 290);
  CHECK(synthesize_vs_tape(ae, 24, 5, &source) < 1e-12);
}

TEST_CASE("ddsp: concurrent synthesize on one shared const model equals serial synthesis", "[ddsp][concurrent]") {
  SmallVst<float> trained;
  perturb(trained, 11, 0.2);
  const SmallVst<float>& m = trained;
  constexpr int threads = 4, per_thread = 3;
  auto job = [&](int t, int j) {
    const auto k = std::uint64_t(t * per_thread + j);
    auto [f0, ld] = features<float>(16 + index_t(k % 3) * 4, 150 + 20 * double(k), 2500);
    return m.synthesize(f0, ld, k).to_vector();
  };
  std::vector<std::vector<float>> serial, parallel(threads * per_thread);
  for (int t = 0; t < threads; ++t)
    for (int j = 0; j < per_thread; ++j) serial.push_back(job(t, j));
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t)
    pool.emplace_back([&, t] {
      for (int j = 0; j < per_thread; ++j) parallel[std::size_t(t * per_thread + j)] = job(t, j);
    });
  for (auto& th : pool) th.join();
  for (std::size_t i = 0; i < serial.size(); ++i) CHECK(parallel[i] == serial[i]);
  CHECK(serial[0] != serial[3]);  // the jobs differ (not comparing constants)
  // Evaluation is const too: the spectral loss between two of the results, on the shared model.
  auto [f0, ld] = features<float>(16, 150, 2500);
  const auto a = m.synthesize(f0, ld, 1), b = m.synthesize(f0, ld, 2);
  CHECK(m.spectral_loss(a, a) == 0.0);
  CHECK(m.spectral_loss(a, b) > 0.0);
}

TEST_CASE("ddsp: training lowers the spectral loss; resume is bit-exact; NaN input is refused", "[ddsp][train]") {
  using M = Small<float>;
  const index_t F = 50;
  auto [f0, ld] = features<float>(F, 220, 440);
  dd::Batch<float, B> batch{f0, ld, tone<float>(F * 64, 330)};
  dd::TrainConfig hp;
  hp.learning_rate = 3e-3;
  M m;
  dd::Trainer<M> tr(m, hp, 9);
  const double first = tr.step(batch).loss;
  double last = first;
  for (int i = 0; i < 40; ++i) last = tr.step(batch).loss;
  INFO("loss " << first << " -> " << last);
  CHECK(last < 0.8 * first);
  CHECK(tr.steps() == 41);

  const auto dir = std::filesystem::temp_directory_path() / "fugue_ddsp_test_ckpt";
  std::filesystem::create_directories(dir);
  const auto ck = dir / "ckpt.safetensors";
  tr.save(ck);
  const double a1 = tr.step(batch).loss, a2 = tr.step(batch).loss;
  M m2;
  dd::Trainer<M> tr2(m2, hp, 1);
  tr2.load(ck);
  CHECK(tr2.steps() == 41);
  const double b1 = tr2.step(batch).loss, b2 = tr2.step(batch).loss;
  CHECK(a1 == b1);
  CHECK(a2 == b2);

  // A NaN in the target: the step throws before touching the parameters.
  auto bad = batch;
  bad.audio = batch.audio.clone();
  bad.audio.data()[17] = std::numeric_limits<float>::quiet_NaN();
  const auto before = m2.decoder().dense().weight.value.to_vector();
  CHECK_THROWS_WITH(tr2.step(bad), Catch::Contains("training diverged at step 43"));
  CHECK(m2.decoder().dense().weight.value.to_vector() == before);

  // A checkpoint of another model is refused by name.
  Tiny<float> other;
  dd::Trainer<Tiny<float>> tr3(other, hp);
  CHECK_THROWS_WITH(tr3.load(ck), Catch::Contains("model.decoder."));  // names the mismatching tensor
  std::filesystem::remove_all(dir);
}

TEST_CASE("ddsp: bad shapes raise fugue::error", "[ddsp]") {
  Tiny<float> m;
  auto [f0, ld] = features<float>(4);
  ad::Tape<float, B> tape;
  CHECK_THROWS_WITH(m.loss(tape, f0, ld, Tensor<float, B>::zeros({1, 100})),
                    Catch::Contains("target audio must be [1, 256]"));
  CHECK_THROWS_WITH(m.audio(tape, f0, Tensor<float, B>::zeros({1, 5})), Catch::Contains("must both be [N, F]"));
  dd::ModelOptions o;
  o.frame_rate = 300;
  CHECK_THROWS_WITH(Tiny<float>(o), Catch::Contains("whole number"));
}

TEST_CASE("ddsp: features from audio (YIN f0, DDSP v2 loudness) on a harmonic tone", "[ddsp][features]") {
  const index_t n = 16000;
  const auto x = tone<float>(n, 392.0).to_vector();
  const auto quiet = tone<float>(n, 392.0, 16000, 0.03).to_vector();
  const auto feat = dd::compute_features<float>(x), fq = dd::compute_features<float>(quiet);
  REQUIRE(feat.frames() == std::size_t(n / 64));
  REQUIRE(feat.loudness_db.size() == feat.frames());
  for (std::size_t t = 10; t + 10 < feat.frames(); ++t) {
    INFO("frame " << t);
    CHECK(feat.f0_hz[t] == Approx(392.0).epsilon(2e-3));
    CHECK(fq.f0_hz[t] == Approx(392.0).epsilon(2e-3));
    // A tenth of the amplitude is 20 dB less power (both above the -80 dB floor).
    CHECK(feat.loudness_db[t] - fq.loudness_db[t] == Approx(20.0).margin(1e-3));
  }
  // Silence gets the fallback pitch and the floor loudness.
  std::vector<float> silence(6400, 0.f);
  const auto s = dd::compute_features<float>(silence);
  CHECK(s.f0_hz[5] == 440.f);
  CHECK(s.loudness_db[5] == -80.f);
  CHECK_THROWS_WITH(dd::compute_features<float>(std::vector<float>(100, 0.f)),
                    Catch::Contains("multiple of the hop 64"));
  std::vector<float> nan(640, 0.f);
  nan[3] = std::numeric_limits<float>::infinity();
  CHECK_THROWS_WITH(dd::compute_features<float>(nan), Catch::Contains("sample 3 is not finite"));
}

TEST_CASE("ddsp: a saved model file carries its feature options and loads back only into its own kind",
          "[ddsp][model_file]") {
  const auto dir = std::filesystem::temp_directory_path() / ("fugue_ddsp_model_file_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto path = dir / "vst.safetensors";
  dd::ModelOptions mo;
  mo.frame_rate = 50;
  mo.amp_resample = dsp::AmpResample::linear;
  mo.noise_seed = 7;
  SmallVst<float> trained(mo);
  perturb(trained, 12, 0.2);
  dd::FeatureOptions fo;
  fo.frame_rate = 50;
  fo.fmax = 1500;
  fo.loudness = dd::LoudnessKind::rms_power;
  dd::save(trained, path, "small_vst", fo);

  const io::ModelCard card = io::read_card(path);
  CHECK(card.family == "ddsp");
  CHECK(card.config == "small_vst");
  const dd::FeatureOptions fo2 = dd::feature_options(card);
  CHECK(fo2.frame_rate == 50);
  CHECK(fo2.fmax == 1500);
  CHECK(fo2.loudness == dd::LoudnessKind::rms_power);
  const dd::ModelOptions mo2 = dd::model_options(card);
  CHECK(mo2.frame_rate == 50);
  CHECK(mo2.amp_resample == dsp::AmpResample::linear);
  CHECK(mo2.noise_seed == 7);

  SmallVst<float> fresh(dd::model_options(card));
  dd::load(fresh, path, "small_vst");
  auto [f0, ld] = features<float>(10);
  CHECK(fresh.synthesize(f0, ld, 1).to_vector() == trained.synthesize(f0, ld, 1).to_vector());

  Small<float> other;  // another reverb: the sizes differ
  CHECK_THROWS_WITH(dd::load(other, path, "small_vst"), Catch::Contains("hparams.model.reverb_length: expected 300"));
  CHECK_THROWS_WITH(dd::load(fresh, path, "vst_16k"), Catch::Contains("config: expected 'vst_16k'"));
  io::ModelCard broken = card;
  broken.features.set("loudness", "peak");
  CHECK_THROWS_WITH(dd::feature_options(broken), Catch::Contains("features.loudness must be \"a_weighted\""));
  std::filesystem::remove_all(dir);
}
