// fugue/autodiff/ops/linalg.hpp — differentiable matrix products.
//
// Contract: matmul(a, b) is fugue::ops::matmul with its shapes: [M,K]x[K,N],
// [Bt,M,K]x[Bt,K,N], [Bt,M,K]x[K,N] (b shared: its gradient sums over the
// batch) and [M,K]x[Bt,K,N]. Transposed views are passed to the GEMM as flags in
// both directions. linear(x, W, b) is y = x W^T + b with W [out, in] (PyTorch's
// layout), x [..., in]; the bias is optional.
#pragma once

#include "fugue/autodiff/ops/common.hpp"

namespace fugue::ad {

FUGUE_AD_OP(matmul)
FUGUE_AD_OP(linear)

template <Scalar T, Backend B>
Var<T, B> matmul(const Var<T, B>& a, const Var<T, B>& b) {
  auto& t = detail::common_tape({&a, &b}, "matmul");
  return t.record(
      ops::matmul(a.value(), b.value()), {a, b},
      [](const Tensor<T, B>& g, GradSink<T, B>& s) {
        const Tensor<T, B>& A = s.input(0);
        const Tensor<T, B>& Bm = s.input(1);
        const int ra = A.rank(), rb = Bm.rank();
        if (s.needs(0)) {
          // dA = g B^T, summed over the batch when A is unbatched.
          Tensor<T, B> bt = rb == 2 ? Bm.t() : Bm.transpose(1, 2);
          Tensor<T, B> ga = ops::matmul(g, bt);
          if (ra == 2 && ga.rank() == 3) ga = ops::sum(ga, 0);
          s.accumulate(0, ga);
        }
        if (s.needs(1)) {
          Tensor<T, B> gb;
          if (ra == 3 && rb == 2) {
            // dB = sum_b A_b^T g_b = A2^T g2 over the flattened batch.
            const index_t K = A.dim(2), N = g.dim(2);
            gb = ops::matmul(A.contiguous().reshape({-1, K}).t(), g.reshape({-1, N}));
          } else {
            Tensor<T, B> at = ra == 2 ? A.t() : A.transpose(1, 2);
            gb = ops::matmul(at, g);
          }
          s.accumulate(1, gb);
        }
      },
      "matmul");
}

namespace detail {
template <Scalar T, Backend B>
void linear_backward(const Tensor<T, B>& g, GradSink<T, B>& s) {
  const Tensor<T, B>& x = s.input(0);
  const Tensor<T, B>& W = s.input(1);
  const index_t in = W.dim(1), out = W.dim(0);
  Tensor<T, B> g2 = g.reshape({-1, out});
  if (s.needs(0)) s.accumulate(0, ops::matmul(g2, W).reshape(x.shape()));
  if (s.needs(1)) s.accumulate(1, ops::matmul(g2.t(), x.contiguous().reshape({-1, in})));
  if (s.size() > 2 && s.needs(2)) {
    auto gb = Tensor<T, B>::empty({out});
    B::col_sum(g2.dim(0), out, g2.data(), gb.data());
    s.accumulate(2, gb);
  }
}
}  // namespace detail

template <Scalar T, Backend B>
Var<T, B> linear(const Var<T, B>& x, const Var<T, B>& w) {
  auto& t = detail::common_tape({&x, &w}, "linear");
  return t.record(ops::linear(x.value(), w.value()), {x, w}, &detail::linear_backward<T, B>, "linear");
}

template <Scalar T, Backend B>
Var<T, B> linear(const Var<T, B>& x, const Var<T, B>& w, const Var<T, B>& bias) {
  auto& t = detail::common_tape({&x, &w, &bias}, "linear");
  return t.record(ops::linear(x.value(), w.value(), &bias.value()), {x, w, bias}, &detail::linear_backward<T, B>,
                  "linear");
}

}  // namespace fugue::ad
