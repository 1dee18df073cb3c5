// Tests for the CPU GEMM / GEMV kernels (fugue/backend/cpu/gemm.hpp, gemv.hpp)
// against gemm_reference / gemv_reference, for every instruction set this
// binary can run side by side (AVX-512F, AVX2+FMA, the scalar fallback), float
// and double, with 1 and 2 threads.
//
// Tolerance. Both the kernel and the reference compute each entry as a K-term
// dot product in T, in different orders (blocked FMAs vs. a sequential loop).
// The standard bound for a K-term dot product computed in any order is
// |fl(s) - s| <= gamma_K * sum_k |a_k b_k|, gamma_K = K eps / (1 - K eps); the
// difference of two such results is at most twice that. alpha and beta add a
// few roundings more. So we require, per entry,
//   |C - R| <= 2 (K + 4) eps (|alpha| sum_k |a_ik b_kj| + |beta| |C0_ij|) + tiny,
// where sum_k |a_ik b_kj| is computed exactly enough in double. In practice the
// observed error is far below (blocked sums are more accurate than sequential).
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <thread>
#include <utility>

#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "fugue/backend/cpu/gemm.hpp"
#include "fugue/backend/cpu/gemv.hpp"
#include "fugue/backend/cpu/threads.hpp"

using fugue::index_t;
namespace cpu = fugue::cpu;
namespace kn = fugue::cpu::kernels;

