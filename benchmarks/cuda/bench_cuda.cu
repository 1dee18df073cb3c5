// GPU benchmarks: fugue::cuda::device against raw cuBLAS (GEMM: the wrapper's overhead) and
// against fugue's CPU backend (layer-shaped tensor ops: linear + tanh, softmax, layer norm).
// Each iteration synchronises the stream, so the times are device times plus one sync.
#include <benchmark/benchmark.h>

#include <cstdio>

#include <fugue/backend/cuda.hpp>
#include <fugue/core/tensor.hpp>
#include <fugue/ops.hpp>

namespace fg = fugue;
using Dev = fg::cuda::device;

namespace {

void BM_fugue_cuda_matmul(benchmark::State& state) {
  const fg::index_t n = state.range(0);
  auto a = fg::Tensor<float, Dev>::uniform({n, n}, fg::Philox{1, 1});
  auto b = fg::Tensor<float, Dev>::uniform({n, n}, fg::Philox{1, 2});
  for (auto _ : state) {
    auto c = fg::ops::matmul(a, b);
    Dev::synchronize();
    benchmark::DoNotOptimize(c.data());
  }
  state.counters["GFLOP/s"] =
      benchmark::Counter(2.0 * n * n * n, benchmark::Counter::kIsIterationInvariantRate, benchmark::Counter::kIs1000);
}

void BM_cublas_sgemm(benchmark::State& state) {
  const int n = int(state.range(0));
  auto a = fg::Tensor<float, Dev>::uniform({n, n}, fg::Philox{1, 1});
  auto b = fg::Tensor<float, Dev>::uniform({n, n}, fg::Philox{1, 2});
  auto c = fg::Tensor<float, Dev>::empty({n, n});
  auto& ctx = fg::cuda::gpu_context::get();
  const float one = 1, zero = 0;
  for (auto _ : state) {
    FUGUE_CUBLAS_CALL(
        cublasSgemm(ctx.blas(), CUBLAS_OP_N, CUBLAS_OP_N, n, n, n, &one, b.data(), n, a.data(), n, &zero, c.data(), n));
    Dev::synchronize();
  }
  state.counters["GFLOP/s"] =
      benchmark::Counter(2.0 * n * n * n, benchmark::Counter::kIsIterationInvariantRate, benchmark::Counter::kIs1000);
}

template <class B>
void BM_linear_tanh(benchmark::State& state) {
  const fg::index_t rows = state.range(0), in = 512, out = 512;
  auto x = fg::Tensor<float, B>::uniform({rows, in}, fg::Philox{2, 1});
  auto w = fg::Tensor<float, B>::uniform({out, in}, fg::Philox{2, 2}, -0.05f, 0.05f);
  auto bias = fg::Tensor<float, B>::zeros({out});
  for (auto _ : state) {
    auto y = fg::ops::tanh(fg::ops::linear(x, w, &bias));
    if constexpr (!B::host_accessible) B::synchronize();
    benchmark::DoNotOptimize(y.data());
  }
}

template <class B>
void BM_softmax_layer_norm(benchmark::State& state) {
  const fg::index_t rows = state.range(0), cols = 512;
  auto x = fg::Tensor<float, B>::uniform({rows, cols}, fg::Philox{3, 1});
  for (auto _ : state) {
    auto y = fg::ops::layer_norm(fg::ops::softmax(x), nullptr, nullptr, 1e-5f);
    if constexpr (!B::host_accessible) B::synchronize();
    benchmark::DoNotOptimize(y.data());
  }
}

}  // namespace

BENCHMARK(BM_fugue_cuda_matmul)->Arg(256)->Arg(1024)->Arg(4096)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_cublas_sgemm)->Arg(256)->Arg(1024)->Arg(4096)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_linear_tanh<Dev>)->Arg(64)->Arg(4096)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_linear_tanh<fg::cpu::native>)->Arg(64)->Arg(4096)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_softmax_layer_norm<Dev>)->Arg(64)->Arg(4096)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_softmax_layer_norm<fg::cpu::native>)->Arg(64)->Arg(4096)->Unit(benchmark::kMicrosecond);

int main(int argc, char** argv) {
  if (fg::cuda::device_count() == 0) {
    std::puts("bench_cuda: no CUDA device; nothing to measure");
    return 0;
  }
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
