// fugue/ops/concat.hpp — joining tensors (no autodiff).
//
// Contract: concat_last(a, b): [..., Ha] ++ [..., Hb] -> [..., Ha + Hb] along the last axis, a new
// contiguous tensor; a and b may be any views, their ranks and leading extents must agree (else
// fugue::error naming both shapes). Rows are moved with the backend's copy, so it runs on every
// backend. (The taped form is ad::concat; nn's recurrent layers use this one for their tape-free
// bidirectional outputs.)
#pragma once

#include "fugue/tensor.hpp"

namespace fugue::ops {

template <class T, class B>
Tensor<T, B> concat_last(const Tensor<T, B>& a, const Tensor<T, B>& b) {
  const Tensor<T, B> av = a.contiguous(), bv = b.contiguous();
  FUGUE_CHECK(av.rank() == bv.rank() && av.rank() >= 1, "concat of shapes ", av.shape().str(), " and ",
              bv.shape().str());
  for (int d = 0; d + 1 < av.rank(); ++d)
    FUGUE_CHECK(av.dim(d) == bv.dim(d), "concat of shapes ", av.shape().str(), " and ", bv.shape().str());
  const index_t na = av.dim(-1), nb = bv.dim(-1), rows = na ? av.numel() / na : (nb ? bv.numel() / nb : 0);
  Shape s = av.shape();
  s[-1] = na + nb;
  auto y = Tensor<T, B>::empty(s);
  for (index_t r = 0; r < rows; ++r) {
    B::copy(y.data() + r * (na + nb), av.data() + r * na, sizeof(T) * std::size_t(na));
    B::copy(y.data() + r * (na + nb) + na, bv.data() + r * nb, sizeof(T) * std::size_t(nb));
  }
  return y;
}

}  // namespace fugue::ops
