// DDSP model benchmarks (float).
//   train_step_b8/<threads>  one Trainer::step at batch 8 of 4 s (1000 frames, 64000 samples) of
//                            configs::solo_instrument (4.85 M parameters): decoder (3-layer fc
//                            stacks, GRU 512), harmonic (60) + filtered noise (65) synths, 48000-tap
//                            reverb, multi-scale spectral loss (2048..64), backward, global-norm
//                            clip 3, Adam. Fixed random features and target audio.
//   stream_rtf/<block>       ddsp::Streamer::process on configs::vst_16k (DDSP-VST's 16 kHz model:
//                            50 frames/s, GRU 512, 24000-tap noise reverb) at the given block size,
//                            one thread. Counter rtf = seconds of audio per second of wall time.
//   stream_rtf_f16/<block>   the same with the GRU kernels streamed as binary16 (Weights::f16).
//   stream_rtf_tiny/<block>  the same for tiny_instrument (ICLR 2020: 250 frames/s, GRU 256, no fc
//                            layers, 48000-tap trainable reverb).
//   stream_rtf_solo/<block>  the same for solo_instrument (250 frames/s, 48000-tap reverb).
#include <benchmark/benchmark.h>

#include <cmath>
#include <memory>
#include <vector>

#include "fugue/backend/cpu/threads.hpp"
#include "fugue/models/ddsp.hpp"

namespace {
using namespace fugue;
namespace dd = fugue::models::ddsp;
using B = cpu::native;

constexpr index_t kBatch = 8, kFrames = 1000, kSamples = 64000;

dd::Batch<float, B> random_batch() {
  std::vector<float> f0(std::size_t(kBatch * kFrames)), ld(f0.size()), audio(std::size_t(kBatch * kSamples));
  const Philox r{17, 0};
  for (std::size_t i = 0; i < f0.size(); ++i) {
    f0[i] = 200.f + 600.f * r.uniform<float>(i);
    ld[i] = -60.f + 50.f * r.uniform<float>(i + f0.size());
  }
  for (std::size_t i = 0; i < audio.size(); ++i) audio[i] = 0.2f * (2 * r.uniform<float>(i + 4 * f0.size()) - 1);
  return {Tensor<float, B>::from(f0, {kBatch, kFrames}), Tensor<float, B>::from(ld, {kBatch, kFrames}),
          Tensor<float, B>::from(audio, {kBatch, kSamples})};
}

void BM_train_step_b8(benchmark::State& st) {
  cpu::set_num_threads(int(st.range(0)));
  using M = dd::configs::solo_instrument<float>;
  auto model = std::make_unique<M>();
  dd::Trainer<M> trainer(*model);
  const auto batch = random_batch();
  benchmark::DoNotOptimize(trainer.step(batch).loss);  // warm-up: Adam moments, plans, workspaces
  for (auto _ : st) benchmark::DoNotOptimize(trainer.step(batch).loss);
}

template <class M>
void stream(benchmark::State& st, const dd::ModelOptions& o,
            typename dd::Streamer<M>::Weights w = dd::Streamer<M>::Weights::f32) {
  cpu::set_num_threads(1);
  auto model = std::make_unique<M>(o);
  dd::Streamer<M> s(*model);
  const int block = int(st.range(0));
  s.reset(o.sample_rate, block, 0, w);
  s.prewarm();
  // A melody-like control track: f0 gliding 220..440 Hz, loudness -40..-10 dB.
  const std::size_t n = 16000;
  const auto nb = static_cast<std::size_t>(block);
  std::vector<float> f0(n + nb), ld(f0.size()), out(nb);
  for (std::size_t i = 0; i < f0.size(); ++i) {
    f0[i] = float(330 + 110 * std::sin(2 * 3.14159265 * double(i) / 16000.0));
    ld[i] = float(-25 + 15 * std::sin(2 * 3.14159265 * double(i) / 4000.0));
  }
  std::size_t pos = 0;
  for (auto _ : st) {
    s.process(f0.data() + pos, ld.data() + pos, out.data(), block);
    benchmark::DoNotOptimize(out.data());
    pos = (pos + std::size_t(block)) % n;
  }
  st.counters["rtf"] = benchmark::Counter(double(st.iterations()) * block / o.sample_rate, benchmark::Counter::kIsRate);
}

void BM_stream_rtf(benchmark::State& st) { stream<dd::configs::vst_16k<float>>(st, dd::configs::vst_16k_options()); }
void BM_stream_rtf_f16(benchmark::State& st) {
  using M = dd::configs::vst_16k<float>;
  stream<M>(st, dd::configs::vst_16k_options(), dd::Streamer<M>::Weights::f16);
}
void BM_stream_rtf_tiny(benchmark::State& st) {
  stream<dd::configs::tiny_instrument<float>>(st, dd::configs::tiny_instrument_options());
}
void BM_stream_rtf_solo(benchmark::State& st) {
  stream<dd::configs::solo_instrument<float>>(st, dd::configs::solo_instrument_options());
}

}  // namespace

BENCHMARK(BM_train_step_b8)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_stream_rtf)->Arg(64)->Arg(128)->Arg(512)->Arg(2048)->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK(BM_stream_rtf_f16)->Arg(64)->Arg(128)->Arg(512)->Arg(2048)->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK(BM_stream_rtf_tiny)->Arg(64)->Arg(128)->Arg(512)->Arg(2048)->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK(BM_stream_rtf_solo)->Arg(128)->Unit(benchmark::kMicrosecond)->UseRealTime();

BENCHMARK_MAIN();
