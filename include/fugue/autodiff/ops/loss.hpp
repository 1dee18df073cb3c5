// fugue/autodiff/ops/loss.hpp — differentiable losses.
//
// Contract (N examples in the leading axes, classes/features in the last):
//  * softmax_cross_entropy(logits [N, C], labels (N ints in [0, C)), reduction):
//    -log softmax(logits)[i, label_i]; reduction mean (default) / sum over N, or
//    none ([N]). Fused backward: (softmax - onehot) * g. Every backend (on device ones the
//    labels are copied to device memory once per call).
//  * soft_cross_entropy(logits [..., C], targets [..., C], reduction):
//    -sum_c t_c log softmax(x)_c per row; targets may require grad.
//  * sigmoid_bernoulli_log_loss(logits, targets, reduction): elementwise
//    -[t log sigmoid(x) + (1 - t) log(1 - sigmoid(x))] = softplus(x) - t x
//    (stable for any x; TF's sigmoid_cross_entropy_with_logits); mean / sum over
//    all elements, or none (same shape). Shapes must match.
//  * mse(a, b) = mean((a - b)^2), l1(a, b) = mean(|a - b|) over all elements
//    (or sum / none). Shapes must match.
//  * gaussian_kl(mu, sigma) = KL(N(mu, sigma^2) || N(0, 1)) summed over the
//    last axis: 0.5 sum(mu^2 + sigma^2 - 1 - 2 log sigma), shape [...] (one per
//    example). sigma must be > 0.
#pragma once

#include <span>
#include <vector>

#include "fugue/autodiff/ops/common.hpp"
#include "fugue/autodiff/ops/grad_functors.hpp"