namespace {

template <class A, class T>
struct cfg {
  using arch = A;
  using type = T;
};

using configs = std::tuple<
#if XSIMD_WITH_AVX512F
    cfg<xsimd::avx512f, float>, cfg<xsimd::avx512f, double>,
#endif
#if XSIMD_WITH_FMA3_AVX2
    cfg<xsimd::fma3<xsimd::avx2>, float>, cfg<xsimd::fma3<xsimd::avx2>, double>,
#endif
    cfg<cpu::scalar_arch, float>, cfg<cpu::scalar_arch, double>>;

// Sets the thread count (and lets small products go parallel) for a scope.
struct threads_scope {
  index_t gemm_thr = kn::gemm_parallel_threshold, gemv_thr = kn::gemv_parallel_threshold;
  explicit threads_scope(int n) {
    cpu::set_num_threads(n);
    if (n > 1) {
      kn::gemm_parallel_threshold = 1;
      kn::gemv_parallel_threshold = 1;
    }
  }
  ~threads_scope() {
    cpu::set_num_threads(1);
    kn::gemm_parallel_threshold = gemm_thr;
    kn::gemv_parallel_threshold = gemv_thr;
  }
};

template <class T>
std::vector<T> random_vec(std::mt19937& rng, std::size_t n) {
  std::uniform_real_distribution<double> d(-1.0, 1.0);
  std::vector<T> v(n);
  for (auto& x : v) x = static_cast<T>(d(rng));
  return v;
}

struct gemm_case {
  bool ta, tb;
  index_t M, N, K, pad_a, pad_b, pad_c;
  double alpha, beta;
};

std::string describe(const gemm_case& c) {
  return "ta=" + std::to_string(c.ta) + " tb=" + std::to_string(c.tb) + " M=" + std::to_string(c.M) +
         " N=" + std::to_string(c.N) + " K=" + std::to_string(c.K) + " pads=" + std::to_string(c.pad_a) + "," +
         std::to_string(c.pad_b) + "," + std::to_string(c.pad_c) + " alpha=" + std::to_string(c.alpha) +
         " beta=" + std::to_string(c.beta);
}

// Runs one case through kernels::gemm<Arch, T> and checks it against the
// reference; returns the result so thread counts can be compared bit for bit.
template <class Arch, class T>
std::vector<T> check_gemm(const gemm_case& c, std::uint32_t seed) {
  std::mt19937 rng(seed);
  const index_t ar = c.ta ? c.K : c.M, ac = c.ta ? c.M : c.K;  // stored shape of A
  const index_t br = c.tb ? c.N : c.K, bc = c.tb ? c.K : c.N;  // stored shape of B
  const index_t lda = ac + c.pad_a, ldb = bc + c.pad_b, ldc = c.N + c.pad_c;
  auto A = random_vec<T>(rng, static_cast<std::size_t>(std::max<index_t>(ar * lda, 1)));
  auto B = random_vec<T>(rng, static_cast<std::size_t>(std::max<index_t>(br * ldb, 1)));
  auto C0 = random_vec<T>(rng, static_cast<std::size_t>(std::max<index_t>(c.M * ldc, 1)));
  const T alpha = static_cast<T>(c.alpha), beta = static_cast<T>(c.beta);
  if (beta == T(0))  // beta == 0 must ignore C, NaNs included
    for (index_t i = 0; i < c.M; ++i)
      for (index_t j = 0; j < c.N; ++j) C0[i * ldc + j] = std::numeric_limits<T>::quiet_NaN();
  auto C = C0, R = C0;
  kn::gemm<Arch, T>(c.ta, c.tb, c.M, c.N, c.K, alpha, A.data(), lda, B.data(), ldb, beta, C.data(), ldc);
  kn::gemm_reference<T>(c.ta, c.tb, c.M, c.N, c.K, alpha, A.data(), lda, B.data(), ldb, beta, R.data(), ldc);

  const double eps = std::numeric_limits<T>::epsilon();
  index_t bad = 0;
  double worst = 0;
  for (index_t i = 0; i < c.M; ++i)
    for (index_t j = 0; j < c.N; ++j) {
      double s = 0;
      for (index_t k = 0; k < c.K; ++k) {
        const double a = c.ta ? A[k * lda + i] : A[i * lda + k];
        const double b = c.tb ? B[j * ldb + k] : B[k * ldb + j];
        s += std::fabs(a * b);
      }
      const double c0 = beta == T(0) ? 0.0 : std::fabs(static_cast<double>(C0[i * ldc + j]));
      const double tol =
          2.0 * (c.K + 4) * eps * (std::fabs(c.alpha) * s + std::fabs(c.beta) * c0) + 8 * std::numeric_limits<T>::min();
      const double err = std::fabs(static_cast<double>(C[i * ldc + j]) - static_cast<double>(R[i * ldc + j]));
      if (!(err <= tol)) ++bad;  // also catches NaN
      if (tol > 0) worst = std::max(worst, err / tol);
    }
  // Padding (outside the M x N view) must be untouched.
  index_t clobbered = 0;
  for (index_t i = 0; i < c.M; ++i)
    for (index_t j = c.N; j < ldc; ++j)
      if (!(C[i * ldc + j] == C0[i * ldc + j])) ++clobbered;
  INFO(describe(c) << " worst err/tol=" << worst);
  CHECK(bad == 0);
  CHECK(clobbered == 0);
  return C;
}

template <class Arch, class T>
void run_both_thread_counts(const gemm_case& c, std::uint32_t seed) {
  std::vector<T> one, two;
  {
    threads_scope ts(1);
    one = check_gemm<Arch, T>(c, seed);
  }
  {
    threads_scope ts(2);
    two = check_gemm<Arch, T>(c, seed);
  }
  // Thread count must not change the result (bitwise; NaN-free by construction).
  bool same = one.size() == two.size();
  for (std::size_t i = 0; same && i < one.size(); ++i)
    same = one[i] == two[i] || (std::isnan(one[i]) && std::isnan(two[i]));
  INFO(describe(c));
  CHECK(same);
}

}  // namespace

TEMPLATE_LIST_TEST_CASE("gemm matches the reference on odd sizes, all transposes", "[gemm]", configs) {
  using Arch = typename TestType::arch;
  using T = typename TestType::type;
  const index_t dims[] = {1, 3, 17, 33, 127, 300};
  std::uint32_t seed = 1;
  for (int t = 0; t < 4; ++t) {
    const bool ta = t & 1, tb = t & 2;
    for (index_t M : dims)
      for (index_t N : dims) {
        // K sweeps a few values per (M, N), keeping the reference's cost bounded.
        const index_t Ks[] = {1, 17, 300};
        const index_t K = Ks[(M + 2 * N + t) % 3];
        if (M * N * K > 4'000'000) continue;
        gemm_case c{ta, tb, M, N, K, (M + N) % 3 == 0 ? 0 : 5, N % 2 == 0 ? 0 : 3, M % 2, 1.0, 0.0};
        run_both_thread_counts<Arch, T>(c, seed++);
      }
  }
}

