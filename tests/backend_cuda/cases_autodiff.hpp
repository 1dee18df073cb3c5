// Conformance cases for the autodiff tape: each differentiable op's value and the gradients
// of all its inputs, on every backend under test against cpu::native: the Thrust host
// systems in CI, cuda::device where a GPU exists (the backward rules are portable functors,
// fugue/autodiff/ops/grad_functors.hpp). Ops that need a host-accessible backend (embedding,
// softmax_cross_entropy) are not here.
#pragma once

#include "conformance.hpp"

namespace conformance {

inline constexpr int cross_entropy_labels[5] = {3, 0, 8, 8, 5};

template <class T, class Backends>
void autodiff_cases() {
  const std::string ty = sizeof(T) == 4 ? " f32" : " f64";
  using fugue::Shape;
  // One case per op: f(vars) over the shapes given, inputs uniform in [lo, hi).
#define CONF_AD(title, shapes, lo, hi, tolerance, ...)                                           \
  check<T, Backends>(                                                                            \
      std::string(title) + ty,                                                                   \
      [&]<class B>() {                                                                           \
        return value_and_grads<T, B>([&](std::vector<ad::Var<T, B>>& v) { return __VA_ARGS__; }, \
                                     std::vector<Shape> shapes, __LINE__, lo, hi);               \
      },                                                                                         \
      tolerance);
  CONF_AD("ad add (broadcast)", ({{4, 5}, {5}}), -1, 1, tight<T>(), ad::add(v[0], v[1]))
  CONF_AD("ad sub (broadcast)", ({{3, 1, 4}, {2, 4}}), -1, 1, tight<T>(), ad::sub(v[0], v[1]))
  CONF_AD("ad mul", ({{6, 7}, {6, 7}}), -1, 1, tight<T>(), ad::mul(v[0], v[1]))
  CONF_AD("ad div", ({{6, 7}, {6, 7}}), 0.5, 2, loose<T>(), ad::div(v[0], v[1]))
  CONF_AD("ad scale, add_scalar, neg", ({{5, 3}}), -1, 1, tight<T>(),
          ad::neg(ad::add_scalar(ad::scale(v[0], T(3)), T(1))))
  CONF_AD("ad exp", ({{40}}), -3, 3, loose<T>(), ad::exp(v[0]))
  CONF_AD("ad log", ({{40}}), 0.1, 5, loose<T>(), ad::log(v[0]))
  CONF_AD("ad sqrt", ({{40}}), 0.1, 5, loose<T>(), ad::sqrt(v[0]))
  CONF_AD("ad square, abs", ({{40}}), -2, 2, tight<T>(), ad::abs(ad::square(v[0])))
  CONF_AD("ad tanh", ({{40}}), -4, 4, loose<T>(), ad::tanh(v[0]))
  CONF_AD("ad sigmoid", ({{40}}), -8, 8, loose<T>(), ad::sigmoid(v[0]))
  CONF_AD("ad relu", ({{40}}), -1, 1, tight<T>(), ad::relu(v[0]))
  CONF_AD("ad softplus", ({{40}}), -8, 8, loose<T>(), ad::softplus(v[0]))
  CONF_AD("ad pow_scalar", ({{40}}), 0.2, 2, loose<T>(), ad::pow_scalar(v[0], T(2.5)))
  CONF_AD("ad clamp", ({{40}}), -2, 2, tight<T>(), ad::clamp(v[0], T(-0.5), T(0.7)))
  CONF_AD("ad matmul", ({{9, 13}, {13, 7}}), -1, 1, loose<T>(), ad::matmul(v[0], v[1]))
  CONF_AD("ad batched matmul", ({{3, 4, 5}, {3, 5, 6}}), -1, 1, loose<T>(), ad::matmul(v[0], v[1]))
  CONF_AD("ad linear with bias", ({{2, 3, 8}, {5, 8}, {5}}), -1, 1, loose<T>(), ad::linear(v[0], v[1], v[2]))
  CONF_AD("ad sum, mean", ({{6, 9}}), -1, 1, loose<T>(), ad::add(ad::sum(v[0]), ad::mean(v[0])))
  CONF_AD("ad sum / mean over an axis", ({{4, 5, 6}}), -1, 1, loose<T>(), ad::add(ad::sum(v[0], 1), ad::mean(v[0], 1)))
  CONF_AD("ad reshape, transpose, permute", ({{2, 3, 4}}), -1, 1, tight<T>(),
          ad::permute(ad::transpose(ad::reshape(v[0], {4, 3, 2}), 0, 1), std::vector<int>{2, 0, 1}))
  CONF_AD("ad slice, select", ({{5, 6}}), -1, 1, tight<T>(),
          ad::mul(ad::slice(v[0], 1, 1, 6, 2), ad::slice(ad::select(v[0], 0, 2), 0, 0, 3)))
  CONF_AD("ad concat, stack", ({{2, 3}, {2, 3}}), -1, 1, tight<T>(),
          ad::add(ad::concat(std::vector<ad::Var<T, B>>{v[0], v[1]}, 1),
                  ad::reshape(ad::stack(std::vector<ad::Var<T, B>>{v[1], v[0]}, 1), {2, 6})))
  CONF_AD("ad softmax", ({{5, 17}}), -4, 4, loose<T>(), ad::softmax(v[0]))
  CONF_AD("ad log_softmax", ({{5, 17}}), -4, 4, loose<T>(), ad::log_softmax(v[0]))
  CONF_AD("ad layer_norm with gamma and beta", ({{6, 20}, {20}, {20}}), -2, 2, loose<T>(),
          ad::layer_norm(v[0], v[1], v[2], T(1e-5)))
  CONF_AD("ad layer_norm without parameters", ({{6, 20}}), -2, 2, loose<T>(), ad::layer_norm(v[0], T(1e-5)))
  CONF_AD("ad mse", ({{7, 3}, {7, 3}}), -1, 1, loose<T>(), ad::mse(v[0], v[1]))
  CONF_AD("ad gaussian_kl", ({{4, 6}, {4, 6}}), 0.3, 2, loose<T>(), ad::gaussian_kl(v[0], v[1]))
  CONF_AD("ad soft_cross_entropy", ({{4, 9}, {4, 9}}), 0.05, 1, loose<T>(), ad::soft_cross_entropy(v[0], v[1]))
  CONF_AD("ad sigmoid_bernoulli_log_loss", ({{4, 9}, {4, 9}}), 0.05, 1, loose<T>(),
          ad::sigmoid_bernoulli_log_loss(v[0], v[1]))
  CONF_AD("ad softmax_cross_entropy (mean)", ({{5, 9}}), -2, 2, loose<T>(),
          ad::softmax_cross_entropy(v[0], std::span<const int>(cross_entropy_labels)))
  CONF_AD("ad softmax_cross_entropy (none: per-row seed)", ({{5, 9}}), -2, 2, loose<T>(),
          ad::softmax_cross_entropy(v[0], std::span<const int>(cross_entropy_labels), ad::Reduction::none))
  CONF_AD("ad dropout (train mode: the tape's Philox mask)", ({{9, 31}}), -1, 1, tight<T>(), ad::dropout(v[0], T(0.3)))
  CONF_AD("ad tanh(matmul) chain", ({{8, 12}, {12, 12}, {12}}), -1, 1, loose<T>(),
          ad::sum(ad::tanh(ad::add(ad::matmul(ad::tanh(ad::matmul(v[0], v[1])), v[1]), v[2]))))
#undef CONF_AD
}

}  // namespace conformance
