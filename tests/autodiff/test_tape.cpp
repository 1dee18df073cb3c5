// Tape mechanics: float32 forward against fugue::ops, parameter accumulation,
// no-grad mode, arena reuse, a deep chain, errors, and the registry's teeth.
#include <catch2/catch.hpp>

#include <cmath>

#include "common.hpp"

using namespace fugue_test;
namespace ad = fugue::ad;

namespace {
template <class T>
void require_close(const Tensor<T>& a, const Tensor<T>& b, double tol = 0) {
  REQUIRE(a.shape() == b.shape());
  auto va = a.to_vector(), vb = b.to_vector();
  for (std::size_t i = 0; i < va.size(); ++i) REQUIRE(std::abs(double(va[i]) - double(vb[i])) <= tol);
}
}  // namespace

// An op registered here on purpose and never checked: the registry must notice.
namespace fugue::ad {
FUGUE_AD_OP(selftest_unchecked_op)
}

TEST_CASE("autodiff: float32 forward values equal fugue::ops", "[autodiff]") {
  ad::Tape<float> t;
  auto a = rnd<float>({3, 4}, 1), b = rnd<float>({4}, 2), w = rnd<float>({5, 4}, 3), bias = rnd<float>({5}, 4);
  auto va = t.input(a, true), vb = t.input(b), vw = t.input(w), vbias = t.input(bias);
  require_close(ad::add(va, vb).value(), ops::add(a, b));
  require_close(ad::mul(va, vb).value(), ops::mul(a, b));
  require_close(ad::tanh(va).value(), ops::tanh(a));
  require_close(ad::exp(va).value(), ops::exp(a));
  require_close(ad::relu(va).value(), ops::relu(a));
  require_close(ad::sigmoid(va).value(), ops::sigmoid(a), 1e-6);
  require_close(ad::linear(va, vw, vbias).value(), ops::linear(a, w, &bias));
  require_close(ad::matmul(va, ad::transpose(vw, 0, 1)).value(), ops::matmul(a, w.t()));
  require_close(ad::softmax(va).value(), ops::softmax(a));
  require_close(ad::log_softmax(va).value(), ops::log_softmax(a));
  require_close(ad::sum(va, 1).value(), ops::sum(a, 1));
  require_close(ad::mean(va).value(), ops::mean(a));
  auto g = rnd<float>({4}, 5, 0.5f, 1.5f), be = rnd<float>({4}, 6);
  require_close(ad::layer_norm(va, t.input(g), t.input(be), 1e-5f).value(), ops::layer_norm(a, &g, &be, 1e-5f));
  // A float32 backward runs too.
  auto loss = ad::sum(ad::square(va));
  t.backward(loss);
  require_close(va.grad(), ops::scale(a, 2.0f), 1e-6);
}

TEST_CASE("autodiff: parameter gradients accumulate across backward calls", "[autodiff]") {
  ad::Parameter<double> w(rnd({2, 3}, 7));
  const TD x = rnd({4, 3}, 8);
  ad::Tape<double> t;
  auto step = [&] {
    t.clear();
    auto y = ad::linear(t.constant(x), t.param(w));
    t.backward(ad::sum(y));
  };
  step();
  const TD g1 = w.grad.clone();
  // d sum(x W^T) / dW[o, i] = sum_r x[r, i]
  const TD expect = ops::sum(x, 0).unsqueeze(0).broadcast_to({2, 3}).clone();
  require_close(g1, expect, 1e-12);
  step();
  require_close(w.grad, ops::scale(expect, 2.0), 1e-12);
  // Two backward passes over one recorded graph also add up.
  w.zero_grad();
  t.clear();
  auto y = ad::sum(ad::linear(t.constant(x), t.param(w)));
  t.backward(y);
  t.backward(y);
  require_close(w.grad, ops::scale(expect, 2.0), 1e-12);
  // param(p) twice on one tape is one leaf.
  auto p1 = t.param(w), p2 = t.param(w);
  CHECK(p1.id() == p2.id());
}