TEMPLATE_LIST_TEST_CASE("gemm alpha/beta semantics and sub-matrix views", "[gemm]", configs) {
  using Arch = typename TestType::arch;
  using T = typename TestType::type;
  std::uint32_t seed = 100;
  const double ab[][2] = {{1.0, 1.0}, {-0.5, 0.0}, {2.0, 0.5}, {0.25, -1.5}};
  for (int t = 0; t < 4; ++t)
    for (const auto& p : ab) {
      gemm_case c{bool(t & 1), bool(t & 2), 45, 70, 129, 7, 11, 13, p[0], p[1]};
      run_both_thread_counts<Arch, T>(c, seed++);
    }
}

TEMPLATE_LIST_TEST_CASE("gemm random shapes incl. small M, K and N blocking edges", "[gemm]", configs) {
  using Arch = typename TestType::arch;
  using T = typename TestType::type;
  std::mt19937 rng(7);
  auto pick = [&](std::initializer_list<index_t> v) { return *(v.begin() + rng() % v.size()); };
  for (int it = 0; it < 40; ++it) {
    gemm_case c;
    c.ta = rng() % 2;
    c.tb = rng() % 2;
    c.M = pick({1, 2, 3, 4, 5, 7, 8, 9, 13, 16, 31, 64, 65, 130});
    c.N = pick({1, 2, 5, 15, 16, 31, 32, 33, 64, 97, 200});
    c.K = pick({1, 2, 7, 16, 31, 64, 129, 257, 513, 700});
    c.pad_a = rng() % 4;
    c.pad_b = rng() % 4;
    c.pad_c = rng() % 4;
    c.alpha = pick({1, -1, 3}) * 0.5;
    c.beta = pick({0, 1, 2}) * 0.5;
    run_both_thread_counts<Arch, T>(c, 1000 + it);
  }
  // Crossing KC (512) and NC (4096) blocks.
  run_both_thread_counts<Arch, T>({false, false, 37, 70, 1100, 1, 2, 3, 1.0, 0.5}, 9001);
  run_both_thread_counts<Arch, T>({true, true, 37, 70, 1100, 1, 2, 3, 1.0, 0.5}, 9002);
  run_both_thread_counts<Arch, T>({false, false, 20, 4200, 9, 0, 0, 0, 1.0, 1.0}, 9003);
  run_both_thread_counts<Arch, T>({false, true, 200, 4200, 9, 0, 0, 0, 1.0, 0.0}, 9004);
}

TEMPLATE_LIST_TEST_CASE("gemm degenerate sizes: K == 0, alpha == 0, empty", "[gemm]", configs) {
  using Arch = typename TestType::arch;
  using T = typename TestType::type;
  std::vector<T> C = {1, 2, 3, 4, 5, 6};
  const T A[1] = {T(std::numeric_limits<T>::quiet_NaN())}, B[1] = {A[0]};
  kn::gemm<Arch, T>(false, false, 2, 3, 0, T(1), A, 1, B, 3, T(2), C.data(), 3);  // K == 0: C *= beta
  CHECK(C == std::vector<T>{2, 4, 6, 8, 10, 12});
  kn::gemm<Arch, T>(false, false, 2, 3, 1, T(0), A, 1, B, 3, T(0.5), C.data(), 3);  // alpha == 0
  CHECK(C == std::vector<T>{1, 2, 3, 4, 5, 6});
  std::vector<T> nan(6, std::numeric_limits<T>::quiet_NaN());
  kn::gemm<Arch, T>(false, false, 2, 3, 0, T(1), A, 1, B, 3, T(0), nan.data(), 3);  // beta == 0 clears NaN
  CHECK(nan == std::vector<T>(6, T(0)));
  kn::gemm<Arch, T>(false, false, 0, 3, 4, T(1), A, 1, B, 3, T(0), C.data(), 3);  // M == 0: no-op
  kn::gemm<Arch, T>(false, false, 2, 0, 4, T(1), A, 1, B, 3, T(0), C.data(), 3);
  CHECK(C == std::vector<T>{1, 2, 3, 4, 5, 6});
}

