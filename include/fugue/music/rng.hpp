// fugue/music/rng.hpp — a small seeded generator for the music data pipeline.
//
// Contract: SplitMix64 — the same seed gives the same stream on every platform and
// standard library (std::uniform_int_distribution does not promise that). uniform(n) is
// unbiased (rejection sampling); shuffle is Fisher-Yates driven by uniform().
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "fugue/core/error.hpp"

namespace fugue::music {

class SplitMix64 {
 public:
  explicit SplitMix64(uint64_t seed = 0) : s_(seed) {}
  uint64_t next() {
    uint64_t z = (s_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  // Uniform in [0, n).
  uint64_t uniform(uint64_t n) {
    FUGUE_CHECK(n > 0, "uniform(0)");
    uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t x;
    do x = next();
    while (x >= limit);
    return x % n;
  }
  // Uniform integer in [lo, hi].
  int uniform_int(int lo, int hi) {
    FUGUE_CHECK(lo <= hi, "uniform_int: empty range");
    return lo + static_cast<int>(uniform(static_cast<uint64_t>(int64_t{hi} - lo + 1)));
  }
  // Uniform double in [0, 1).
  double uniform01() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

  template <class T>
  void shuffle(std::vector<T>& v) {
    for (std::size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[static_cast<std::size_t>(uniform(i))]);
  }

 private:
  uint64_t s_;
};

}  // namespace fugue::music
