// Philox against Random123's published known-answer vectors, and stream properties.
#include <catch2/catch.hpp>

#include <cmath>

#include "fugue/ops.hpp"
#include "fugue/tensor.hpp"

using namespace fugue;

TEST_CASE("philox4x32-10 matches the Random123 known-answer vectors", "[core][rng]") {
  struct kat {
    philox_block ctr;
    std::uint32_t k0, k1;
    philox_block expect;
  };
  const kat kats[] = {
      {{{0, 0, 0, 0}}, 0, 0, {{0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}}},
      {{{0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff}},
       0xffffffff,
       0xffffffff,
       {{0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}}},
      {{{0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344}},
       0xa4093822,
       0x299f31d0,
       {{0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}}},
  };
  for (const auto& k : kats) {
    auto out = philox4x32_10(k.ctr, k.k0, k.k1);
    for (int i = 0; i < 4; ++i) REQUIRE(out.v[i] == k.expect.v[i]);
  }
  // constexpr: usable at compile time (and so in device code without tables)
  static_assert(philox4x32_10({{0, 0, 0, 0}}, 0, 0).v[0] == 0x6627e8d5u);
}

TEST_CASE("streams are position-addressable and independent", "[core][rng]") {
  Philox a{1234, 0}, b{1234, 1}, c{1235, 0};
  int same_b = 0, same_c = 0;
  for (std::uint64_t i = 0; i < 1000; ++i) {
    same_b += a.word(i) == b.word(i);
    same_c += a.word(i) == c.word(i);
  }
  REQUIRE(same_b < 3);
  REQUIRE(same_c < 3);
  // Drawing a slice gives the same numbers as drawing the whole and slicing.
  auto whole = Tensor<float>::uniform({1000}, a);
  for (std::uint64_t i = 500; i < 520; ++i) REQUIRE(whole(index_t(i)) == a.uniform<float>(i));
}

TEST_CASE("uniform and normal moments are right", "[core][rng]") {
  const int n = 200000;
  Philox r{7, 3};
  double su = 0, su2 = 0, sn = 0, sn2 = 0, sn4 = 0;
  float umin = 1, umax = 0;
  for (int i = 0; i < n; ++i) {
    float u = r.uniform<float>(std::uint64_t(i));
    umin = std::min(umin, u);
    umax = std::max(umax, u);
    su += u;
    su2 += double(u) * u;
    double z = r.normal<double>(std::uint64_t(i));
    sn += z;
    sn2 += z * z;
    sn4 += z * z * z * z;
  }
  REQUIRE(umin >= 0.0f);
  REQUIRE(umax < 1.0f);
  // 5-sigma bounds on the sample moments
  REQUIRE(std::abs(su / n - 0.5) < 5 * std::sqrt(1.0 / 12 / n));
  REQUIRE(std::abs(su2 / n - 1.0 / 3) < 5 * std::sqrt(4.0 / 45 / n));
  REQUIRE(std::abs(sn / n) < 5 * std::sqrt(1.0 / n));
  REQUIRE(std::abs(sn2 / n - 1) < 5 * std::sqrt(2.0 / n));
  REQUIRE(std::abs(sn4 / n - 3) < 5 * std::sqrt(96.0 / n));
  for (int i = 0; i < 1000; ++i) {
    double u = r.uniform<double>(std::uint64_t(i));
    REQUIRE((u >= 0.0 && u < 1.0));
    REQUIRE(r.uniform_open<double>(std::uint64_t(i)) > 0.0);
  }
}

TEST_CASE("shapes broadcast NumPy-style and report bad dimensions", "[core][shape]") {
  REQUIRE(broadcast_shapes({4, 1, 3}, {5, 1}) == Shape{4, 5, 3});
  REQUIRE(broadcast_shapes({}, {2, 2}) == Shape{2, 2});
  REQUIRE(Shape{2, 3, 4}.numel() == 24);
  REQUIRE(Shape{2, 3, 4}[-1] == 4);
  REQUIRE(Shape{2, 3}.insert(-1, 9) == Shape{2, 3, 9});
  REQUIRE(Shape{2, 3}.insert(0, 9) == Shape{9, 2, 3});
  REQUIRE_THROWS_AS((Shape{1, 2, 3, 4, 5, 6, 7}), error);
  REQUIRE_THROWS_AS((Shape{2, -3}), error);
  REQUIRE_THROWS_WITH((Shape{2, 3}[2]), Catch::Contains("dimension 2 out of range for shape [2, 3]"));
}

TEST_CASE("Philox::words4(b) is the block word(4b) .. word(4b + 3) come from", "[core][rng]") {
  const fugue::Philox r{0x1234abcdULL, 77};
  for (std::uint64_t b : {0ULL, 1ULL, 12345ULL, (1ULL << 40) + 3}) {
    const auto w = r.words4(b);
    for (int j = 0; j < 4; ++j) CHECK(w.v[j] == r.word(4 * b + std::uint64_t(j)));
  }
}

TEMPLATE_TEST_CASE("Philox::for_each_uniform visits exactly uniform(first) .. uniform(first + count - 1)",
                   "[core][rng]", float, double) {
  const fugue::Philox r{0x5eedULL, 3};
  // Starts and lengths that are and are not aligned to a block (4 floats / 2 doubles).
  for (std::uint64_t first : {0ULL, 1ULL, 2ULL, 3ULL, 7ULL, (1ULL << 33) + 5}) {
    for (std::uint64_t count : {0ULL, 1ULL, 3ULL, 4ULL, 5ULL, 17ULL}) {
      std::uint64_t expected_j = 0, mismatches = 0;
      r.for_each_uniform<TestType>(first, count, [&](std::uint64_t j, TestType u) {
        if (j != expected_j || u != r.uniform<TestType>(first + j)) ++mismatches;
        ++expected_j;
      });
      CHECK(expected_j == count);
      CHECK(mismatches == 0);
    }
  }
}