TEST_CASE("autodiff: no-grad mode records no closures", "[autodiff]") {
  ad::Parameter<double> w(rnd({3, 3}, 9));
  ad::Tape<double> t;
  {
    ad::NoGrad guard(t);
    CHECK_FALSE(t.grad_enabled());
    auto h = t.constant(rnd({2, 3}, 10));
    for (int i = 0; i < 10; ++i) h = ad::tanh(ad::linear(h, t.param(w)));
    CHECK_FALSE(h.requires_grad());
    const auto s = t.stats();
    CHECK(s.backward_nodes == 0);
    CHECK(s.arena_used == 0);
    CHECK_THROWS_AS(t.backward(ad::sum(h)), fugue::error);
  }
  CHECK(t.grad_enabled());
  auto h = ad::tanh(ad::linear(t.constant(rnd({2, 3}, 10)), t.param(w)));
  CHECK(h.requires_grad());
  CHECK(t.stats().backward_nodes == 2);
  CHECK(t.stats().arena_used > 0);
  // Constants alone record no closure either.
  const auto before = t.stats().backward_nodes;
  auto c = ad::exp(t.constant(rnd({3}, 11)));
  CHECK_FALSE(c.requires_grad());
  CHECK(t.stats().backward_nodes == before);
}

TEST_CASE("autodiff: clear() keeps capacity; an identical second step does not grow the arena", "[autodiff]") {
  ad::Parameter<double> w1(rnd({16, 8}, 12)), b1(rnd({16}, 13)), w2(rnd({4, 16}, 14));
  const TD x = rnd({5, 8}, 15);
  const int labels[] = {0, 1, 2, 3, 0};
  ad::Tape<double> t;
  auto step = [&] {
    t.clear();
    auto h = x.shape()[0] ? t.constant(x) : ad::Var<double>();
    for (int k = 0; k < 50; ++k) {
      auto z = ad::layer_norm(ad::tanh(ad::linear(h, t.param(w1), t.param(b1))), 1e-5);
      h = ad::slice(z, 1, 0, 8);
    }
    auto loss = ad::softmax_cross_entropy(
        ad::linear(ad::dropout(ad::concat<D, cpu::native>({h, h}, 1), 0.1), t.param(w2)), std::span<const int>(labels));
    t.backward(loss);
  };
  step();
  const auto s1 = t.stats();
  step();
  const auto s2 = t.stats();
  CHECK(s1.nodes == s2.nodes);
  CHECK(s2.arena_used == s1.arena_used);
  CHECK(s2.arena_capacity == s1.arena_capacity);
  CHECK(s2.arena_chunks == s1.arena_chunks);
  CHECK(s2.node_capacity == s1.node_capacity);
  t.clear();
  CHECK(t.size() == 0);
  CHECK(t.stats().arena_used == 0);
  CHECK(t.stats().arena_capacity == s1.arena_capacity);
}

TEST_CASE("autodiff: a chain of 100k ops runs backward without recursion", "[autodiff]") {
  ad::Tape<double> t;
  auto x = t.input(TD::from({0.5, -0.25}, {2}), true);
  auto y = x;
  for (int i = 0; i < 100000; ++i) y = (i % 2) ? ad::scale(y, 1.0) : y + 0.0;
  CHECK(t.size() == 100001);
  t.backward(ad::sum(y));
  require_close(x.grad(), TD::ones({2}), 0);
  t.clear();
  CHECK(t.size() == 0);
}

TEST_CASE("autodiff: intermediate gradients are freed unless retained", "[autodiff]") {
  ad::Tape<double> t;
  auto x = t.input(rnd({3}, 16), true);
  auto h = ad::exp(x);
  t.backward(ad::sum(h));
  CHECK(x.grad().defined());
  require_close(h.grad(), TD::zeros({3}));  // freed: reads as zeros
  t.set_retain_grads(true);
  t.backward(ad::sum(h));
  require_close(h.grad(), TD::ones({3}));
  // Seeded backward of a non-scalar output.
  t.backward(h, TD::full({3}, 2.0));
  require_close(x.grad(), ops::scale(h.value(), 2.0), 1e-15);
}

TEST_CASE("autodiff: dropout is the identity for p = 0 and in eval mode", "[autodiff]") {
  ad::Tape<double> t;
  auto x = t.input(TD::ones({1000}), true);
  CHECK(ad::dropout(x, 0.0).id() == x.id());
  t.set_training(false);
  CHECK(ad::dropout(x, 0.5).id() == x.id());
  t.set_training(true);
  auto y = ad::dropout(x, 0.25);
  const auto v = y.value().to_vector();
  int kept = 0;
  for (double e : v) {
    CHECK((e == 0.0 || std::abs(e - 1.0 / 0.75) < 1e-12));
    kept += e != 0;
  }
  CHECK(kept > 700);
  CHECK(kept < 800);
  // Two calls draw different masks.
  CHECK(ad::dropout(x, 0.25).value().to_vector() != v);
  CHECK_THROWS_AS(ad::dropout(x, 1.0), fugue::error);
}

