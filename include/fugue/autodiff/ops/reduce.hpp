// fugue/autodiff/ops/reduce.hpp — differentiable sums and means.
//
// Contract: sum(x)/mean(x) reduce everything to a rank-0 Var; sum(x, dim,
// keepdim)/mean(x, dim, keepdim) reduce one axis (negative dims count from the
// back). The backward broadcasts the gradient back without materialising it
// until a consumer needs it.
#pragma once

#include "fugue/autodiff/ops/common.hpp"

namespace fugue::ad {

FUGUE_AD_OP(sum)
FUGUE_AD_OP(sum_dim)
FUGUE_AD_OP(mean)
FUGUE_AD_OP(mean_dim)

template <Scalar T, Backend B>
Var<T, B> sum(const Var<T, B>& x) {
  return x.tape().record(
      ops::sum(x.value()), {x},
      [](const Tensor<T, B>& g, GradSink<T, B>& s) { s.accumulate(0, g.broadcast_to(s.input(0).shape())); }, "sum");
}

template <Scalar T, Backend B>
Var<T, B> mean(const Var<T, B>& x) {
  const T inv = x.numel() ? T(1) / T(x.numel()) : T(0);
  return x.tape().record(
      ops::mean(x.value()), {x},
      [inv](const Tensor<T, B>& g, GradSink<T, B>& s) {
        s.accumulate(0, ops::scale(g, inv).broadcast_to(s.input(0).shape()));
      },
      "mean");
}

template <Scalar T, Backend B>
Var<T, B> sum(const Var<T, B>& x, int dim, bool keepdim = false) {
  const int a = x.shape().axis(dim);
  return x.tape().record(
      ops::sum(x.value(), a, keepdim), {x},
      [a, keepdim](const Tensor<T, B>& g, GradSink<T, B>& s) {
        const Tensor<T, B> gk = keepdim ? g : g.unsqueeze(a);
        s.accumulate(0, gk.broadcast_to(s.input(0).shape()));
      },
      "sum_dim");
}

template <Scalar T, Backend B>
Var<T, B> mean(const Var<T, B>& x, int dim, bool keepdim = false) {
  const int a = x.shape().axis(dim);
  const T inv = T(1) / T(x.dim(a));
  return x.tape().record(
      ops::mean(x.value(), a, keepdim), {x},
      [a, keepdim, inv](const Tensor<T, B>& g, GradSink<T, B>& s) {
        Tensor<T, B> gs = ops::scale(g, inv);
        if (!keepdim) gs = gs.unsqueeze(a);
        s.accumulate(0, gs.broadcast_to(s.input(0).shape()));
      },
      "mean_dim");
}

}  // namespace fugue::ad
