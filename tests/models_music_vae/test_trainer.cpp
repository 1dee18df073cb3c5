// MusicVAE trainer: learning on a fixed batch, bit-exact resume from a checkpoint, the NaN guard
// (stops before the update, the last checkpoint stays good), checkpoint mismatches, batches from
// class ids.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <filesystem>

#include "fugue/models/music_vae.hpp"

using namespace fugue;
namespace mv = fugue::models::music_vae;
using B = cpu::native;

namespace {
using Small = mv::MusicVAE<float, B, mv::BidirectionalLstmEncoder<float, B, 90, 16>,
                           mv::CategoricalLstmDecoder<float, B, 90, 8, 16, 2>, 8>;

std::vector<int32_t> melody_ids(index_t n, index_t steps, std::uint64_t seed) {
  // Plausible melodies: note-ons (2..89), holds (0) and offs (1).
  Philox r{seed, 0};
  std::vector<int32_t> v(std::size_t(n * steps));
  for (std::size_t i = 0; i < v.size(); ++i) {
    const double u = r.uniform<double>(i);
    v[i] = u < 0.5 ? 0 : u < 0.6 ? 1 : 40 + int((u - 0.6) * 30);
  }
  return v;
}

mv::TrainConfig small_config() {
  mv::TrainConfig hp = mv::configs::cat_mel_2bar_small_hparams();
  hp.sampling = mv::SamplingSchedule::constant(0.1);  // exercise the scheduled-sampling pass
  hp.beta_rate = 0.9;                                 // a beta that moves within a few steps
  return hp;
}

std::vector<std::vector<float>> snapshot(Small& m) {
  std::vector<std::vector<float>> v;
  m.visit_parameters([&](const std::string&, ad::Parameter<float, B>& p) { v.push_back(p.value.to_vector()); });
  return v;
}

struct TempDir {
  std::filesystem::path path;
  TempDir() : path(std::filesystem::temp_directory_path() / ("fugue_mvae_" + std::to_string(::getpid()))) {
    std::filesystem::create_directories(path);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
};
}  // namespace

TEST_CASE("music_vae trainer: loss falls on a fixed batch", "[music_vae][trainer]") {
  Small m(1);
  mv::Trainer<Small> tr(m, small_config(), 7);
  const auto b = mv::melody_batch<float>(melody_ids(8, 16, 3), 8, 16);
  // Teacher-forced accuracy on the batch, z = mu: computed beside the loss, never inside it.
  auto accuracy = [&] {
    ad::Tape<float> tape;
    ad::NoGrad<float> ng(tape);
    mv::LossOptions o;
    o.sample_z = false;
    const auto r = m.loss(tape, b, o);
    const auto a = mv::teacher_forced_accuracy(r, b);
    REQUIRE(a.total == 8 * 16);
    return a.value();
  };
  const double acc_before = accuracy();
  const auto first = tr.step(b);
  mv::StepStats last;
  for (int i = 0; i < 60; ++i) last = tr.step(b);
  const double acc_after = accuracy();
  INFO("first " << first.r_loss << " last " << last.r_loss << "; accuracy " << acc_before << " -> " << acc_after);
  CHECK(last.r_loss < 0.8 * first.r_loss);
  CHECK(acc_after > acc_before + 0.1);
  CHECK(tr.steps() == 61);
  CHECK(last.lr == Approx((1e-3 - 1e-5) * std::pow(0.9999, 60) + 1e-5));
  CHECK(last.beta == Approx(0.2 * (1 - std::pow(0.9, 60))));
}

TEST_CASE("music_vae trainer: resume from a checkpoint continues bit-exactly", "[music_vae][trainer]") {
  TempDir d;
  const auto ck = d.path / "ckpt.safetensors";
  std::vector<mv::Batch<float, B>> batches;
  for (int i = 0; i < 6; ++i) batches.push_back(mv::melody_batch<float>(melody_ids(4, 16, 10 + i), 4, 16));
  Small a(2);
  mv::Trainer<Small> ta(a, small_config(), 9);
  for (int i = 0; i < 3; ++i) ta.step(batches[i]);
  ta.save(ck);
  std::vector<double> losses;
  for (int i = 3; i < 6; ++i) losses.push_back(ta.step(batches[i]).loss);
  Small b(999);  // other initial weights: everything must come from the file
  mv::Trainer<Small> tb(b, small_config(), 1);
  tb.load(ck);
  CHECK(tb.steps() == 3);
  CHECK(tb.batches() == 3);
  for (int i = 3; i < 6; ++i) CHECK(tb.step(batches[i]).loss == losses[std::size_t(i - 3)]);
  CHECK(snapshot(a) == snapshot(b));
}

TEST_CASE("music_vae trainer: a NaN stops training before the update and keeps the checkpoint",
          "[music_vae][trainer]") {
  TempDir d;
  const auto ck = d.path / "ckpt.safetensors";
  Small m(3);
  mv::Trainer<Small> tr(m, small_config(), 5);
  const auto b = mv::melody_batch<float>(melody_ids(4, 16, 4), 4, 16);
  tr.step(b);
  tr.save(ck);
  m.decoder.output.bias.value.data()[3] = std::numeric_limits<float>::quiet_NaN();
  const auto before = snapshot(m);
  CHECK_THROWS_WITH(tr.step(b), Catch::Contains("training diverged at step 1") && Catch::Contains("the loss is"));
  const auto after = snapshot(m);
  REQUIRE(after.size() == before.size());
  for (std::size_t i = 0; i < after.size(); ++i)  // bitwise: the NaN itself compares unequal
    CHECK(std::memcmp(after[i].data(), before[i].data(), after[i].size() * sizeof(float)) == 0);
  CHECK(tr.steps() == 1);  // no update happened
  // The checkpoint still holds the good state and resumes.
  Small r(4);
  mv::Trainer<Small> tr2(r, small_config(), 5);
  tr2.load(ck);
  CHECK(std::isfinite(tr2.step(b).loss));
}

TEST_CASE("music_vae trainer: checkpoints of another model are refused", "[music_vae][trainer]") {
  TempDir d;
  const auto ck = d.path / "ckpt.safetensors";
  Small m(5);
  mv::Trainer<Small> tr(m, small_config(), 5);
  tr.save(ck);
  using Other = mv::MusicVAE<float, B, mv::BidirectionalLstmEncoder<float, B, 90, 12>,
                             mv::CategoricalLstmDecoder<float, B, 90, 8, 16, 2>, 8>;
  Other o(6);
  mv::Trainer<Other> to(o, small_config(), 5);
  CHECK_THROWS_AS(to.load(ck), fugue::error);
  io::save_parameters(m, d.path / "plain.safetensors");
  CHECK_THROWS_WITH(tr.load(d.path / "plain.safetensors"), Catch::Contains("not a MusicVAE training checkpoint"));
}

TEST_CASE("music_vae data: class ids become one-hot and drum-roll inputs", "[music_vae][data]") {
  const auto b = mv::melody_batch<float>({0, 1, 41, 89}, 1, 4);
  CHECK(b.enc_input.shape() == Shape{1, 4, 90});
  CHECK(b.enc_input.data()[2 * 90 + 41] == 1.0f);
  CHECK(b.targets[0] == std::vector<int>{0, 1, 41, 89});
  CHECK_THROWS_AS(mv::melody_batch<float>({0, 90}, 1, 2), fugue::error);
  // Drums: 5 = kick + closed hi-hat, 0 = nothing (the 10th "no hit" bit).
  const auto d = mv::drum_batch<float>({5, 0}, 1, 2);
  const auto v = d.enc_input.to_vector();
  CHECK(std::vector<float>(v.begin(), v.begin() + 10) == std::vector<float>{1, 0, 1, 0, 0, 0, 0, 0, 0, 0});
  CHECK(std::vector<float>(v.begin() + 10, v.end()) == std::vector<float>{0, 0, 0, 0, 0, 0, 0, 0, 0, 1});
}
