// Differentiable DSP benchmarks (float), the ops used through ad::Tape<float> as a DDSP training step
// uses them (op objects built once and reused, tape cleared per step). The argument is
// cpu::set_num_threads (1 or 2). 4 s of audio at 16 kHz: N = 64000 samples, batch 1.
//   spectral_loss_fwdbwd  SpectralLoss<float> default options (FFT 2048..64, 75% overlap, L1 on linear
//                         and log magnitude): loss(x, target) forward + backward, gradient w.r.t. x
//   harmonic_fwd          HarmonicSynth<float> default options, K 64 harmonics, F 1000 frames -> N,
//                         inputs without grad (inference)
//   harmonic_fwdbwd       the same, forward + backward of <y, seed>; amplitudes and distribution require
//                         grad, f0 does not (it comes from a pitch tracker in DDSP)
//   filtered_noise_fwd    FilteredNoise<float> default options, M 65 bands, F 1000 frames -> N
//   filtered_noise_fwdbwd the same, forward + backward of <y, seed> w.r.t. the magnitudes
// Controls (same distributions as torch_dsp.py): logits uniform in [-2, 2] for amplitudes,
// distribution and noise magnitudes; f0 uniform in [100, 400] Hz per frame; audio uniform in [-1, 1].
#include <benchmark/benchmark.h>

#include "fugue/dsp/filtered_noise.hpp"
#include "fugue/dsp/harmonic_synth.hpp"
#include "fugue/dsp/spectral_loss.hpp"

namespace {
using namespace fugue;
using Bk = cpu::native;
using Tf = Tensor<float, Bk>;
using TapeF = ad::Tape<float, Bk>;

constexpr index_t kN = 64000, kF = 1000, kK = 64, kM = 65;

void threads(benchmark::State& st) { cpu::set_num_threads(int(st.range(0))); }

void BM_spectral_loss_fwdbwd(benchmark::State& st) {
  threads(st);
  const dsp::SpectralLoss<float> loss;
  const Tf x = Tf::uniform({1, kN}, Philox{7, 0}, -1.f, 1.f);
  const Tf y = Tf::uniform({1, kN}, Philox{7, 1}, -1.f, 1.f);
  TapeF tape;
  for (auto _ : st) {
    tape.clear();
    auto xv = tape.input(x, true);
    auto l = loss(xv, tape.constant(y));
    tape.backward(l);
    benchmark::DoNotOptimize(xv.grad().data());
  }
}

struct HarmonicInputs {
  Tf amps = Tf::uniform({1, kF}, Philox{7, 2}, -2.f, 2.f);
  Tf dist = Tf::uniform({1, kF, kK}, Philox{7, 3}, -2.f, 2.f);
  Tf f0 = Tf::uniform({1, kF}, Philox{7, 4}, 100.f, 400.f);
};

void BM_harmonic_fwd(benchmark::State& st) {
  threads(st);
  dsp::HarmonicSynth<float> synth;
  const HarmonicInputs in;
  TapeF tape;
  for (auto _ : st) {
    tape.clear();
    auto y = synth(tape.input(in.amps), tape.input(in.dist), tape.input(in.f0));
    benchmark::DoNotOptimize(y.value().data());
  }
}

void BM_harmonic_fwdbwd(benchmark::State& st) {
  threads(st);
  dsp::HarmonicSynth<float> synth;
  const HarmonicInputs in;
  const Tf seed = Tf::uniform({1, kN}, Philox{7, 5}, -1.f, 1.f);
  TapeF tape;
  for (auto _ : st) {
    tape.clear();
    auto a = tape.input(in.amps, true), d = tape.input(in.dist, true);
    auto y = synth(a, d, tape.constant(in.f0));
    tape.backward(y, seed);
    benchmark::DoNotOptimize(a.grad().data());
    benchmark::DoNotOptimize(d.grad().data());
  }
}

void BM_filtered_noise_fwd(benchmark::State& st) {
  threads(st);
  dsp::FilteredNoise<float> noise;
  const Tf mags = Tf::uniform({1, kF, kM}, Philox{7, 6}, -2.f, 2.f);
  TapeF tape;
  for (auto _ : st) {
    tape.clear();
    auto y = noise(tape.input(mags));
    benchmark::DoNotOptimize(y.value().data());
  }
}

void BM_filtered_noise_fwdbwd(benchmark::State& st) {
  threads(st);
  dsp::FilteredNoise<float> noise;
  const Tf mags = Tf::uniform({1, kF, kM}, Philox{7, 6}, -2.f, 2.f);
  const Tf seed = Tf::uniform({1, kN}, Philox{7, 7}, -1.f, 1.f);
  TapeF tape;
  for (auto _ : st) {
    tape.clear();
    auto m = tape.input(mags, true);
    auto y = noise(m);
    tape.backward(y, seed);
    benchmark::DoNotOptimize(m.grad().data());
  }
}
}  // namespace

BENCHMARK(BM_spectral_loss_fwdbwd)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_harmonic_fwd)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_harmonic_fwdbwd)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_filtered_noise_fwd)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_filtered_noise_fwdbwd)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond);
BENCHMARK_MAIN();
