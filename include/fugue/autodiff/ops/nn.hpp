// fugue/autodiff/ops/nn.hpp — differentiable softmax, layer norm, dropout, embedding.
//
// Contract
//  * softmax / log_softmax over the last axis (rank >= 1). Backward, per row:
//      softmax:     dx = y * (g - <g, y>)
//      log_softmax: dx = g - exp(y) * sum(g)
//  * layer_norm(x, gamma, beta, eps) normalises the last axis (biased variance,
//    as PyTorch) and applies gamma/beta of shape [N]; the overload without
//    gamma/beta is the bare normalisation. Fused backward, per row with
//    xhat = (x - mean) rstd and h = g * gamma:
//      dx = rstd (h - mean(h) - xhat mean(h xhat)),  dgamma = sum_rows g xhat,
//      dbeta = sum_rows g.
//  * dropout(x, p): identity (the same Var, nothing recorded) when p == 0 or
//    the tape is not in training mode; otherwise y = x * m with
//    m = [u >= p] / (1 - p), u from a fresh Philox stream of the tape
//    (tape.next_rng()), element i using uniform(i). p must be in [0, 1).
//  * embedding(weight [V, D], indices, index_shape = {n}): gathers rows into
//    index_shape + [D]; backward scatter-adds into a [V, D] gradient. Indices
//    out of [0, V) throw fugue::error.
#pragma once

#include <algorithm>
#include <span>
#include <vector>

#include "fugue/autodiff/ops/common.hpp"
#include "fugue/autodiff/ops/grad_functors.hpp"
#include "fugue/backend/cpu/threads.hpp"

