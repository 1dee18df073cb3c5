// fugue/core/rng.hpp — counter-based random numbers (Philox4x32-10).
//
// Contract: random values are pure functions of (seed, stream, index), so any
// backend, any thread count and any chunking produce the same stream: element i
// of a stream never depends on how many elements were drawn before it.
//  * philox4x32_10 is the Random123 block function (checked against its
//    published known-answer vectors in tests/core).
//  * Word i of stream s under seed k is output[i % 4] of the block with
//    counter {i/4 low, i/4 high, s low, s high} and key {k low, k high}.
//  * uniform<float>(i) uses word i: (w >> 8) * 2^-24, in [0, 1).
//    uniform<double>(i) uses words 2i, 2i+1 (53 bits), in [0, 1).
//  * for_each_uniform(first, count, f) visits uniform(first) .. uniform(first+count-1)
//    drawing each block once (the fast way to fill a buffer; same values).
//  * normal(i) is Box-Muller over a pair of open-interval uniforms; element 2j
//    and 2j+1 share one pair. Integer words and uniforms are bit-identical on
//    every backend; normals agree to the last few ulps of the platform's log/cos.
// Everything here is constexpr-friendly plain arithmetic, usable in CUDA
// device code (FUGUE_HOST_DEVICE) and Thrust functors.
#pragma once

#include <cmath>
#include <cstdint>

#include "fugue/core/host_device.hpp"

namespace fugue {

struct philox_block {
  std::uint32_t v[4];
};

FUGUE_HOST_DEVICE constexpr philox_block philox4x32_10(philox_block ctr, std::uint32_t k0, std::uint32_t k1) {
  constexpr std::uint32_t M0 = 0xD2511F53u, M1 = 0xCD9E8D57u;
  constexpr std::uint32_t W0 = 0x9E3779B9u, W1 = 0xBB67AE85u;
  for (int round = 0; round < 10; ++round) {
    if (round > 0) {
      k0 += W0;
      k1 += W1;
    }
    const std::uint64_t p0 = std::uint64_t(M0) * ctr.v[0];
    const std::uint64_t p1 = std::uint64_t(M1) * ctr.v[2];
    const std::uint32_t hi0 = std::uint32_t(p0 >> 32), lo0 = std::uint32_t(p0);
    const std::uint32_t hi1 = std::uint32_t(p1 >> 32), lo1 = std::uint32_t(p1);
    ctr = philox_block{{hi1 ^ ctr.v[1] ^ k0, lo1, hi0 ^ ctr.v[3] ^ k1, lo0}};
  }
  return ctr;
}

// A position-addressable random stream. Cheap to copy; holds no state beyond its identity.
struct Philox {
  std::uint64_t seed = 0;
  std::uint64_t stream = 0;

  FUGUE_HOST_DEVICE constexpr std::uint32_t word(std::uint64_t i) const {
    const std::uint64_t block = i >> 2;
    philox_block ctr{
        {std::uint32_t(block), std::uint32_t(block >> 32), std::uint32_t(stream), std::uint32_t(stream >> 32)}};
    return philox4x32_10(ctr, std::uint32_t(seed), std::uint32_t(seed >> 32)).v[i & 3];
  }

  // The four words 4b .. 4b+3 at once (word(i) computes the whole block and keeps one).
  FUGUE_HOST_DEVICE constexpr philox_block words4(std::uint64_t b) const {
    philox_block ctr{{std::uint32_t(b), std::uint32_t(b >> 32), std::uint32_t(stream), std::uint32_t(stream >> 32)}};
    return philox4x32_10(ctr, std::uint32_t(seed), std::uint32_t(seed >> 32));
  }

  template <class T>
  FUGUE_HOST_DEVICE constexpr T uniform(std::uint64_t i) const {
    if constexpr (sizeof(T) == 4) {
      return T(word(i) >> 8) * T(1.0 / 16777216.0);
    } else {
      const std::uint64_t hi = word(2 * i) >> 5, lo = word(2 * i + 1) >> 6;  // 27 + 26 bits
      return T((hi << 26) | lo) * T(1.0 / 9007199254740992.0);
    }
  }

  // Uniform in the open interval (0, 1): safe to take the log of.
  template <class T>
  FUGUE_HOST_DEVICE constexpr T uniform_open(std::uint64_t i) const {
    if constexpr (sizeof(T) == 4) {
      return (T(word(i) >> 8) + T(0.5)) * T(1.0 / 16777216.0);
    } else {
      const std::uint64_t hi = word(2 * i) >> 5, lo = word(2 * i + 1) >> 6;
      return (T((hi << 26) | lo) + T(0.5)) * T(1.0 / 9007199254740992.0);
    }
  }

  // Calls f(j, uniform<T>(first + j)) for j = 0 .. count-1 in order, computing each Philox
  // block once: uniform(i) alone runs a whole 10-round block to keep one word, so filling
  // a buffer element by element costs 4x (float) or 2x (double) the block function.
  FUGUE_HD_TEMPLATE template <class T, class F>
  FUGUE_HOST_DEVICE constexpr void for_each_uniform(std::uint64_t first, std::uint64_t count, F&& f) const {
    constexpr std::uint64_t per_block = sizeof(T) == 4 ? 4 : 2;
    std::uint64_t j = 0;
    while (j < count) {
      const std::uint64_t i = first + j;
      const philox_block w = words4(i / per_block);
      for (std::uint64_t s = i % per_block; s < per_block && j < count; ++s, ++j) {
        if constexpr (sizeof(T) == 4) {
          f(j, T(w.v[s] >> 8) * T(1.0 / 16777216.0));
        } else {
          const std::uint64_t hi = w.v[2 * s] >> 5, lo = w.v[2 * s + 1] >> 6;
          f(j, T((hi << 26) | lo) * T(1.0 / 9007199254740992.0));
        }
      }
    }
  }

  // Standard normal; elements 2j and 2j+1 come from the same Box-Muller pair.
  template <class T>
  FUGUE_HOST_DEVICE T normal(std::uint64_t i) const {
    const std::uint64_t pair = i >> 1;
    const T u1 = uniform_open<T>(2 * pair), u2 = uniform_open<T>(2 * pair + 1);
    const T r = std::sqrt(T(-2) * std::log(u1));
    const T theta = T(6.283185307179586476925286766559) * u2;
    return (i & 1) ? r * std::sin(theta) : r * std::cos(theta);
  }
};

}  // namespace fugue
