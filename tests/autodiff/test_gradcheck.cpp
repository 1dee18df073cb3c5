// Finite-difference checks (float64) of every differentiable op, declared as
// registry cases, plus the coverage rule: every op registered under
// fugue/autodiff/ must have been exercised by a passing check in this process.
#include <catch2/catch.hpp>

#include "common.hpp"

using namespace fugue_test;
namespace ad = fugue::ad;

#define UNARY_GRADCHECK_CASE(op, desc, input)                                       \
  FUGUE_AD_GRADCHECK_CASE(op, desc) {                                               \
    return ad::gradcheck([](ad::Tape<D>&, Vs v) { return ad::op(v[0]); }, {input}); \
  }
#define BINARY_GRADCHECK_CASE(op, desc, a, b)                                            \
  FUGUE_AD_GRADCHECK_CASE(op, desc) {                                                    \
    return ad::gradcheck([](ad::Tape<D>&, Vs v) { return ad::op(v[0], v[1]); }, {a, b}); \
  }

// --- elementwise --------------------------------------------------------------------
BINARY_GRADCHECK_CASE(add, "same shape", rnd({3, 4}, 1), rnd({3, 4}, 2))
BINARY_GRADCHECK_CASE(add, "row broadcast [3,4]+[4]", rnd({3, 4}, 1), rnd({4}, 2))
BINARY_GRADCHECK_CASE(add, "two-sided broadcast [2,1,4]+[3,1]", rnd({2, 1, 4}, 1), rnd({3, 1}, 2))
BINARY_GRADCHECK_CASE(add, "non-contiguous inputs", rnd({4, 3}, 1).t(), rnd({3, 8}, 2).slice(1, 0, 8, 2))
BINARY_GRADCHECK_CASE(sub, "broadcast [2,3,4]-[3,1]", rnd({2, 3, 4}, 3), rnd({3, 1}, 4))
BINARY_GRADCHECK_CASE(mul, "broadcast [1,4]*[3,1]", rnd({1, 4}, 5), rnd({3, 1}, 6))
BINARY_GRADCHECK_CASE(mul, "transposed view", rnd({4, 3}, 5).t(), rnd({3, 4}, 6))
BINARY_GRADCHECK_CASE(div, "broadcast, divisor away from 0", rnd({2, 3}, 7), away({3}, 8, 0.5, 2.0))
FUGUE_AD_GRADCHECK_CASE(div, "same input twice (x / x)") {
  return ad::gradcheck([](ad::Tape<D>&, Vs v) { return ad::div(ad::exp(v[0]), v[0]); }, {away({5}, 9)});
}
FUGUE_AD_GRADCHECK_CASE(scale, "x * 2.5") {
  return ad::gradcheck([](ad::Tape<D>&, Vs v) { return ad::scale(v[0], 2.5); }, {rnd({3, 2}, 10)});
}
FUGUE_AD_GRADCHECK_CASE(add_scalar, "x + 3 via operator") {
  return ad::gradcheck([](ad::Tape<D>&, Vs v) { return v[0] + 3.0; }, {rnd({3, 2}, 11)});
}
UNARY_GRADCHECK_CASE(neg, "plain", rnd({7}, 12))
UNARY_GRADCHECK_CASE(exp, "plain", rnd({2, 5}, 13))
UNARY_GRADCHECK_CASE(log, "positive inputs", rnd({2, 5}, 14, 0.3, 3.0))
UNARY_GRADCHECK_CASE(sqrt, "positive inputs, strided view", rnd({2, 10}, 15, 0.3, 3.0).slice(1, 1, 10, 3))
UNARY_GRADCHECK_CASE(square, "plain", rnd({9}, 16))
UNARY_GRADCHECK_CASE(abs, "away from the kink", away({3, 3}, 17))
UNARY_GRADCHECK_CASE(tanh, "plain", rnd({4, 4}, 18, -2.0, 2.0))
UNARY_GRADCHECK_CASE(sigmoid, "plain", rnd({4, 4}, 19, -4.0, 4.0))
UNARY_GRADCHECK_CASE(relu, "away from the kink, transposed", away({3, 4}, 20).t())
UNARY_GRADCHECK_CASE(softplus, "wide range", rnd({12}, 21, -20.0, 20.0))
FUGUE_AD_GRADCHECK_CASE(pow_scalar, "x^2.5, x > 0") {
  return ad::gradcheck([](ad::Tape<D>&, Vs v) { return ad::pow_scalar(v[0], 2.5); }, {rnd({6}, 22, 0.2, 2.0)});
}
FUGUE_AD_GRADCHECK_CASE(clamp, "values away from the bounds") {
  return ad::gradcheck([](ad::Tape<D>&, Vs v) { return ad::clamp(v[0], -0.5, 0.5); }, {away({4, 3}, 23, 0.1, 0.4)});
}
FUGUE_AD_GRADCHECK_CASE(clamp, "values outside the bounds get no gradient") {
  return ad::gradcheck([](ad::Tape<D>&, Vs v) { return ad::clamp(v[0], -0.5, 0.5); }, {away({8}, 24, 0.7, 2.0)});
}
FUGUE_AD_GRADCHECK_CASE(where, "broadcast mask") {
  TD mask = TD::from({1, 0, 1, 0}, {4});
  return ad::gradcheck([mask](ad::Tape<D>&, Vs v) { return ad::where(mask, v[0], v[1]); },
                       {rnd({3, 4}, 25), rnd({1, 4}, 26)});
}
FUGUE_AD_GRADCHECK_CASE(mask_mul, "padding mask [2,3,1] on [2,3,4]") {
  TD mask = TD::from({1, 1, 0, 1, 0, 0}, {2, 3, 1});
  return ad::gradcheck([mask](ad::Tape<D>&, Vs v) { return ad::mask_mul(v[0], mask); }, {rnd({2, 3, 4}, 27)});
}