namespace fugue::ad {

FUGUE_AD_OP(softmax)
FUGUE_AD_OP(log_softmax)
FUGUE_AD_OP(layer_norm)
FUGUE_AD_OP(dropout)
FUGUE_AD_OP(embedding)

template <Scalar T, Backend B>
Var<T, B> softmax(const Var<T, B>& x) {
  return x.tape().record(
      ops::softmax(x.value()), {x},
      [](const Tensor<T, B>& g, GradSink<T, B>& s) {
        if (!s.needs(0)) return;
        const Tensor<T, B>& y = s.output();  // contiguous (made by ops::softmax)
        const index_t n = y.dim(-1), rows = n ? y.numel() / n : 0;
        auto gx = Tensor<T, B>::empty(y.shape());
        for (index_t r = 0; r < rows; ++r) {
          const T* gr = g.data() + r * n;
          const T* yr = y.data() + r * n;
          const T d = B::dot(n, gr, yr);
          B::zip(n, gr, yr, gx.data() + r * n, fn::softmax_row_grad<T>{d});
        }
        s.accumulate(0, gx);
      },
      "softmax");
}

template <Scalar T, Backend B>
Var<T, B> log_softmax(const Var<T, B>& x) {
  return x.tape().record(
      ops::log_softmax(x.value()), {x},
      [](const Tensor<T, B>& g, GradSink<T, B>& s) {
        if (!s.needs(0)) return;
        const Tensor<T, B>& y = s.output();
        const index_t n = y.dim(-1), rows = n ? y.numel() / n : 0;
        auto gx = Tensor<T, B>::empty(y.shape());
        for (index_t r = 0; r < rows; ++r) {
          const T* gr = g.data() + r * n;
          const T sg = B::sum(n, gr);
          B::zip(n, gr, y.data() + r * n, gx.data() + r * n, fn::log_softmax_row_grad<T>{sg});
        }
        s.accumulate(0, gx);
      },
      "log_softmax");
}

namespace detail {
// Shared layer-norm backward; gamma/beta are inputs 1 and 2 when present.
template <Scalar T, Backend B>
struct layer_norm_backward {
  Tensor<T, B> mean, rstd;
  bool affine;
  void operator()(const Tensor<T, B>& g, GradSink<T, B>& s) const {
    const Tensor<T, B> x = s.input(0).contiguous();
    const index_t n = x.dim(-1), rows = n ? x.numel() / n : 0;
    Tensor<T, B> gamma = affine ? s.input(1).contiguous() : Tensor<T, B>();
    auto xhat = Tensor<T, B>::empty(x.shape());
    auto h = Tensor<T, B>::empty(x.shape());
    const bool need_x = s.needs(0);
    Tensor<T, B> gx = need_x ? Tensor<T, B>::empty(x.shape()) : Tensor<T, B>();
    // The per-row statistics are read on the host: device backends copy them over once.
    std::vector<T> mean_host, rstd_host;
    const T* mean_rows = mean.data();
    const T* rstd_rows = rstd.data();
    if constexpr (!B::host_accessible) {
      mean_host = mean.to_vector();
      rstd_host = rstd.to_vector();
      mean_rows = mean_host.data();
      rstd_rows = rstd_host.data();
    }
    for (index_t r = 0; r < rows; ++r) {
      const T m = mean_rows[r], rs = rstd_rows[r];
      const T* xr = x.data() + r * n;
      const T* gr = g.data() + r * n;
      T* xh = xhat.data() + r * n;
      T* hr = h.data() + r * n;
      B::map(n, xr, xh, fn::normalize_row<T>{m, rs});
      if (!need_x) continue;
      if (affine)
        B::zip(n, gr, gamma.data(), hr, fn::mul{});
      else
        B::copy(hr, gr, sizeof(T) * std::size_t(n));
      const T mh = B::sum(n, hr) / T(n);
      const T mhx = B::dot(n, hr, xh) / T(n);
      B::zip(n, hr, xh, gx.data() + r * n, fn::layer_norm_row_grad<T>{mh, mhx, rs});
    }
    if (need_x) s.accumulate(0, gx);
    if (affine && s.needs(1)) {
      auto gxh = zip(g, xhat, fn::mul{});
      auto gg = Tensor<T, B>::empty({n});
      B::col_sum(rows, n, gxh.data(), gg.data());
      s.accumulate(1, gg);
    }
    if (affine && s.size() > 2 && s.needs(2)) {
      auto gb = Tensor<T, B>::empty({n});
      B::col_sum(rows, n, g.data(), gb.data());
      s.accumulate(2, gb);
    }
  }
};
}  // namespace detail

template <Scalar T, Backend B>
Var<T, B> layer_norm(const Var<T, B>& x, const Var<T, B>& gamma, const Var<T, B>& beta,
                     std::type_identity_t<T> eps = T(1e-5)) {
  auto& t = detail::common_tape({&x, &gamma, &beta}, "layer_norm");
  Tensor<T, B> mean, rstd;
  Tensor<T, B> gc = gamma.value().contiguous(), bc = beta.value().contiguous();
  Tensor<T, B> y = ops::layer_norm(x.value(), &gc, &bc, eps, &mean, &rstd);
  return t.record(std::move(y), {x, gamma, beta},
                  detail::layer_norm_backward<T, B>{std::move(mean), std::move(rstd), true}, "layer_norm");
}

template <Scalar T, Backend B>
Var<T, B> layer_norm(const Var<T, B>& x, std::type_identity_t<T> eps = T(1e-5)) {
  Tensor<T, B> mean, rstd;
  Tensor<T, B> y = ops::layer_norm(x.value(), nullptr, nullptr, eps, &mean, &rstd);
  return x.tape().record(std::move(y), {x}, detail::layer_norm_backward<T, B>{std::move(mean), std::move(rstd), false},
                         "layer_norm");
}

namespace detail {
// m_i = [uniform(i) >= p] * keep, one element per call (device backends' mask).
template <class T>
struct dropout_mask_at {
  Philox rng;
  T p, keep;
  FUGUE_HOST_DEVICE T operator()(std::uint64_t i) const { return rng.template uniform<T>(i) >= p ? keep : T(0); }
};

// The inverted-dropout mask m_i = [uniform(i) >= p] / (1 - p) of one Philox stream. Host
// backends draw it a block at a time in chunks spread over the CPU threads; device backends
// one element per call of dropout_mask_at, on the device. The values depend only on i.
template <class T, class B>
Tensor<T, B> dropout_mask(const Shape& shape, T p, Philox rng) {
  const index_t n = shape.numel();
  const T keep = T(1) / (T(1) - p);
  auto m = Tensor<T, B>::empty(shape);
  if constexpr (B::host_accessible) {
    T* d = m.data();
    constexpr index_t chunk = index_t(1) << 15;
    cpu::parallel_for(int((n + chunk - 1) / chunk), [&](int c) {
      const index_t first = index_t(c) * chunk, count = std::min(chunk, n - first);
      rng.for_each_uniform<T>(std::uint64_t(first), std::uint64_t(count),
                              [&](std::uint64_t j, T u) { d[first + index_t(j)] = u >= p ? keep : T(0); });
    });
  } else {
    B::generate(n, m.data(), dropout_mask_at<T>{rng, p, keep});
  }
  return m;
}
}  // namespace detail

template <Scalar T, Backend B>
Var<T, B> dropout(const Var<T, B>& x, std::type_identity_t<T> p) {
  FUGUE_CHECK(p >= 0 && p < 1, "dropout probability ", p, " outside [0, 1)");
  Tape<T, B>& t = x.tape();
  if (p == 0 || !t.training()) return x;
  Tensor<T, B> m = detail::dropout_mask<T, B>(x.shape(), p, t.next_rng());
  return t.record(
      detail::zip(x.value(), m, fn::mul{}), {x},
      [m](const Tensor<T, B>& g, GradSink<T, B>& s) {
        if (s.needs(0)) s.accumulate(0, detail::zip(g, m, fn::mul{}));
      },
      "dropout");
}

template <Scalar T, Backend B>
  requires B::host_accessible
Var<T, B> embedding(const Var<T, B>& weight, std::span<const int> indices, Shape index_shape = {}) {
  FUGUE_CHECK(weight.rank() == 2, "embedding: weight must be [vocab, dim], got ", weight.shape().str());
  if (index_shape.rank() == 0) index_shape = Shape{index_t(indices.size())};
  FUGUE_CHECK(index_shape.numel() == index_t(indices.size()), "embedding: ", indices.size(),
              " indices for index shape ", index_shape.str());
  const index_t V = weight.dim(0), D = weight.dim(1);
  for (int i : indices) FUGUE_CHECK(i >= 0 && i < V, "embedding: index ", i, " out of range for vocab ", V);
  Tensor<T, B> w = weight.value().contiguous();
  auto y = Tensor<T, B>::empty(index_shape.push_back(D));
  for (std::size_t r = 0; r < indices.size(); ++r)
    B::copy(y.data() + index_t(r) * D, w.data() + index_t(indices[r]) * D, sizeof(T) * std::size_t(D));
  return weight.tape().record(
      std::move(y), {weight},
      [idx = std::vector<int>(indices.begin(), indices.end()), V, D](const Tensor<T, B>& g, GradSink<T, B>& s) {
        if (!s.needs(0)) return;
        auto gw = Tensor<T, B>::zeros({V, D});
        for (std::size_t r = 0; r < idx.size(); ++r) {
          T* dst = gw.data() + index_t(idx[r]) * D;
          B::zip(D, dst, g.data() + index_t(r) * D, dst, fn::add{});
        }
        s.accumulate(0, gw);
      },
      "embedding");
}

}  // namespace fugue::ad
