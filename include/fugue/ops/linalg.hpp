// fugue/ops/linalg.hpp — matrix products on tensors.
//
// Contract: matmul(a, b) multiplies [M, K] x [K, N] -> [M, N], or batched
// [Bt, M, K] x [Bt, K, N] -> [Bt, M, N] (b may also be an unbatched [K, N]
// shared by all batches). Transposed views (x.t(), transpose(1, 2)) are passed to
// the GEMM as transpose flags, not copied. Shape mismatches throw fugue::error.
// ShapedTensor overloads check matching inner extents at compile time.
#pragma once

#include "fugue/tensor.hpp"
#include "fugue/core/functors.hpp"

namespace fugue::ops {

namespace detail {
// How a rank-2 (or trailing 2 dims of a) view maps onto a GEMM operand.
struct gemm_operand {
  bool trans = false;
  index_t ld = 0;
  bool ok = false;
};
template <class T, class B>
gemm_operand as_gemm_operand(const Tensor<T, B>& m) {
  const int r = m.rank();
  const index_t rows = m.dim(r - 2), cols = m.dim(r - 1);
  const index_t s0 = m.strides()[r - 2], s1 = m.strides()[r - 1];
  if ((s1 == 1 || cols == 1) && (s0 >= cols || rows == 1)) return {false, rows == 1 ? cols : s0, true};
  if ((s0 == 1 || rows == 1) && (s1 >= rows || cols == 1)) return {true, cols == 1 ? rows : s1, true};
  return {};
}
}  // namespace detail

// C = A B (+ into `out`, which must have the right shape, when given).
template <class T, class B>
Tensor<T, B> matmul(const Tensor<T, B>& a, const Tensor<T, B>& b) {
  FUGUE_CHECK(a.rank() >= 2 && a.rank() <= 3 && b.rank() >= 2 && b.rank() <= 3, "matmul of shapes ", a.shape().str(),
              " and ", b.shape().str(), ": ranks 2 or 3 expected");
  const index_t M = a.dim(-2), K = a.dim(-1), N = b.dim(-1);
  FUGUE_CHECK(b.dim(-2) == K, "matmul inner dimensions differ: ", a.shape().str(), " x ", b.shape().str());
  if (a.rank() == 2 && b.rank() == 2) {
    Tensor<T, B> ac = a, bc = b;
    auto oa = detail::as_gemm_operand(ac), ob = detail::as_gemm_operand(bc);
    if (!oa.ok) {
      ac = a.clone();
      oa = detail::as_gemm_operand(ac);
    }
    if (!ob.ok) {
      bc = b.clone();
      ob = detail::as_gemm_operand(bc);
    }
    auto c = Tensor<T, B>::empty({M, N});
    if (M == 1 && !ob.trans) {
      // Row-vector times matrix: y = B^T x, the batch-1 recurrent shape.
      B::gemv(true, K, N, T(1), bc.data(), ob.ld, ac.data(), T(0), c.data());
    } else if (M == 1 && ob.trans) {
      B::gemv(false, N, K, T(1), bc.data(), ob.ld, ac.data(), T(0), c.data());
    } else {
      B::gemm(oa.trans, ob.trans, M, N, K, T(1), ac.data(), oa.ld, bc.data(), ob.ld, T(0), c.data(), N);
    }
    return c;
  }
  const index_t batch = a.rank() == 3 ? a.dim(0) : b.dim(0);
  FUGUE_CHECK(a.rank() == 2 || b.rank() == 2 || a.dim(0) == b.dim(0), "matmul batch sizes differ: ", a.shape().str(),
              " x ", b.shape().str());
  if (a.rank() == 3 && b.rank() == 2) {
    // [Bt, M, K] x [K, N]: one GEMM over the flattened batch when a is contiguous.
    if (a.is_contiguous()) return matmul(a.reshape({batch * M, K}), b).reshape({batch, M, N});
  }
  auto c = Tensor<T, B>::empty({batch, M, N});
  Tensor<T, B> ac = a.rank() == 3 ? a : a.unsqueeze(0).broadcast_to({batch, M, K});
  Tensor<T, B> bc = b.rank() == 3 ? b : b.unsqueeze(0).broadcast_to({batch, K, N});
  auto oa = detail::as_gemm_operand(ac), ob = detail::as_gemm_operand(bc);
  if (!oa.ok) {
    ac = ac.clone();
    oa = detail::as_gemm_operand(ac);
  }
  if (!ob.ok) {
    bc = bc.clone();
    ob = detail::as_gemm_operand(bc);
  }
  B::gemm_batched(oa.trans, ob.trans, M, N, K, T(1), ac.data(), oa.ld, ac.strides()[0], bc.data(), ob.ld,
                  bc.strides()[0], T(0), c.data(), N, M * N, batch);
  return c;
}

// Affine map y = x W^T + b with W [Out, In] (PyTorch's layout) and x [..., In].
template <class T, class B>
Tensor<T, B> linear(const Tensor<T, B>& x, const Tensor<T, B>& w, const Tensor<T, B>* bias = nullptr) {
  FUGUE_CHECK(w.rank() == 2 && x.rank() >= 1 && x.dim(-1) == w.dim(1), "linear: input ", x.shape().str(),
              " does not match weight ", w.shape().str(), " ([out, in])");
  const index_t in = w.dim(1), out = w.dim(0);
  Tensor<T, B> x2 = x.contiguous().reshape({-1, in});
  Tensor<T, B> y = matmul(x2, w.t());
  if (bias) {
    FUGUE_CHECK(bias->rank() == 1 && bias->dim(0) == out, "linear: bias ", bias->shape().str(), " for ", out,
                " outputs");
    const index_t rows = y.dim(0);
    Tensor<T, B> bc = bias->contiguous();
    for (index_t r = 0; r < rows; ++r) B::zip(out, y.data() + r * out, bc.data(), y.data() + r * out, fn::add{});
  }
  Shape s = x.shape();
  s[-1] = out;
  return y.reshape(s);
}

// Compile-time checked product of statically shaped matrices.
template <class T, class B, class EA, class EB>
  requires matmul_compatible<EA, EB>
ShapedTensor<T, matmul_extents<EA, EB>, B> matmul(const ShapedTensor<T, EA, B>& a, const ShapedTensor<T, EB, B>& b) {
  return ShapedTensor<T, matmul_extents<EA, EB>, B>(matmul(a.tensor(), b.tensor()));
}

}  // namespace fugue::ops