TEST_CASE("autodiff: bad shapes and misuse throw fugue::error", "[autodiff]") {
  ad::Tape<double> t, other;
  auto a = t.input(rnd({3}, 17), true), b = t.input(rnd({4}, 18), true);
  CHECK_THROWS_AS(ad::add(a, b), fugue::error);
  CHECK_THROWS_AS(ad::matmul(t.input(rnd({2, 3}, 19)), t.input(rnd({2, 3}, 20))), fugue::error);
  CHECK_THROWS_AS(ad::linear(t.input(rnd({2, 3}, 19)), t.input(rnd({3, 4}, 20))), fugue::error);
  CHECK_THROWS_AS(ad::add(a, other.input(rnd({3}, 21))), fugue::error);
  CHECK_THROWS_AS(t.backward(a, TD::ones({4})), fugue::error);
  CHECK_THROWS_AS(t.backward(a), fugue::error);  // 3 elements: needs a seed
  CHECK_THROWS_AS(ad::Var<double>().value(), fugue::error);
  CHECK_THROWS_AS((ad::concat<D, cpu::native>({t.input(rnd({2, 3}, 1)), t.input(rnd({3, 3}, 2))}, 1)), fugue::error);
  CHECK_THROWS_AS(ad::reshape(a, {2, 2}), fugue::error);
  const int bad[] = {0, 7};
  CHECK_THROWS_AS(ad::embedding(t.input(rnd({5, 2}, 22), true), std::span<const int>(bad)), fugue::error);
  const int lab[] = {0, 9};
  CHECK_THROWS_AS(ad::softmax_cross_entropy(t.input(rnd({2, 3}, 23), true), std::span<const int>(lab)), fugue::error);
  CHECK_THROWS_AS(ad::mse(a, b), fugue::error);
  CHECK_THROWS_AS(ad::gaussian_kl(a, b), fugue::error);
  // A custom backward that returns a wrongly shaped gradient is named in the error.
  auto c = t.record(
      a.value().clone(), {a}, [](const TD&, ad::GradSink<double>& s) { s.accumulate(0, TD::zeros({5})); }, "my_bad_op");
  try {
    t.backward(ad::sum(c));
    FAIL("expected fugue::error");
  } catch (const fugue::error& e) {
    CHECK(std::string(e.what()).find("my_bad_op") != std::string::npos);
  }
  // A Var that outlived clear() is detected.
  t.clear();
  CHECK_THROWS_AS(a.value(), fugue::error);
}

TEST_CASE("autodiff: the registry fails ops without checks and unregistered ops", "[autodiff][registry]") {
  // Registered (above) but never gradchecked: reported.
  const auto missing = ad::registry::unchecked("tests/autodiff/");
  CHECK(std::find(missing.begin(), missing.end(), "selftest_unchecked_op") != missing.end());
  // A named op that records a backward without FUGUE_AD_OP fails its gradcheck.
  auto r = ad::gradcheck(
      [](ad::Tape<D>& t, Vs v) {
        return t.record(
            ops::scale(v[0].value(), 3.0), {v[0]},
            [](const TD& g, ad::GradSink<double>& s) { s.accumulate(0, ops::scale(g, 3.0)); }, "not_registered_op");
      },
      {rnd({3}, 24)});
  CHECK(r.max_abs_error < 1e-8);  // the gradient itself is right...
  CHECK_FALSE(r.ok());            // ...but the op is not registered
  CHECK_FALSE(ad::registry::is_checked("not_registered_op"));
  // A wrong backward is caught with its worst element.
  auto w = ad::gradcheck(
      [](ad::Tape<D>& t, Vs v) {
        return ad::sum(t.record(
            ops::square(v[0].value()), {v[0]}, [](const TD& g, ad::GradSink<double>& s) { s.accumulate(0, g); },
            "square"));
      },
      {TD::from({1.0, 2.0}, {2})});
  CHECK_FALSE(w.ok());
  CHECK(w.worst.input == 0);
  CHECK(w.worst.index == 1);
  CHECK(w.worst.numeric == Approx(4.0));
}
