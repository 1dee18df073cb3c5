// Test helpers for tests/nn_conv_attn: a float64 central-difference gradient check over
// ad::Parameters (module parameters and inputs wrapped as Parameters), and naive references.
#pragma once

#include <catch2/catch.hpp>

#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "fugue/autodiff/tape.hpp"
#include "fugue/ops.hpp"
#include "fugue/tensor.hpp"

namespace nntest {
using namespace fugue;
using Td = Tensor<double>;
using Pd = ad::Parameter<double>;
using Vd = ad::Var<double>;
using Taped = ad::Tape<double>;

inline Td randn(const Shape& s, std::uint64_t seed, double scale = 1.0) {
  return Td::normal(s, Philox{seed, 7}, 0.0, scale);
}

struct check_target {
  std::string name;
  Pd* p;
};

// Checks d/dθ sum(f(θ) * seed) for every θ in targets against central differences.
// f builds the graph on the given tape (use tape.param(*p) for every target).
// At most max_elems elements per target are probed (evenly spread).
inline void gradcheck(const std::function<Vd(Taped&)>& f, std::vector<check_target> targets, double tol = 1e-6,
                      index_t max_elems = 40, std::uint64_t tape_seed = 99) {
  for (auto& t : targets) t.p->grad = Td{};
  Td seed;
  {
    Taped tape(tape_seed);
    Vd out = f(tape);
    seed = randn(out.shape(), 4242);
    tape.backward(out, seed);
  }
  auto loss = [&] {
    Taped tape(tape_seed);
    ad::NoGrad<double> ng(tape);
    Vd out = f(tape);
    auto a = out.value().to_vector(), s = seed.to_vector();
    double acc = 0;
    for (std::size_t i = 0; i < a.size(); ++i) acc += a[i] * s[i];
    return acc;
  };
  for (auto& t : targets) {
    Pd& p = *t.p;
    REQUIRE(p.grad.defined());
    const Td g = p.grad.clone();
    const index_t n = p.numel(), step = n > max_elems ? n / max_elems : 1;
    for (index_t i = 0; i < n; i += step) {
      double* v = p.value.data() + i;
      const double orig = *v, h = 1e-6 * std::max(1.0, std::abs(orig));
      *v = orig + h;
      const double lp = loss();
      *v = orig - h;
      const double lm = loss();
      *v = orig;
      const double num = (lp - lm) / (2 * h), ana = g.data()[i];
      INFO(t.name << "[" << i << "] numeric " << num << " analytic " << ana);
      REQUIRE(std::abs(num - ana) <= tol * (1.0 + std::abs(num)));
    }
  }
}

inline double max_abs_diff(const Td& a, const Td& b) {
  REQUIRE(a.shape() == b.shape());
  auto x = a.to_vector(), y = b.to_vector();
  double m = 0;
  for (std::size_t i = 0; i < x.size(); ++i) m = std::max(m, std::abs(x[i] - y[i]));
  return m;
}

}  // namespace nntest