// --- linear algebra -----------------------------------------------------------------
BINARY_GRADCHECK_CASE(matmul, "[3,4]x[4,5]", rnd({3, 4}, 30), rnd({4, 5}, 31))
BINARY_GRADCHECK_CASE(matmul, "transposed views", rnd({4, 3}, 30).t(), rnd({5, 4}, 31).t())
BINARY_GRADCHECK_CASE(matmul, "row vector (GEMV path)", rnd({1, 6}, 32), rnd({6, 3}, 33))
BINARY_GRADCHECK_CASE(matmul, "batched [2,3,4]x[2,4,5]", rnd({2, 3, 4}, 34), rnd({2, 4, 5}, 35))
BINARY_GRADCHECK_CASE(matmul, "shared right [2,3,4]x[4,5]", rnd({2, 3, 4}, 36), rnd({4, 5}, 37))
BINARY_GRADCHECK_CASE(matmul, "shared left [3,4]x[2,4,5]", rnd({3, 4}, 38), rnd({2, 4, 5}, 39))
BINARY_GRADCHECK_CASE(matmul, "batched with transposed view", rnd({2, 4, 3}, 34).transpose(1, 2), rnd({2, 4, 5}, 35))
FUGUE_AD_GRADCHECK_CASE(linear, "x [2,3,4], W [5,4], bias") {
  return ad::gradcheck([](ad::Tape<D>&, Vs v) { return ad::linear(v[0], v[1], v[2]); },
                       {rnd({2, 3, 4}, 40), rnd({5, 4}, 41), rnd({5}, 42)});
}
FUGUE_AD_GRADCHECK_CASE(linear, "no bias, 1-D input") {
  return ad::gradcheck([](ad::Tape<D>&, Vs v) { return ad::linear(v[0], v[1]); }, {rnd({4}, 43), rnd({3, 4}, 44)});
}

// --- reductions ---------------------------------------------------------------------
UNARY_GRADCHECK_CASE(sum, "all", rnd({3, 4}, 50))
UNARY_GRADCHECK_CASE(mean, "all, transposed", rnd({3, 4}, 51).t())
FUGUE_AD_GRADCHECK_CASE(sum_dim, "middle axis") {
  return ad::gradcheck([](ad::Tape<D>&, Vs v) { return ad::sum(v[0], 1); }, {rnd({2, 3, 4}, 52)});
}
FUGUE_AD_GRADCHECK_CASE(sum_dim, "last axis, keepdim") {
  return ad::gradcheck([](ad::Tape<D>&, Vs v) { return ad::sum(v[0], -1, true); }, {rnd({2, 3, 4}, 53)});
}
FUGUE_AD_GRADCHECK_CASE(mean_dim, "first axis, keepdim") {
  return ad::gradcheck([](ad::Tape<D>&, Vs v) { return ad::mean(v[0], 0, true); }, {rnd({3, 4}, 54)});
}
FUGUE_AD_GRADCHECK_CASE(mean_dim, "last axis") {
  return ad::gradcheck([](ad::Tape<D>&, Vs v) { return ad::mean(v[0], -1); }, {rnd({3, 4}, 55).t()});
}

