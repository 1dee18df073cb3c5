// GEMM and GEMV: fugue (cpu::best_arch) against OpenBLAS, in one executable.
//
// Every case is registered twice, as "<case>/fugue" and "<case>/openblas"
// (the peer is cblas_sgemm, or cblas_sgemv for the batch-1 shapes). Run with
// --benchmark_enable_random_interleaving=true --benchmark_repetitions=N so the
// two sides alternate and share the machine's noise; scripts/compare.sh gemm
// does that and prints the medians.
//
// Cases:
//   sgemm_nn_<n>_t<threads>   square C = A B, n in {256, 512, 1024, 2048}, 1 or 2 threads
//   sgemm_m<M>_<nn|nt>        recurrent/linear shapes: [M,512] x [512,2048] (nn) or
//                             [M,512] x [2048,512]^T (nt), one thread
//   sgemv_n_2048x512          y = W x, W [2048, 512]            (peer: cblas_sgemv)
//   sgemv_t_512x2048          y = W^T x, W [512, 2048]          (peer: cblas_sgemv)
//   gemm_m1_nt / gemm_m1_nn   the same two products entered through gemm with M = 1
//                             (x[1,512] W^T and x W); peer: cblas_sgemv
#include <benchmark/benchmark.h>

#include <functional>
#include <random>
#include <string>
#include <vector>

#include "fugue/backend/cpu.hpp"

#ifdef FUGUE_BENCH_OPENBLAS
#include <cblas.h>
#endif

namespace {

using fugue::index_t;
using Arch = fugue::cpu::best_arch;
namespace kn = fugue::cpu::kernels;

std::vector<float> random_matrix(std::size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> d(-1.f, 1.f);
  std::vector<float> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

void set_threads(int n) {
  fugue::cpu::set_num_threads(n);
#ifdef FUGUE_BENCH_OPENBLAS
  openblas_set_num_threads(n);
#endif
}

struct gemm_shape {
  bool tb;
  index_t M, N, K;
};

enum class impl { fugue, openblas };

// C = A op(B), A [M,K], B [K,N] or [N,K] (tb).
void bm_gemm(benchmark::State& state, gemm_shape s, int threads, impl who) {
  set_threads(threads);
  auto A = random_matrix(s.M * s.K, 1), B = random_matrix(s.K * s.N, 2);
  std::vector<float> C(s.M * s.N);
  const index_t lda = s.K, ldb = s.tb ? s.K : s.N, ldc = s.N;
  for (auto _ : state) {
    if (who == impl::fugue) {
      kn::gemm<Arch, float>(false, s.tb, s.M, s.N, s.K, 1.f, A.data(), lda, B.data(), ldb, 0.f, C.data(), ldc);
    } else {
#ifdef FUGUE_BENCH_OPENBLAS
      cblas_sgemm(CblasRowMajor, CblasNoTrans, s.tb ? CblasTrans : CblasNoTrans, s.M, s.N, s.K, 1.f, A.data(), lda,
                  B.data(), ldb, 0.f, C.data(), ldc);
#endif
    }
    benchmark::DoNotOptimize(C.data());
    benchmark::ClobberMemory();
  }
  state.counters["GFLOPS"] =
      benchmark::Counter(2.0 * s.M * s.N * s.K * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  set_threads(1);
}

// y = op(W) x with W [rows, cols]; `via_gemm` enters fugue through gemm (M = 1).
void bm_gemv(benchmark::State& state, bool trans, index_t rows, index_t cols, bool via_gemm, impl who) {
  set_threads(1);
  auto W = random_matrix(rows * cols, 3), x = random_matrix(trans ? rows : cols, 4);
  std::vector<float> y(trans ? cols : rows);
  for (auto _ : state) {
    if (who == impl::fugue) {
      if (!via_gemm)
        kn::gemv<Arch, float>(trans, rows, cols, 1.f, W.data(), cols, x.data(), 0.f, y.data());
      else if (trans)  // x[1, rows] * W[rows, cols]
        kn::gemm<Arch, float>(false, false, 1, cols, rows, 1.f, x.data(), rows, W.data(), cols, 0.f, y.data(), cols);
      else  // x[1, cols] * W[rows, cols]^T
        kn::gemm<Arch, float>(false, true, 1, rows, cols, 1.f, x.data(), cols, W.data(), cols, 0.f, y.data(), rows);
    } else {
#ifdef FUGUE_BENCH_OPENBLAS
      cblas_sgemv(CblasRowMajor, trans ? CblasTrans : CblasNoTrans, rows, cols, 1.f, W.data(), cols, x.data(), 1, 0.f,
                  y.data(), 1);
#endif
    }
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  state.counters["GFLOPS"] =
      benchmark::Counter(2.0 * rows * cols * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

void add_pair(const std::string& name, std::function<void(benchmark::State&, impl)> f) {
  benchmark::RegisterBenchmark((name + "/fugue").c_str(), [f](benchmark::State& s) { f(s, impl::fugue); })
      ->Unit(benchmark::kMillisecond)
      ->UseRealTime();
#ifdef FUGUE_BENCH_OPENBLAS
  benchmark::RegisterBenchmark((name + "/openblas").c_str(), [f](benchmark::State& s) { f(s, impl::openblas); })
      ->Unit(benchmark::kMillisecond)
      ->UseRealTime();
#endif
}

int register_all() {
  for (int threads : {1, 2})
    for (index_t n : {256, 512, 1024, 2048})
      add_pair("sgemm_nn_" + std::to_string(n) + "_t" + std::to_string(threads), [=](benchmark::State& s, impl w) {
        bm_gemm(s, {false, n, n, n}, threads, w);
      });
  for (index_t m : {4, 16, 64})
    for (bool tb : {false, true})
      add_pair("sgemm_m" + std::to_string(m) + (tb ? "_nt" : "_nn") + "_2048x512", [=](benchmark::State& s, impl w) {
        bm_gemm(s, {tb, m, 2048, 512}, 1, w);
      });
  add_pair("sgemv_n_2048x512", [](benchmark::State& s, impl w) { bm_gemv(s, false, 2048, 512, false, w); });
  add_pair("sgemv_t_512x2048", [](benchmark::State& s, impl w) { bm_gemv(s, true, 512, 2048, false, w); });
  add_pair("gemm_m1_nt_2048x512", [](benchmark::State& s, impl w) { bm_gemv(s, false, 2048, 512, true, w); });
  add_pair("gemm_m1_nn_2048x512", [](benchmark::State& s, impl w) { bm_gemv(s, true, 512, 2048, true, w); });
  return 0;
}
const int registered = register_all();

}  // namespace

BENCHMARK_MAIN();
