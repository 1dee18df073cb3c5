// Cross-backend conformance in the style of ggml's test-backend-ops: every case builds the
// same random inputs on the host, runs the op on the reference backend (cpu::native) and on
// each backend under test, copies the outputs back and compares them element by element:
//   |got - want| <= atol + rtol * |want|.
// A case returns a list of host arrays (outputs, and for autodiff cases the gradients of
// every input after backward() with a fixed random seed), so values and gradients are both
// compared. Each case is written once as a generic lambda over the backend type.
#pragma once

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <tuple>
#include <vector>

#include <fugue/autodiff.hpp>
#include <fugue/core/tensor.hpp>
#include <fugue/ops.hpp>

namespace conformance {

using fugue::index_t;
using fugue::Philox;
using fugue::Shape;
using fugue::Tensor;
namespace ad = fugue::ad;

template <class T>
using Arrays = std::vector<std::vector<T>>;

// Host values uniform in [lo, hi) from Philox stream `stream` (identical on every backend).
template <class T>
std::vector<T> random_values(index_t n, std::uint64_t stream, double lo = -1, double hi = 1) {
  const Philox rng{2026, stream};
  std::vector<T> v(static_cast<std::size_t>(n));
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = T(lo + (hi - lo) * rng.uniform<double>(i));
  return v;
}
template <class T, class B>
Tensor<T, B> random_tensor(const Shape& s, std::uint64_t stream, double lo = -1, double hi = 1) {
  return Tensor<T, B>::from(random_values<T>(s.numel(), stream, lo, hi), s);
}

// Tolerances by precision: float cases are compared in float, double ones in double.
template <class T>
struct tol {
  double rtol, atol;
  bool atol_of_max = false;  // atol is relative to the output's largest |value| (ill-conditioned chains)
};
template <class T>
constexpr tol<T> tight() {
  if constexpr (sizeof(T) == 4)
    return {2e-6, 2e-7};
  else
    return {1e-13, 1e-14};
}
template <class T>
constexpr tol<T> loose() {  // transcendental functions, long reductions, GEMM
  if constexpr (sizeof(T) == 4)
    return {5e-5, 5e-6};
  else
    return {1e-11, 1e-12};
}

// Counts what was compared, for the summary line the test prints.
struct tally {
  int cases = 0, comparisons = 0;
  static tally& get() {
    static tally t;
    return t;
  }
};

template <class T>
void require_close(const std::string& what, const Arrays<T>& got, const Arrays<T>& want, tol<T> t) {
  INFO(what);
  REQUIRE(got.size() == want.size());
  for (std::size_t k = 0; k < got.size(); ++k) {
    INFO("output " << k);
    REQUIRE(got[k].size() == want[k].size());
    double worst = 0, atol = t.atol;
    if (t.atol_of_max) {
      double m = 0;
      for (const T& w : want[k]) m = std::max(m, std::abs(double(w)));
      atol *= m;
    }
    std::size_t at = 0;
    for (std::size_t i = 0; i < got[k].size(); ++i) {
      const double g = double(got[k][i]), w = double(want[k][i]);
      if (g == w || (std::isnan(w) && std::isnan(g))) continue;  // equal infinities too
      const double excess = std::abs(g - w) - (atol + t.rtol * std::abs(w));
      if (!(excess <= worst)) {  // also catches NaN / inf mismatches
        worst = std::isnan(excess) ? INFINITY : excess;
        at = i;
      }
    }
    INFO("worst element " << at << ": got " << (got[k].empty() ? 0.0 : double(got[k][at])) << ", want "
                          << (want[k].empty() ? 0.0 : double(want[k][at])));
    REQUIRE(worst == 0);
    ++tally::get().comparisons;
  }
}

// Runs `op` (a generic lambda: template <class B> Arrays<T> op()) on cpu::native and on each
// backend of the tuple Backends, and compares.
template <class T, class Backends, class Op>
void check(const std::string& name, Op op, tol<T> t = tight<T>()) {
  const Arrays<T> want = op.template operator()<fugue::cpu::native>();
  std::apply(
      [&](auto... b) {
        (require_close<T>(name + " on " + std::string(decltype(b)::name()), op.template operator()<decltype(b)>(), want,
                          t),
         ...);
      },
      Backends{});
  ++tally::get().cases;
}

// Value of f(vars...) and the gradient of <seed, f> with respect to every input.
template <class T, class B, class F>
Arrays<T> value_and_grads(F f, const std::vector<Shape>& shapes, std::uint64_t stream, double lo = -1, double hi = 1) {
  ad::Tape<T, B> tape;
  std::vector<ad::Var<T, B>> vs;
  for (std::size_t i = 0; i < shapes.size(); ++i)
    vs.push_back(tape.input(random_tensor<T, B>(shapes[i], stream + i, lo, hi), true));
  ad::Var<T, B> out = f(vs);
  auto seed = random_tensor<T, B>(out.value().shape(), stream + 100);
  tape.backward(out, seed);
  Arrays<T> r{out.value().to_vector()};
  for (auto& v : vs) r.push_back(v.grad().to_vector());
  return r;
}

}  // namespace conformance
