// fugue/autodiff/ops/common.hpp — helpers shared by the differentiable ops.
//
// Contract: zip/zip3 apply a SIMD-capable functor (callable with T and with
// xsimd batches) to same-shape tensors of any layout and return a new
// contiguous tensor. Lane-wise helpers (select, constants) are fugue::lane's (core/lanes.hpp).
// Backward rules are named functors (grad_functors.hpp), not lambdas, so that they
// can run in CUDA device code. Reduction says how a loss reduces its per-example values.
#pragma once

#include "fugue/autodiff/registry.hpp"
#include "fugue/autodiff/tape.hpp"
#include "fugue/ops.hpp"

namespace fugue::ad {

enum class Reduction { mean, sum, none };

namespace detail {

template <class T, class B, class F>
Tensor<T, B> zip(const Tensor<T, B>& a, const Tensor<T, B>& b, F f) {
  FUGUE_CHECK(a.shape() == b.shape(), "zip of shapes ", a.shape().str(), " and ", b.shape().str());
  Tensor<T, B> ac = a.contiguous(), bc = b.contiguous();
  auto y = Tensor<T, B>::empty(a.shape());
  B::zip(y.numel(), ac.data(), bc.data(), y.data(), f);
  return y;
}

template <class T, class B, class F>
Tensor<T, B> zip3(const Tensor<T, B>& a, const Tensor<T, B>& b, const Tensor<T, B>& c, F f) {
  FUGUE_CHECK(a.shape() == b.shape() && a.shape() == c.shape(), "zip3 of shapes ", a.shape().str(), ", ",
              b.shape().str(), " and ", c.shape().str());
  Tensor<T, B> ac = a.contiguous(), bc = b.contiguous(), cc = c.contiguous();
  auto y = Tensor<T, B>::empty(a.shape());
  B::zip3(y.numel(), ac.data(), bc.data(), cc.data(), y.data(), f);
  return y;
}

template <class T, class B>
Tape<T, B>& common_tape(std::initializer_list<const Var<T, B>*> vs, const char* op) {
  Tape<T, B>* t = nullptr;
  for (const Var<T, B>* v : vs) {
    FUGUE_CHECK(v->defined(), op, ": undefined Var");
    if (!t) t = &v->tape();
    FUGUE_CHECK(t == &v->tape(), op, ": Vars from different tapes");
  }
  return *t;
}

}  // namespace detail
}  // namespace fugue::ad
