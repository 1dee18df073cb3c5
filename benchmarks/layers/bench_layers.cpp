// Layer benchmarks (float). The argument is cpu::set_num_threads (1 or 2).
//   lstm_fwd_b1      LSTM(in 90, hidden 512, 2 layers) inference forward, B 1, T 32
//   lstm_fwdbwd_b64  the same LSTM on a tape: forward + backward (BPTT), B 64, T 32
//   lstm_step_b1     one step() of that stack, B 1 (MusicVAE sampling)
//   gru_step_b1      GRU(in 512, hidden 512) one step(), B 1 (DDSP decoder, real time)
#include <benchmark/benchmark.h>

#include "fugue/autodiff/ops/reduce.hpp"
#include "fugue/nn/gru.hpp"
#include "fugue/nn/lstm.hpp"

namespace {
using namespace fugue;
using Bk = cpu::native;
using Tf = Tensor<float, Bk>;
using Lstm = nn::LSTM<float, Bk, 90, 512, 2>;
using Gru = nn::GRU<float, Bk, 512, 512>;

void threads(benchmark::State& st) { cpu::set_num_threads(int(st.range(0))); }

void BM_lstm_fwd_b1(benchmark::State& st) {
  threads(st);
  Lstm lstm;
  const Tf x = Tf::uniform({1, 32, 90}, Philox{1, 0});
  for (auto _ : st) {
    Tf y = lstm.forward(x);
    benchmark::DoNotOptimize(y.data());
  }
}
void BM_lstm_fwdbwd_b64(benchmark::State& st) {
  threads(st);
  Lstm lstm;
  const Tf x = Tf::uniform({64, 32, 90}, Philox{1, 1});
  const Tf seed = Tf::uniform({64, 32, 512}, Philox{1, 2}, -1.f, 1.f);
  ad::Tape<float, Bk> tape;
  for (auto _ : st) {
    tape.clear();
    auto o = lstm(tape, tape.input(x));
    tape.backward(o.y, seed);
    benchmark::DoNotOptimize(lstm.cell(0).kernel.grad.data());
  }
}
void BM_lstm_step_b1(benchmark::State& st) {
  threads(st);
  Lstm lstm;
  auto s = lstm.make_state(1);
  const Tf x = Tf::uniform({1, 90}, Philox{1, 3});
  for (auto _ : st) benchmark::DoNotOptimize(lstm.step(x, s).data());
}
void BM_gru_step_b1(benchmark::State& st) {
  threads(st);
  Gru gru;
  auto s = gru.make_state(1);
  const Tf x = Tf::uniform({1, 512}, Philox{1, 4});
  for (auto _ : st) benchmark::DoNotOptimize(gru.step(x, s).data());
}
}  // namespace

BENCHMARK(BM_lstm_fwd_b1)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_lstm_fwdbwd_b64)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->MinTime(2.0);
BENCHMARK(BM_lstm_step_b1)->Arg(1)->Arg(2)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_gru_step_b1)->Arg(1)->Arg(2)->Unit(benchmark::kMicrosecond);
BENCHMARK_MAIN();