// --- shapes -------------------------------------------------------------------------
FUGUE_AD_GRADCHECK_CASE(reshape, "of a non-contiguous view, with -1") {
  return ad::gradcheck([](ad::Tape<D>&, Vs v) { return ad::reshape(v[0], {-1, 2}); }, {rnd({3, 4}, 60).t()});
}
FUGUE_AD_GRADCHECK_CASE(transpose, "then a product") {
  return ad::gradcheck([](ad::Tape<D>&, Vs v) { return ad::mul(ad::transpose(v[0], 0, 2), v[1]); },
                       {rnd({2, 3, 4}, 61), rnd({4, 3, 2}, 62)});
}
FUGUE_AD_GRADCHECK_CASE(permute, "[2,3,4] -> [4,2,3]") {
  return ad::gradcheck([](ad::Tape<D>&, Vs v) { return ad::exp(ad::permute(v[0], {2, 0, 1})); }, {rnd({2, 3, 4}, 63)});
}
FUGUE_AD_GRADCHECK_CASE(slice, "step 2 on the last axis") {
  return ad::gradcheck([](ad::Tape<D>&, Vs v) { return ad::square(ad::slice(v[0], -1, 1, 6, 2)); }, {rnd({3, 6}, 64)});
}
FUGUE_AD_GRADCHECK_CASE(slice, "split into unequal parts") {
  return ad::gradcheck(
      [](ad::Tape<D>&, Vs v) {
        auto parts = ad::split(v[0], std::vector<index_t>{1, 3}, 1);
        return ad::add(ad::scale(parts[0], 2.0), ad::sum(parts[1], 1, true));
      },
      {rnd({2, 4}, 65)});
}
FUGUE_AD_GRADCHECK_CASE(select, "middle index") {
  return ad::gradcheck([](ad::Tape<D>&, Vs v) { return ad::tanh(ad::select(v[0], 1, 2)); }, {rnd({2, 4, 3}, 66)});
}
FUGUE_AD_GRADCHECK_CASE(concat, "three pieces on axis 1, one used twice") {
  return ad::gradcheck(
      [](ad::Tape<D>&, Vs v) {
        return ad::concat<D, cpu::native>({v[0], v[1], v[0]}, 1);
      },
      {rnd({2, 2}, 67), rnd({2, 3}, 68)});
}
FUGUE_AD_GRADCHECK_CASE(stack, "new last axis") {
  return ad::gradcheck(
      [](ad::Tape<D>&, Vs v) {
        return ad::stack<D, cpu::native>({v[0], v[1]}, -1);
      },
      {rnd({2, 3}, 69), rnd({2, 3}, 70).t().t()});
}

// --- nn -----------------------------------------------------------------------------
FUGUE_AD_GRADCHECK_CASE(embedding, "repeated indices, [2,3] index shape") {
  return ad::gradcheck(
      [](ad::Tape<D>&, Vs v) {
        static const int idx[] = {0, 3, 3, 1, 0, 3};
        return ad::embedding(v[0], std::span<const int>(idx), Shape{2, 3});
      },
      {rnd({5, 4}, 80)});
}
UNARY_GRADCHECK_CASE(softmax, "rows of 5", rnd({3, 5}, 81, -2.0, 2.0))
UNARY_GRADCHECK_CASE(log_softmax, "rows of 5, 3-D", rnd({2, 3, 5}, 82, -2.0, 2.0))
FUGUE_AD_GRADCHECK_CASE(layer_norm, "affine") {
  return ad::gradcheck([](ad::Tape<D>&, Vs v) { return ad::layer_norm(v[0], v[1], v[2], 1e-5); },
                       {rnd({2, 3, 6}, 83), rnd({6}, 84, 0.5, 1.5), rnd({6}, 85)});
}
FUGUE_AD_GRADCHECK_CASE(layer_norm, "plain, transposed input") {
  return ad::gradcheck([](ad::Tape<D>&, Vs v) { return ad::layer_norm(v[0], 1e-5); }, {rnd({5, 4}, 86).t()});
}
FUGUE_AD_GRADCHECK_CASE(dropout, "p = 0.3 in training") {
  return ad::gradcheck([](ad::Tape<D>&, Vs v) { return ad::dropout(v[0], 0.3); }, {rnd({4, 8}, 87)});
}

