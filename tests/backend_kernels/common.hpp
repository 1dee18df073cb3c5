// Shared helpers of the CPU kernel tests: the (Arch, T) configurations tested
// side by side, random data, reference arithmetic in long double, thread setup.
#pragma once

#include <cmath>
#include <cstdio>
#include <limits>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include <catch2/catch.hpp>

#include "fugue/backend/cpu/elementwise.hpp"
#include "fugue/core/functors.hpp"
#include "fugue/backend/cpu/layer_norm.hpp"
#include "fugue/backend/cpu/reduce.hpp"
#include "fugue/backend/cpu/softmax.hpp"
#include "fugue/backend/cpu/threads.hpp"

namespace kt {

using fugue::index_t;
namespace cpu = fugue::cpu;
namespace K = fugue::cpu::kernels;
using LD = long double;

template <class A, class T>
struct cfg {
  using arch = A;
  using type = T;
  static std::string name() { return std::string(A::name()) + (std::is_same_v<T, float> ? "/float" : "/double"); }
};

// Every configuration this compiler may emit, in one binary.
using configs = std::tuple<
#if XSIMD_WITH_AVX512F
    cfg<xsimd::avx512f, float>, cfg<xsimd::avx512f, double>,
#endif
#if XSIMD_WITH_FMA3_AVX2
    cfg<xsimd::fma3<xsimd::avx2>, float>, cfg<xsimd::fma3<xsimd::avx2>, double>,
#endif
    cfg<cpu::scalar_arch, float>, cfg<cpu::scalar_arch, double>>;

// Sizes that hit every body/tail path of every register width (1..16 lanes).
inline const std::vector<index_t> odd_sizes = {0,  1,  2,  3,  7,   8,   9,    15,   16,   17,   31,   32,
                                               33, 63, 64, 65, 127, 255, 1000, 1023, 2049, 4097, 10007};

template <class T>
std::vector<T> uniform(std::mt19937_64& g, index_t n, double lo, double hi) {
  std::uniform_real_distribution<double> d(lo, hi);
  std::vector<T> v(static_cast<std::size_t>(n));
  for (auto& x : v) x = static_cast<T>(d(g));
  return v;
}

template <class T>
constexpr LD eps() {
  return static_cast<LD>(std::numeric_limits<T>::epsilon());
}

// Units in the last place of r, as a T (the spacing of T's numbers at |r|).
template <class T>
LD ulp(LD r) {
  const T a = static_cast<T>(std::fabs(r));
  const T m = std::max(a, std::numeric_limits<T>::min());
  return static_cast<LD>(std::nextafter(m, std::numeric_limits<T>::infinity())) - static_cast<LD>(m);
}

// Runs body(nt) with 1 and with 2 threads, with the parallel threshold lowered
// so that the parallel paths really run on the small shapes of the tests.
template <class F>
void with_threads(F&& body) {
  for (int nt : {1, 2}) {
    cpu::set_num_threads(nt);
    const index_t saved = K::parallel_threshold;
    K::parallel_threshold = 64;
    body(nt);
    K::parallel_threshold = saved;
    cpu::set_num_threads(1);
  }
}

}  // namespace kt
