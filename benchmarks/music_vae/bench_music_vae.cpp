// MusicVAE benchmarks (float), config cat-mel_2bar_small (configs::cat_mel_2bar_small<float>:
// bi-LSTM 512 encoder, z 256, 2-layer LSTM 256 decoder, 90 classes, 32 steps). The argument is
// cpu::set_num_threads (1 or 2).
//   train_step_b64  one Trainer::step(batch) at batch 64, 32 steps: encoder forward, mu / sigma
//                   (softplus), z = mu + sigma * eps, tanh state init, teacher-forced decoder,
//                   summed softmax CE + beta * KL, backward, global-norm clip, Adam update.
//                   The config's hparams with hp.sampling = {} (NO scheduled sampling), so the
//                   fugue and torch sides do the same work (torch_music_vae.py has no scheduled
//                   sampling either). The batch is a fixed random melody (class ids in [0, 90)).
//   sample_b1_32    model.decode(z, 32, 0.5, rng): one 32-step sampling pass at batch 1 from a fixed
//                   z at temperature 0.5 (each step's token fed back with z as the next input).
#include <benchmark/benchmark.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "fugue/backend/cpu/threads.hpp"
#include "fugue/models/music_vae/configs.hpp"
#include "fugue/models/music_vae/data.hpp"
#include "fugue/models/music_vae/trainer.hpp"

namespace {
using namespace fugue;
namespace mv = fugue::models::music_vae;
using Model = mv::configs::cat_mel_2bar_small<float>;

constexpr index_t kBatch = 64, kSteps = 32;

void threads(benchmark::State& st) { cpu::set_num_threads(int(st.range(0))); }

std::vector<int32_t> random_melody(index_t n, index_t steps, std::uint64_t seed) {
  const Philox rng{seed, 0};
  std::vector<int32_t> ids(std::size_t(n * steps));
  for (std::size_t i = 0; i < ids.size(); ++i) ids[i] = int32_t(rng.word(i) % std::uint32_t(mv::kMelodyDepth));
  return ids;
}

void BM_train_step_b64(benchmark::State& st) {
  threads(st);
  auto model = std::make_unique<Model>();
  mv::TrainConfig hp = mv::configs::cat_mel_2bar_small_hparams();
  hp.sampling = {};  // no scheduled sampling: the same work as the torch peer
  hp.batch_size = kBatch;
  mv::Trainer<Model> trainer(*model, hp, 1);
  const auto batch = mv::melody_batch<float>(random_melody(kBatch, kSteps, 11), kBatch, kSteps);
  // Warm-up (as the torch peer's): the first steps allocate Adam's moments, the tape's pages
  // and the kernels' workspaces; every repetition builds a fresh trainer.
  for (int i = 0; i < 2; ++i) benchmark::DoNotOptimize(trainer.step(batch).loss);
  for (auto _ : st) {
    auto s = trainer.step(batch);
    benchmark::DoNotOptimize(s.loss);
  }
}

void BM_sample_b1_32(benchmark::State& st) {
  threads(st);
  Model model;
  const Tensor<float, cpu::native> z = Model::prior(1, Philox{3, 0});
  std::uint64_t k = 0;
  for (int i = 0; i < 2; ++i) benchmark::DoNotOptimize(model.decode(z, kSteps, 0.5, Philox{4, k++})[0].data());
  for (auto _ : st) {
    auto ids = model.decode(z, kSteps, 0.5, Philox{4, k++});
    benchmark::DoNotOptimize(ids[0].data());
  }
}
}  // namespace

BENCHMARK(BM_train_step_b64)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_sample_b1_32)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_MAIN();
