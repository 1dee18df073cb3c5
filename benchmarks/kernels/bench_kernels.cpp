// CPU backend kernels: the widest SIMD arch of this build vs the scalar fallback
// (and FMA3+AVX2 where AVX-512 is the best), single thread, float.
//   softmax_rows 64x512, layer_norm_rows 256x512, map tanh / sigmoid over 1M,
//   sum over 1M; softmax and layer norm again with 2 threads (cpu::set_num_threads).
#include <benchmark/benchmark.h>

#include <random>
#include <vector>

#include "fugue/backend/cpu/elementwise.hpp"
#include "fugue/core/functors.hpp"
#include "fugue/backend/cpu/layer_norm.hpp"
#include "fugue/backend/cpu/reduce.hpp"
#include "fugue/backend/cpu/softmax.hpp"
#include "fugue/backend/cpu/threads.hpp"

namespace {

using fugue::index_t;
namespace cpu = fugue::cpu;
namespace K = fugue::cpu::kernels;

std::vector<float> random_vec(index_t n, float lo, float hi) {
  std::mt19937 g(7);
  std::uniform_real_distribution<float> d(lo, hi);
  std::vector<float> v(static_cast<std::size_t>(n));
  for (auto& x : v) x = d(g);
  return v;
}

template <class A>
void BM_softmax_rows(benchmark::State& st) {
  const index_t rows = 64, cols = 512;
  auto x = random_vec(rows * cols, -8, 8);
  std::vector<float> y(x.size());
  for (auto _ : st) {
    K::softmax_rows<A>(rows, cols, x.data(), y.data());
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  st.SetItemsProcessed(st.iterations() * rows * cols);
  st.SetLabel(A::name());
}

template <class A>
void BM_layer_norm_rows(benchmark::State& st) {
  const index_t rows = 256, cols = 512;
  auto x = random_vec(rows * cols, -2, 3);
  auto g = random_vec(cols, 0.5, 1.5), b = random_vec(cols, -1, 1);
  std::vector<float> y(x.size()), mu(rows), rs(rows);
  for (auto _ : st) {
    K::layer_norm_rows<A>(rows, cols, x.data(), g.data(), b.data(), 1e-5f, y.data(), mu.data(), rs.data());
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  st.SetItemsProcessed(st.iterations() * rows * cols);
  st.SetLabel(A::name());
}

template <class A, class F>
void BM_map(benchmark::State& st) {
  const index_t n = 1 << 20;
  auto x = random_vec(n, -6, 6);
  std::vector<float> y(x.size());
  for (auto _ : st) {
    K::map<A>(n, x.data(), y.data(), F{});
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  st.SetItemsProcessed(st.iterations() * n);
  st.SetLabel(A::name());
}

template <class A>
void BM_sum(benchmark::State& st) {
  const index_t n = 1 << 20;
  auto x = random_vec(n, -1, 1);
  for (auto _ : st) benchmark::DoNotOptimize(K::sum<A>(n, x.data()));
  st.SetItemsProcessed(st.iterations() * n);
  st.SetBytesProcessed(st.iterations() * n * static_cast<index_t>(sizeof(float)));
  st.SetLabel(A::name());
}

// Row-parallel paths: state.range(0) threads.
template <class A>
void BM_softmax_rows_threads(benchmark::State& st) {
  cpu::set_num_threads(static_cast<int>(st.range(0)));
  BM_softmax_rows<A>(st);
  cpu::set_num_threads(1);
}
template <class A>
void BM_layer_norm_rows_threads(benchmark::State& st) {
  cpu::set_num_threads(static_cast<int>(st.range(0)));
  BM_layer_norm_rows<A>(st);
  cpu::set_num_threads(1);
}
BENCHMARK_TEMPLATE(BM_softmax_rows_threads, cpu::best_arch)->Arg(2)->UseRealTime();
BENCHMARK_TEMPLATE(BM_layer_norm_rows_threads, cpu::best_arch)->Arg(2)->UseRealTime();

#define FUGUE_KERNEL_BENCHES(A)                      \
  BENCHMARK_TEMPLATE(BM_softmax_rows, A);            \
  BENCHMARK_TEMPLATE(BM_layer_norm_rows, A);         \
  BENCHMARK_TEMPLATE(BM_map, A, fugue::fn::tanh);    \
  BENCHMARK_TEMPLATE(BM_map, A, fugue::fn::sigmoid); \
  BENCHMARK_TEMPLATE(BM_sum, A);

FUGUE_KERNEL_BENCHES(cpu::best_arch)
#if XSIMD_WITH_AVX512F && XSIMD_WITH_FMA3_AVX2
FUGUE_KERNEL_BENCHES(xsimd::fma3<xsimd::avx2>)
#endif
FUGUE_KERNEL_BENCHES(cpu::scalar_arch)

}  // namespace

BENCHMARK_MAIN();