// --- losses ---------------------------------------------------------------------------
FUGUE_AD_GRADCHECK_CASE(softmax_cross_entropy, "mean") {
  return ad::gradcheck(
      [](ad::Tape<D>&, Vs v) {
        static const int labels[] = {2, 0, 4};
        return ad::softmax_cross_entropy(v[0], std::span<const int>(labels));
      },
      {rnd({3, 5}, 90, -2.0, 2.0)});
}
FUGUE_AD_GRADCHECK_CASE(softmax_cross_entropy, "sum, transposed logits") {
  return ad::gradcheck(
      [](ad::Tape<D>&, Vs v) {
        static const int labels[] = {1, 1, 0, 3};
        return ad::softmax_cross_entropy(v[0], std::span<const int>(labels), ad::Reduction::sum);
      },
      {rnd({4, 4}, 91, -2.0, 2.0).t()});
}
FUGUE_AD_GRADCHECK_CASE(soft_cross_entropy, "targets require grad, none reduction") {
  return ad::gradcheck([](ad::Tape<D>&, Vs v) { return ad::soft_cross_entropy(v[0], v[1], ad::Reduction::none); },
                       {rnd({3, 4}, 92), rnd({3, 4}, 93, 0.0, 1.0)});
}
FUGUE_AD_GRADCHECK_CASE(soft_cross_entropy, "mean") {
  return ad::gradcheck([](ad::Tape<D>&, Vs v) { return ad::soft_cross_entropy(v[0], v[1]); },
                       {rnd({2, 2, 4}, 94), ops::softmax(rnd({2, 2, 4}, 95))});
}
FUGUE_AD_GRADCHECK_CASE(sigmoid_bernoulli_log_loss, "sum") {
  return ad::gradcheck(
      [](ad::Tape<D>&, Vs v) { return ad::sigmoid_bernoulli_log_loss(v[0], v[1], ad::Reduction::sum); },
      {rnd({3, 4}, 96, -5.0, 5.0), rnd({3, 4}, 97, 0.0, 1.0)});
}
FUGUE_AD_GRADCHECK_CASE(mse, "mean") {
  return ad::gradcheck([](ad::Tape<D>&, Vs v) { return ad::mse(v[0], v[1]); }, {rnd({3, 4}, 98), rnd({3, 4}, 99)});
}
FUGUE_AD_GRADCHECK_CASE(l1, "none reduction, away from the kink") {
  return ad::gradcheck([](ad::Tape<D>&, Vs v) { return ad::l1(v[0], v[1], ad::Reduction::none); },
                       {away({3, 4}, 100), TD::zeros({3, 4})});
}
FUGUE_AD_GRADCHECK_CASE(gaussian_kl, "per example") {
  return ad::gradcheck([](ad::Tape<D>&, Vs v) { return ad::gaussian_kl(v[0], v[1]); },
                       {rnd({3, 4}, 101), rnd({3, 4}, 102, 0.3, 2.0)});
}

// --- a composite through Parameters ------------------------------------------------
FUGUE_AD_GRADCHECK_CASE(linear, "two-layer MLP with parameters and a loss") {
  static ad::Parameter<D> w1(rnd({5, 4}, 110)), b1(rnd({5}, 111)), w2(rnd({3, 5}, 112)), b2(rnd({3}, 113));
  static const TD x = rnd({6, 4}, 114);
  static const int labels[] = {0, 1, 2, 2, 1, 0};
  return ad::gradcheck_params(
      [](ad::Tape<D>& t) {
        auto h = ad::tanh(ad::linear(t.constant(x), t.param(w1), t.param(b1)));
        auto logits = ad::linear(h, t.param(w2), t.param(b2));
        return ad::softmax_cross_entropy(logits, std::span<const int>(labels));
      },
      {&w1, &b1, &w2, &b2});
}

TEST_CASE("autodiff: every op's backward matches central differences in float64", "[autodiff][gradcheck]") {
  const auto results = ad::run_gradcheck_cases();
  REQUIRE(results.size() >= 40);
  for (const auto& r : results) {
    INFO(r.summary());
    CHECK(r.ok);
  }
}

TEST_CASE("autodiff: every registered op under fugue/autodiff/ has a passing gradcheck", "[autodiff][registry]") {
  ad::run_gradcheck_cases();
  const auto missing = ad::registry::unchecked("fugue/autodiff/");
  std::string list;
  for (const auto& m : missing) list += m + " ";
  INFO("ops without a passing gradcheck: " << list);
  CHECK(missing.empty());
  CHECK(ad::registry::conflicts().empty());
  CHECK(ad::registry::registered().size() >= 40);
}