TEMPLATE_LIST_TEST_CASE("gemm M == 1 and N == 1 route through gemv, strided views", "[gemm]", configs) {
  using Arch = typename TestType::arch;
  using T = typename TestType::type;
  std::uint32_t seed = 500;
  for (int t = 0; t < 4; ++t)
    for (index_t K : {1, 5, 64, 513})
      for (index_t other : {1, 2, 33, 2048}) {
        const double beta = (K + other) % 2 ? 0.0 : 0.75;
        run_both_thread_counts<Arch, T>({bool(t & 1), bool(t & 2), 1, other, K, 3, 1, 2, 1.5, beta}, seed++);
        run_both_thread_counts<Arch, T>({bool(t & 1), bool(t & 2), other, 1, K, 2, 3, 4, -1.0, beta}, seed++);
      }
}

TEMPLATE_LIST_TEST_CASE("gemm_batched matches per-item reference", "[gemm]", configs) {
  using Arch = typename TestType::arch;
  using T = typename TestType::type;
  for (int threads : {1, 2}) {
    threads_scope ts(threads);
    for (int t = 0; t < 4; ++t) {
      const bool ta = t & 1, tb = t & 2;
      const index_t M = 19, N = 23, K = 41, batch = 5;
      const index_t lda = (ta ? M : K) + 1, ldb = (tb ? K : N) + 2, ldc = N + 3;
      const index_t sa = (ta ? K : M) * lda + 7, sb = (tb ? N : K) * ldb + 5, sc = M * ldc + 1;
      std::mt19937 rng(42 + t);
      auto A = random_vec<T>(rng, sa * batch), B = random_vec<T>(rng, sb * batch), C = random_vec<T>(rng, sc * batch);
      auto R = C;
      kn::gemm_batched<Arch, T>(ta, tb, M, N, K, T(0.5), A.data(), lda, sa, B.data(), ldb, sb, T(-1), C.data(), ldc, sc,
                                batch);
      for (index_t b = 0; b < batch; ++b)
        kn::gemm_reference<T>(ta, tb, M, N, K, T(0.5), A.data() + b * sa, lda, B.data() + b * sb, ldb, T(-1),
                              R.data() + b * sc, ldc);
      const double tol = 2.0 * (K + 4) * std::numeric_limits<T>::epsilon() * (0.5 * K + 1.0);
      double worst = 0;
      for (std::size_t i = 0; i < C.size(); ++i) worst = std::max(worst, std::fabs(double(C[i]) - double(R[i])));
      INFO("threads=" << threads << " ta=" << ta << " tb=" << tb);
      CHECK(worst <= tol);
    }
  }
}

TEMPLATE_LIST_TEST_CASE("gemv matches the reference, both orientations", "[gemv]", configs) {
  using Arch = typename TestType::arch;
  using T = typename TestType::type;
  const index_t dims[] = {1, 3, 17, 33, 127, 300, 2048};
  std::uint32_t seed = 77;
  for (int threads : {1, 2}) {
    threads_scope ts(threads);
    for (bool trans : {false, true})
      for (index_t M : dims)
        for (index_t N : dims) {
          if (M * N > 300 * 2048) continue;
          std::mt19937 rng(seed++);
          const index_t lda = N + (M % 3);
          const index_t xn = trans ? M : N, yn = trans ? N : M;
          auto A = random_vec<T>(rng, M * lda), x = random_vec<T>(rng, xn), y0 = random_vec<T>(rng, yn);
          const T alpha = T(1.25), beta = (M + N) % 2 ? T(0) : T(-0.5);
          if (beta == T(0)) y0.assign(yn, std::numeric_limits<T>::quiet_NaN());
          auto y = y0, r = y0;
          kn::gemv<Arch, T>(trans, M, N, alpha, A.data(), lda, x.data(), beta, y.data());
          kn::gemv_reference<T>(trans, M, N, alpha, A.data(), lda, x.data(), beta, r.data());
          const index_t inner = trans ? M : N;
          index_t bad = 0;
          for (index_t i = 0; i < yn; ++i) {
            double s = 0;
            for (index_t k = 0; k < inner; ++k)
              s += std::fabs(double(trans ? A[k * lda + i] : A[i * lda + k]) * double(x[k]));
            const double c0 = beta == T(0) ? 0.0 : std::fabs(double(y0[i]));
            const double tol = 2.0 * (inner + 4) * std::numeric_limits<T>::epsilon() * (1.25 * s + 0.5 * c0) +
                               8 * std::numeric_limits<T>::min();
            if (!(std::fabs(double(y[i]) - double(r[i])) <= tol)) ++bad;
          }
          INFO("threads=" << threads << " trans=" << trans << " M=" << M << " N=" << N);
          CHECK(bad == 0);
        }
  }
}

