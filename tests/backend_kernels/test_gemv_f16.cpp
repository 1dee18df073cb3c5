// Half-precision weights (backend/cpu/gemv_f16.hpp): the conversions against their definition
// (every one of the 65,536 codes; round-to-nearest-even on floats between codes; hardware F16C
// where present) and the GEMV against a double reference within the stated bound.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "fugue/backend/cpu/gemv_f16.hpp"
#include "fugue/core/rng.hpp"

using namespace fugue;
using cpu::kernels::from_half;
using cpu::kernels::to_half;

namespace {
// binary16 value of a code from its fields (the definition, in double).
double half_value(std::uint16_t h) {
  const int s = h >> 15, e = (h >> 10) & 31, m = h & 1023;
  const double sign = s ? -1.0 : 1.0;
  if (e == 0) return sign * std::ldexp(double(m), -24);
  if (e == 31) return m ? std::numeric_limits<double>::quiet_NaN() : sign * std::numeric_limits<double>::infinity();
  return sign * std::ldexp(1.0 + m / 1024.0, e - 15);
}
}  // namespace

TEST_CASE("f16: from_half is exact and to_half inverts it on every code", "[kernels][f16]") {
  for (std::uint32_t c = 0; c < 65536; ++c) {
    const auto h = std::uint16_t(c);
    const double v = half_value(h);
    const float f = from_half(h);
    INFO("code " << c);
    if (std::isnan(v)) {
      CHECK(std::isnan(f));
      CHECK(std::isnan(from_half(to_half(f))));
    } else {
      CHECK(double(f) == v);
      CHECK(to_half(f) == h);
    }
  }
}

TEST_CASE("f16: to_half rounds to nearest, ties to even, overflow to infinity", "[kernels][f16]") {
  CHECK(to_half(1.0f) == 0x3c00);
  CHECK(to_half(1.0f + std::ldexp(1.0f, -11)) == 0x3c00);      // tie -> even (mantissa 0)
  CHECK(to_half(1.0f + 3 * std::ldexp(1.0f, -11)) == 0x3c02);  // tie -> even (mantissa 2)
  CHECK(to_half(1.0f + std::ldexp(1.0f, -11) + std::ldexp(1.0f, -20)) == 0x3c01);
  CHECK(to_half(65504.f) == 0x7bff);
  CHECK(to_half(65520.f) == 0x7c00);
  CHECK(to_half(-1e9f) == 0xfc00);
  CHECK(to_half(std::ldexp(1.0f, -24)) == 0x0001);  // smallest subnormal
  CHECK(to_half(std::ldexp(1.0f, -25)) == 0x0000);  // tie -> even (zero)
  CHECK(to_half(std::ldexp(1.5f, -25)) == 0x0001);
  // Random floats: the nearest code (checked against the neighbours' distances).
  const Philox r{5, 0};
  for (std::uint64_t i = 0; i < 20000; ++i) {
    const float f = float((2 * r.uniform<double>(i) - 1) * std::ldexp(1.0, int(i % 30) - 20));
    const std::uint16_t h = to_half(f);
    const double d = std::abs(double(from_half(h)) - f);
    for (int step : {-1, 1}) {
      const std::uint16_t n = std::uint16_t(h + step);
      if ((n & 0x7c00) == 0x7c00) continue;
      if ((n & 0x7fff) == 0x7fff || ((h & 0x7fff) == 0 && step < 0)) continue;
      INFO(f << " code " << h << " neighbour " << n);
      CHECK(d <= std::abs(double(from_half(n)) - f));
    }
  }
#if FUGUE_HAVE_F16C
  for (std::uint64_t i = 0; i < 20000; ++i) {
    const float f = float((2 * r.uniform<double>(i + 99999) - 1) * std::ldexp(1.0, int(i % 40) - 30));
    CHECK(to_half(f) == std::uint16_t(_cvtss_sh(f, 0)));
  }
#endif
}

TEST_CASE("f16: gemv_f16_rows against a double reference", "[kernels][f16]") {
  const Philox r{6, 0};
  for (auto [rows, cols] : {std::pair<index_t, index_t>{1, 1}, {3, 7}, {4, 16}, {9, 37}, {64, 512}, {130, 1024}}) {
    std::vector<std::uint16_t> A(std::size_t(rows * cols));
    std::vector<float> x(static_cast<std::size_t>(cols)), y(static_cast<std::size_t>(rows));
    for (std::size_t i = 0; i < A.size(); ++i) A[i] = to_half(float(0.2 * (2 * r.uniform<double>(i) - 1)));
    for (std::size_t i = 0; i < x.size(); ++i) x[i] = float(2 * r.uniform<double>(i + 777777) - 1);
    cpu::kernels::gemv_f16_rows(rows, cols, A.data(), x.data(), y.data());
    for (index_t i = 0; i < rows; ++i) {
      double ref = 0, mag = 0;
      for (index_t k = 0; k < cols; ++k) {
        ref += double(from_half(A[std::size_t(i * cols + k)])) * x[std::size_t(k)];
        mag += std::abs(double(from_half(A[std::size_t(i * cols + k)])) * x[std::size_t(k)]);
      }
      INFO(rows << " x " << cols << " row " << i);
      CHECK(std::abs(y[std::size_t(i)] - ref) <= double(cols) * 6e-8 * mag + 1e-30);  // float accumulation
    }
  }
}