namespace fugue::ad {

FUGUE_AD_OP(softmax_cross_entropy)
FUGUE_AD_OP(soft_cross_entropy)
FUGUE_AD_OP(sigmoid_bernoulli_log_loss)
FUGUE_AD_OP(mse)
FUGUE_AD_OP(l1)
FUGUE_AD_OP(gaussian_kl)

namespace detail {
// Reduces per-element losses `v` (shape of the per-example/element loss).
template <class T, class B>
Tensor<T, B> reduce_loss(const Tensor<T, B>& v, Reduction r) {
  switch (r) {
    case Reduction::mean: return ops::mean(v);
    case Reduction::sum: return ops::sum(v);
    default: return v;
  }
}
// The upstream gradient for each element of a reduced loss of `n` elements, as a tensor of `shape`.
template <class T, class B>
Tensor<T, B> expand_loss_grad(const Tensor<T, B>& g, Reduction r, const Shape& shape) {
  if (r == Reduction::none) return g;
  const T w = r == Reduction::mean && shape.numel() ? T(1) / T(shape.numel()) : T(1);
  return Tensor<T, B>::full(shape, g.item() * w);
}
}  // namespace detail

// Device backends: the labels travel as T values (exact below 2^24 classes) and the pick and
// the gradient are gathers of one element per call.
template <class T>
struct cross_entropy_pick_at {  // per[i] = -logp[i, label_i]
  const T* logp;
  const T* label;
  index_t C;
  FUGUE_HOST_DEVICE T operator()(std::uint64_t i) const { return -logp[index_t(i) * C + index_t(label[i])]; }
};
template <class T>
struct cross_entropy_grad_at {  // gx[i, c] = exp(logp[i, c]) g_i - [c == label_i] g_i
  const T* logp;
  const T* label;
  const T* g;
  index_t C;
  FUGUE_HOST_DEVICE T operator()(std::uint64_t idx) const {
    const index_t i = index_t(idx) / C, c = index_t(idx) - i * C;
    const T gv = g[i], v = lane::exp(logp[idx]) * gv;
    return c == index_t(label[i]) ? v - gv : v;
  }
};

template <Scalar T, Backend B>
Var<T, B> softmax_cross_entropy(const Var<T, B>& logits, std::span<const int> labels,
                                Reduction reduction = Reduction::mean) {
  FUGUE_CHECK(logits.rank() == 2, "softmax_cross_entropy: logits must be [N, C], got ", logits.shape().str());
  const index_t N = logits.dim(0), C = logits.dim(1);
  FUGUE_CHECK(index_t(labels.size()) == N, "softmax_cross_entropy: ", labels.size(), " labels for ", N, " rows");
  for (int l : labels) FUGUE_CHECK(l >= 0 && l < C, "softmax_cross_entropy: label ", l, " out of range [0, ", C, ")");
  Tensor<T, B> logp = ops::log_softmax(logits.value());
  auto per = Tensor<T, B>::empty({N});
  Tensor<T, B> lab_t;  // device backends: the labels in device memory
  if constexpr (B::host_accessible) {
    for (index_t i = 0; i < N; ++i) per.data()[i] = -logp.data()[i * C + labels[std::size_t(i)]];
  } else {
    FUGUE_CHECK(C <= (index_t(1) << 24), "softmax_cross_entropy: ", C, " classes on ", B::name(),
                " (labels travel as floating-point values, exact up to 2^24)");
    lab_t = Tensor<T, B>::from(std::vector<T>(labels.begin(), labels.end()), {N});
    B::generate(N, per.data(), cross_entropy_pick_at<T>{logp.data(), lab_t.data(), C});
  }
  return logits.tape().record(
      detail::reduce_loss(per, reduction), {logits},
      [logp, lab_t, lab = std::vector<int>(labels.begin(), labels.end()), reduction, N, C](const Tensor<T, B>& g,
                                                                                           GradSink<T, B>& s) {
        if (!s.needs(0)) return;
        Tensor<T, B> gi = detail::expand_loss_grad(g, reduction, Shape{N}).contiguous();
        auto gx = Tensor<T, B>::empty({N, C});
        if constexpr (B::host_accessible) {
          for (index_t i = 0; i < N; ++i) {
            const T gv = gi.data()[i];
            B::map(C, logp.data() + i * C, gx.data() + i * C,
                   [gv](auto lp) { return fn::exp{}(lp)*lane::k<decltype(lp)>(gv); });
            gx.data()[i * C + lab[std::size_t(i)]] -= gv;
          }
        } else {
          B::generate(N * C, gx.data(), cross_entropy_grad_at<T>{logp.data(), lab_t.data(), gi.data(), C});
        }
        s.accumulate(0, gx);
      },
      "softmax_cross_entropy");
}

template <Scalar T, Backend B>
Var<T, B> soft_cross_entropy(const Var<T, B>& logits, const Var<T, B>& targets, Reduction reduction = Reduction::mean) {
  auto& t = detail::common_tape({&logits, &targets}, "soft_cross_entropy");
  FUGUE_CHECK(logits.rank() >= 1 && logits.shape() == targets.shape(), "soft_cross_entropy: logits ",
              logits.shape().str(), " and targets ", targets.shape().str(), " must have one shape");
  Tensor<T, B> logp = ops::log_softmax(logits.value());
  Tensor<T, B> per = ops::neg(ops::sum(detail::zip(targets.value(), logp, fn::mul{}), -1));
  const Shape per_shape = per.shape();
  return t.record(
      detail::reduce_loss(per, reduction), {logits, targets},
      [logp, reduction, per_shape](const Tensor<T, B>& g, GradSink<T, B>& s) {
        const Tensor<T, B> gi = detail::expand_loss_grad(g, reduction, per_shape).unsqueeze(-1);
        const Shape& full = logp.shape();
        const Tensor<T, B> gb = gi.broadcast_to(full).contiguous();
        if (s.needs(0)) {
          // d/dx = softmax(x) * sum_c t_c - t, times the row's upstream gradient.
          Tensor<T, B> tsum = ops::sum(s.input(1), -1, true).broadcast_to(full).contiguous();
          Tensor<T, B> d = detail::zip3(logp, tsum, s.input(1), fn::exp_mul_sub{});
          s.accumulate(0, detail::zip(d, gb, fn::mul{}));
        }
        if (s.needs(1)) s.accumulate(1, detail::zip(logp, gb, fn::neg_mul{}));
      },
      "soft_cross_entropy");
}

template <Scalar T, Backend B>
Var<T, B> sigmoid_bernoulli_log_loss(const Var<T, B>& logits, const Var<T, B>& targets,
                                     Reduction reduction = Reduction::mean) {
  auto& t = detail::common_tape({&logits, &targets}, "sigmoid_bernoulli_log_loss");
  FUGUE_CHECK(logits.shape() == targets.shape(), "sigmoid_bernoulli_log_loss: logits ", logits.shape().str(),
              " and targets ", targets.shape().str(), " must have one shape");
  Tensor<T, B> per = detail::zip(logits.value(), targets.value(), fn::bernoulli_log_loss{});
  const Shape shape = per.shape();
  return t.record(
      detail::reduce_loss(per, reduction), {logits, targets},
      [reduction, shape](const Tensor<T, B>& g, GradSink<T, B>& s) {
        const Tensor<T, B> ge = detail::expand_loss_grad(g, reduction, shape);
        if (s.needs(0)) s.accumulate(0, detail::zip3(s.input(0), s.input(1), ge, fn::bernoulli_grad{}));
        if (s.needs(1)) s.accumulate(1, detail::zip(s.input(0), ge, fn::neg_mul{}));
      },
      "sigmoid_bernoulli_log_loss");
}

template <Scalar T, Backend B>
Var<T, B> mse(const Var<T, B>& a, const Var<T, B>& b, Reduction reduction = Reduction::mean) {
  auto& t = detail::common_tape({&a, &b}, "mse");
  FUGUE_CHECK(a.shape() == b.shape(), "mse: shapes ", a.shape().str(), " and ", b.shape().str(), " differ");
  Tensor<T, B> d = ops::sub(a.value(), b.value());
  const Shape shape = d.shape();
  return t.record(
      detail::reduce_loss(ops::square(d), reduction), {a, b},
      [d, reduction, shape](const Tensor<T, B>& g, GradSink<T, B>& s) {
        const Tensor<T, B> ge = detail::expand_loss_grad(g, reduction, shape);
        Tensor<T, B> gd = detail::zip(d, ge, fn::twice_mul{});
        if (s.needs(0)) s.accumulate(0, gd);
        if (s.needs(1)) s.accumulate(1, ops::neg(gd));
      },
      "mse");
}

template <Scalar T, Backend B>
Var<T, B> l1(const Var<T, B>& a, const Var<T, B>& b, Reduction reduction = Reduction::mean) {
  auto& t = detail::common_tape({&a, &b}, "l1");
  FUGUE_CHECK(a.shape() == b.shape(), "l1: shapes ", a.shape().str(), " and ", b.shape().str(), " differ");
  Tensor<T, B> d = ops::sub(a.value(), b.value());
  const Shape shape = d.shape();
  return t.record(
      detail::reduce_loss(ops::unary(d, fn::abs{}), reduction), {a, b},
      [d, reduction, shape](const Tensor<T, B>& g, GradSink<T, B>& s) {
        const Tensor<T, B> ge = detail::expand_loss_grad(g, reduction, shape);
        Tensor<T, B> gd = detail::zip(ge, d, fn::sign_grad{});  // sign(d) * g
        if (s.needs(0)) s.accumulate(0, gd);
        if (s.needs(1)) s.accumulate(1, ops::neg(gd));
      },
      "l1");
}

template <Scalar T, Backend B>
Var<T, B> gaussian_kl(const Var<T, B>& mu, const Var<T, B>& sigma) {
  auto& t = detail::common_tape({&mu, &sigma}, "gaussian_kl");
  FUGUE_CHECK(mu.rank() >= 1 && mu.shape() == sigma.shape(), "gaussian_kl: mu ", mu.shape().str(), " and sigma ",
              sigma.shape().str(), " must have one shape of rank >= 1");
  Tensor<T, B> e = detail::zip(mu.value(), sigma.value(), fn::gaussian_kl_terms{});
  return t.record(
      ops::sum(e, -1), {mu, sigma},
      [](const Tensor<T, B>& g, GradSink<T, B>& s) {
        const Shape& full = s.input(0).shape();
        const Tensor<T, B> gb = g.unsqueeze(-1).broadcast_to(full).contiguous();
        if (s.needs(0)) s.accumulate(0, detail::zip(s.input(0), gb, fn::mul{}));
        if (s.needs(1)) s.accumulate(1, detail::zip(s.input(1), gb, fn::kl_sigma_grad{}));
      },
      "gaussian_kl");
}

}  // namespace fugue::ad