TEST_CASE("parallel_for runs every index once, nested calls inline, after restarts", "[threads]") {
  for (int round = 0; round < 3; ++round) {
    cpu::set_num_threads(round % 2 ? 3 : 2);  // restarting workers must not replay old jobs
    for (int rep = 0; rep < 50; ++rep) {
      std::vector<int> hits(37, 0);
      cpu::parallel_for(37, [&](int i) {
        ++hits[i];
        cpu::parallel_for(2, [&](int) {});  // nested: inline, no deadlock
      });
      CHECK(std::count(hits.begin(), hits.end(), 1) == 37);
    }
  }
  cpu::set_num_threads(1);
  CHECK(cpu::num_threads() == 1);
}

TEMPLATE_LIST_TEST_CASE("gemm_packed with a prepacked op(B) equals gemm bit for bit", "[gemm][packed]", configs) {
  using Arch = typename TestType::arch;
  using T = typename TestType::type;
  std::mt19937 rng(2024);
  // M values on both sides of the fallbacks (gemv at 1, small kernels up to 4 / 8 rows),
  // K over several K blocks, N with a ragged last sliver; a padded ldb and A given transposed.
  for (bool tb : {false, true})
    for (bool ta : {false, true})
      for (index_t M : {1, 3, 8, 9, 33, 70})
        for (auto [N, K] : {std::pair<index_t, index_t>{37, 19}, {130, 600}, {64, 1100}}) {
          const index_t ldb = (tb ? K : N) + 3, lda = (ta ? M : K) + 1, ldc = N + 2;
          const auto A = random_vec<T>(rng, std::size_t((ta ? K : M) * lda));
          const auto B = random_vec<T>(rng, std::size_t((tb ? N : K) * ldb));
          const auto C0 = random_vec<T>(rng, std::size_t(M * ldc));
          const auto packed = kn::pack_b_operand<Arch>(tb, K, N, B.data(), ldb);
          for (int threads : {1, 2}) {
            threads_scope ts(threads);
            auto want = C0, got = C0;
            kn::gemm<Arch, T>(ta, tb, M, N, K, T(0.75), A.data(), lda, B.data(), ldb, T(0.5), want.data(), ldc);
            kn::gemm_packed<Arch, T>(ta, M, T(0.75), A.data(), lda, packed, T(0.5), got.data(), ldc);
            INFO("ta=" << ta << " tb=" << tb << " M=" << M << " N=" << N << " K=" << K << " threads=" << threads);
            CHECK(got == want);
          }
        }
}

TEST_CASE("parallel_for: spinning and sleeping hand-offs both complete every task", "[threads]") {
  cpu::set_num_threads(2);
  for (int spin : {0, 100, 5000}) {
    cpu::set_spin_wait_microseconds(spin);
    for (int rep = 0; rep < 40; ++rep) {
      std::vector<int> hits(9, 0);
      cpu::parallel_for(9, [&](int i) { ++hits[std::size_t(i)]; });
      CHECK(std::count(hits.begin(), hits.end(), 1) == 9);
      // Every few regions, a pause longer than the spin window: the workers must be asleep
      // and woken by the next region.
      if (rep % 8 == 7) std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  }
  cpu::set_spin_wait_microseconds(100);
  CHECK_THROWS_AS(cpu::set_spin_wait_microseconds(-1), fugue::error);
  cpu::set_num_threads(1);
}
