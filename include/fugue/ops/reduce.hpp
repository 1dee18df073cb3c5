// fugue/ops/reduce.hpp — reductions and row-wise normalisations on tensors.
//
// Contract: sum(x) reduces everything to a rank-0 tensor; sum(x, dim, keepdim)
// reduces one axis; mean likewise. softmax/log_softmax/layer_norm work over the
// last axis (the layout every layer here uses); other axes go through a
// transpose first. All return new contiguous tensors.
#pragma once

#include <type_traits>

#include "fugue/tensor.hpp"
#include "fugue/core/functors.hpp"

namespace fugue::ops {

template <class T, class B>
Tensor<T, B> sum(const Tensor<T, B>& x) {
  Tensor<T, B> xc = x.contiguous();
  auto y = Tensor<T, B>::empty(Shape{});
  T s = B::sum(xc.numel(), xc.data());
  B::copy_from_host(y.data(), &s, sizeof(T));
  return y;
}

template <class T, class B>
Tensor<T, B> sum(const Tensor<T, B>& x, int dim, bool keepdim = false) {
  const int a = x.shape().axis(dim);
  // View x as [outer, n, inner] and reduce the middle axis.
  index_t outer = 1, inner = 1;
  for (int i = 0; i < a; ++i) outer *= x.dim(i);
  for (int i = a + 1; i < x.rank(); ++i) inner *= x.dim(i);
  const index_t n = x.dim(a);
  Tensor<T, B> xc = x.contiguous();
  Shape out = keepdim ? x.shape() : x.shape().erase(a);
  if (keepdim) out[a] = 1;
  auto y = Tensor<T, B>::empty(out);
  if (inner == 1) {
    B::row_sum(outer, n, xc.data(), y.data());
  } else {
    for (index_t o = 0; o < outer; ++o) B::col_sum(n, inner, xc.data() + o * n * inner, y.data() + o * inner);
  }
  return y;
}

template <class T, class B>
Tensor<T, B> mean(const Tensor<T, B>& x) {
  Tensor<T, B> s = sum(x);
  const T inv = x.numel() ? T(1) / T(x.numel()) : T(0);
  B::map(1, s.data(), s.data(), fn::scale_by<T>{inv});
  return s;
}

template <class T, class B>
Tensor<T, B> mean(const Tensor<T, B>& x, int dim, bool keepdim = false) {
  Tensor<T, B> s = sum(x, dim, keepdim);
  const T inv = T(1) / T(x.dim(dim));
  B::map(s.numel(), s.data(), s.data(), fn::scale_by<T>{inv});
  return s;
}

template <class T, class B>
Tensor<T, B> softmax(const Tensor<T, B>& x) {
  FUGUE_CHECK(x.rank() >= 1, "softmax of a scalar");
  Tensor<T, B> xc = x.contiguous();
  auto y = Tensor<T, B>::empty(x.shape());
  const index_t n = x.dim(-1);
  B::softmax_rows(n ? x.numel() / n : 0, n, xc.data(), y.data());
  return y;
}

template <class T, class B>
Tensor<T, B> log_softmax(const Tensor<T, B>& x) {
  FUGUE_CHECK(x.rank() >= 1, "log_softmax of a scalar");
  Tensor<T, B> xc = x.contiguous();
  auto y = Tensor<T, B>::empty(x.shape());
  const index_t n = x.dim(-1);
  B::log_softmax_rows(n ? x.numel() / n : 0, n, xc.data(), y.data());
  return y;
}

// Layer norm over the last axis; gamma/beta ([N]) may be null.
template <class T, class B>
Tensor<T, B> layer_norm(const Tensor<T, B>& x, std::type_identity_t<const Tensor<T, B>*> gamma,
                        std::type_identity_t<const Tensor<T, B>*> beta, std::type_identity_t<T> eps,
                        std::type_identity_t<Tensor<T, B>*> mean_out = nullptr,
                        std::type_identity_t<Tensor<T, B>*> rstd_out = nullptr) {
  FUGUE_CHECK(x.rank() >= 1, "layer_norm of a scalar");
  const index_t n = x.dim(-1), rows = n ? x.numel() / n : 0;
  for (const Tensor<T, B>* p : {gamma, beta})
    FUGUE_CHECK(!p || (p->rank() == 1 && p->dim(0) == n && p->is_contiguous()), "layer_norm: parameter of shape ",
                p ? p->shape().str() : "", " for rows of ", n);
  Tensor<T, B> xc = x.contiguous();
  auto y = Tensor<T, B>::empty(x.shape());
  Shape stat = x.shape().erase(-1);
  if (mean_out) *mean_out = Tensor<T, B>::empty(stat);
  if (rstd_out) *rstd_out = Tensor<T, B>::empty(stat);
  B::layer_norm_rows(rows, n, xc.data(), gamma ? gamma->data() : nullptr, beta ? beta->data() : nullptr, eps, y.data(),
                     mean_out ? mean_out->data() : nullptr, rstd_out ? rstd_out->data() : nullptr);
  return y;
}

}  // namespace fugue::ops
