// fugue/nn/detail/attention_ops.hpp — tape nodes for attention layers: a packed dense
// projection with fused activation, the fused attention core, and the skew op.
//
// Contract:
//  * dense_op(tape, x, w, b, r0, r1, act): y = act(x W[r0:r1]^T + b[r0:r1]) for x [..., In],
//    W [R, In] (a row window of a packed weight such as torch's in_proj_weight), b [R] or none.
//    act is none, relu or gelu (exact, erf-based, as torch's default). One node; the gradient
//    of W is full-size with only rows [r0, r1) non-zero.
//  * attention_op: one node computing fused multi-head attention (attention_kernels.hpp) from
//    1-3 source Vars holding q, k, v as column windows (e.g. one packed [N, L, 3E] tensor for
//    self-attention), plus an optional relative key table [H, max_rel, dk]. Output
//    [N, Lq, H*dv]. Hand-written backward.
//  * skew_op(tape, s): the relative-attention skew (pad-left, reshape, drop row) on the last two
//    axes of s [..., L, L], with its adjoint as backward; for tests and for composing attention
//    from primitive ops. skew_tensor is the plain function.
// Every node runs on every backend: on device backends the bias add, the activations and
// their gradients are portable functors, the attention core is attention_device.hpp and the
// skew is a gather functor (skew_at / skew_transpose_at).
#pragma once

#include <cmath>
#include <optional>
#include <vector>

#include "fugue/autodiff/registry.hpp"
#include "fugue/autodiff/tape.hpp"
#include "fugue/core/functors.hpp"
#include "fugue/core/host_device.hpp"
#include "fugue/nn/detail/attention_kernels.hpp"
#include "fugue/nn/detail/channel_bias.hpp"
#include "fugue/ops.hpp"

FUGUE_AD_OP(nn_dense)
FUGUE_AD_OP(nn_residual_add)
FUGUE_AD_OP(nn_skew)
FUGUE_AD_OP(nn_attention)

namespace fugue::nn {

// The activation fused into a dense op (Transformer feed-forward). Not nn::Activation<Fn>,
// the layer template of activation.hpp: both live in fugue::nn.
enum class DenseActivation { none, relu, gelu };

namespace detail {

template <class T>
FUGUE_HOST_DEVICE inline T gelu_exact(T z) {
  return T(0.5) * z * (T(1) + std::erf(z * T(0.70710678118654752440)));
}
template <class T>
FUGUE_HOST_DEVICE inline T gelu_grad(T z) {
  const T cdf = T(0.5) * (T(1) + std::erf(z * T(0.70710678118654752440)));
  const T pdf = T(0.39894228040143267794) * std::exp(T(-0.5) * z * z);
  return cdf + z * pdf;
}

// The dense activations as functors for device backends (scalar only: the host keeps its loops).
struct gelu_exact_fn {
  template <portable_scalar V>
  FUGUE_HOST_DEVICE V operator()(V z) const {
    return gelu_exact(z);
  }
};
struct relu_grad_fn {  // (saved output, upstream grad)
  template <portable_scalar V>
  FUGUE_HOST_DEVICE V operator()(V y, V g) const {
    return y > V(0) ? g : V(0);
  }
};
struct gelu_grad_fn {  // (saved pre-activation, upstream grad)
  template <portable_scalar V>
  FUGUE_HOST_DEVICE V operator()(V z, V g) const {
    return g * gelu_grad(z);
  }
};

// z = x W[r0:r1]^T + b[r0:r1] as [M, n] for x viewed as [M, In].
template <class T, class B>
Tensor<T, B> dense_pre(const Tensor<T, B>& x, const Tensor<T, B>& w, const Tensor<T, B>* b, index_t r0, index_t r1) {
  const index_t in = w.dim(1), n = r1 - r0, M = in ? x.numel() / in : 0;
  auto z = Tensor<T, B>::empty({M, n});
  B::gemm(false, true, M, n, in, T(1), x.data(), in, w.data() + r0 * in, in, T(0), z.data(), n);
  if (b) {
    const T* bp = b->data() + r0;
    T* zp = z.data();
    if constexpr (B::host_accessible) {
      for (index_t i = 0; i < M; ++i) B::zip(n, zp + i * n, bp, zp + i * n, [](auto p, auto q) { return p + q; });
    } else {
      add_channel_bias<B>(M, n, 1, bp, zp);
    }
  }
  return z;
}

template <class T, class B>
void apply_activation(DenseActivation act, const Tensor<T, B>& z, Tensor<T, B>& y) {
  if constexpr (!B::host_accessible) {
    if (act == DenseActivation::relu)
      B::map(z.numel(), z.data(), y.data(), fn::relu{});
    else if (act == DenseActivation::gelu)
      B::map(z.numel(), z.data(), y.data(), gelu_exact_fn{});
  } else if (act == DenseActivation::relu) {
    B::map(z.numel(), z.data(), y.data(), [](auto v) {
      using std::max;
      using xsimd::max;
      return max(v, decltype(v)(T(0)));
    });
  } else if (act == DenseActivation::gelu) {
    const T* zp = z.data();
    T* yp = y.data();
    for (index_t i = 0; i < z.numel(); ++i) yp[i] = gelu_exact(zp[i]);
  }
}

template <class T, class B>
Shape dense_shape(const Shape& xs, index_t in, index_t n, const Shape& ws, index_t r0, index_t r1) {
  FUGUE_CHECK(xs.rank() >= 1 && xs[-1] == in && ws.rank() == 2 && r0 >= 0 && r0 <= r1 && r1 <= ws[0], "dense: input ",
              xs.str(), " does not match weight ", ws.str(), " rows [", r0, ", ", r1, ")");
  Shape out = xs;
  out[-1] = n;
  return out;
}

template <class T, class B>
Tensor<T, B> dense_tensor(const Tensor<T, B>& x, const Tensor<T, B>& w, const Tensor<T, B>* b, index_t r0, index_t r1,
                          DenseActivation act = DenseActivation::none) {
  Shape out = dense_shape<T, B>(x.shape(), w.dim(1), r1 - r0, w.shape(), r0, r1);
  Tensor<T, B> xc = x.contiguous(), wc = w.contiguous();
  Tensor<T, B> bc = b ? b->contiguous() : Tensor<T, B>{};
  Tensor<T, B> z = dense_pre(xc, wc, b ? &bc : nullptr, r0, r1);
  apply_activation(act, z, z);
  return z.reshape(out);
}

template <class T, class B>
ad::Var<T, B> dense_op(ad::Tape<T, B>& tape, const ad::Var<T, B>& x, const ad::Var<T, B>& w,
                       const std::optional<ad::Var<T, B>>& b, index_t r0, index_t r1,
                       DenseActivation act = DenseActivation::none) {
  const index_t in = w.shape()[1], n = r1 - r0;
  Shape out = dense_shape<T, B>(x.shape(), in, n, w.shape(), r0, r1);
  FUGUE_CHECK(!b || (b->shape().rank() == 1 && b->shape()[0] == w.shape()[0]), "dense: bias ", b->shape().str(),
              " for weight ", w.shape().str());
  Tensor<T, B> xv = x.value().contiguous(), wv = w.value().contiguous();
  Tensor<T, B> bv = b ? b->value().contiguous() : Tensor<T, B>{};
  Tensor<T, B> z = dense_pre(xv, wv, b ? &bv : nullptr, r0, r1);
  Tensor<T, B> y = z;
  if (act != DenseActivation::none) {
    y = Tensor<T, B>::empty(z.shape());
    apply_activation(act, z, y);
  }
  Tensor<T, B> saved = act == DenseActivation::gelu ? z : y;  // relu: the output decides the mask
  const Shape xs = x.shape(), ws = w.shape();
  auto bw = [=, has_b = bool(b)](const Tensor<T, B>& gy, auto& sink) {
    const index_t M = in ? xv.numel() / in : 0;
    Tensor<T, B> dz = gy.contiguous().reshape({M, n});
    if (act != DenseActivation::none) {
      Tensor<T, B> d = Tensor<T, B>::empty({M, n});
      const T* s = saved.data();
      const T* g = dz.data();
      T* o = d.data();
      if constexpr (!B::host_accessible) {
        if (act == DenseActivation::relu)
          B::zip(M * n, s, g, o, relu_grad_fn{});
        else
          B::zip(M * n, s, g, o, gelu_grad_fn{});
      } else if (act == DenseActivation::relu) {
        for (index_t i = 0; i < M * n; ++i) o[i] = s[i] > T(0) ? g[i] : T(0);
      } else {
        for (index_t i = 0; i < M * n; ++i) o[i] = g[i] * gelu_grad(s[i]);
      }
      dz = d;
    }
    if (sink.needs(0)) {
      auto dx = Tensor<T, B>::empty(xs);
      B::gemm(false, false, M, in, n, T(1), dz.data(), n, wv.data() + r0 * in, in, T(0), dx.data(), in);
      sink.accumulate(0, dx);
    }
    if (sink.needs(1)) {
      auto dw = r0 == 0 && r1 == ws[0] ? Tensor<T, B>::empty(ws) : Tensor<T, B>::zeros(ws);
      B::gemm(true, false, n, in, M, T(1), dz.data(), n, xv.data(), in, T(0), dw.data() + r0 * in, in);
      sink.accumulate(1, dw);
    }
    if (has_b && sink.needs(2)) {
      auto db = Tensor<T, B>::zeros({ws[0]});
      B::col_sum(M, n, dz.data(), db.data() + r0, true);
      sink.accumulate(2, db);
    }
  };
  y = y.reshape(out);
  if (b) return tape.record(std::move(y), {x, w, *b}, std::move(bw), "nn_dense");
  return tape.record(std::move(y), {x, w}, std::move(bw), "nn_dense");
}

// y = a + b (same shapes): the residual connection.
template <class T, class B>
ad::Var<T, B> add_op(ad::Tape<T, B>& tape, const ad::Var<T, B>& a, const ad::Var<T, B>& b) {
  FUGUE_CHECK(a.shape() == b.shape(), "residual add of shapes ", a.shape().str(), " and ", b.shape().str());
  return tape.record(
      ops::add(a.value(), b.value()), {a, b},
      [](const Tensor<T, B>& g, auto& sink) {
        sink.accumulate(0, g);
        sink.accumulate(1, g);
      },
      "nn_residual_add");
}

// --- skew -------------------------------------------------------------------------
// skew(s) element (i, j) of each [L, L] matrix, gathered (device backends).
template <class T>
struct skew_at {
  const T* s;
  index_t L;
  FUGUE_HOST_DEVICE T operator()(std::uint64_t idx) const {
    const index_t f = index_t(idx), m = f / (L * L), i = (f / L) % L, j = f % L;
    const index_t g = (i + 1) * L + j, r = g / (L + 1), c = g % (L + 1) - 1;
    return c < 0 ? T(0) : s[(m * L + r) * L + c];
  }
};

template <class T, class B>
Tensor<T, B> skew_tensor(const Tensor<T, B>& s) {
  FUGUE_CHECK(s.rank() >= 2 && s.dim(-1) == s.dim(-2), "skew: needs [..., L, L], got ", s.shape().str());
  const index_t L = s.dim(-1), mats = L ? s.numel() / (L * L) : 0;
  Tensor<T, B> sc = s.contiguous();
  auto out = Tensor<T, B>::empty(s.shape());
  if constexpr (B::host_accessible) {
    for (index_t m = 0; m < mats; ++m) skew_forward(L, sc.data() + m * L * L, out.data() + m * L * L);
  } else {
    B::generate(mats * L * L, out.data(), skew_at<T>{sc.data(), L});
  }
  return out;
}

template <class T, class B>
ad::Var<T, B> skew_op(ad::Tape<T, B>& tape, const ad::Var<T, B>& s) {
  Tensor<T, B> y = skew_tensor(s.value());
  const Shape sh = s.shape();
  return tape.record(
      std::move(y), {s},
      [sh](const Tensor<T, B>& g, auto& sink) {
        if (!sink.needs(0)) return;
        const index_t L = sh[-1], mats = L ? sh.numel() / (L * L) : 0;
        Tensor<T, B> gc = g.contiguous();
        auto ds = Tensor<T, B>::zeros(sh);
        if constexpr (B::host_accessible) {
          for (index_t m = 0; m < mats; ++m) skew_backward(L, gc.data() + m * L * L, ds.data() + m * L * L);
        } else {  // the mats matrices as [1, mats, L, L] for skew_transpose_at's [H, N] order
          B::generate(mats * L * L, ds.data(), skew_transpose_at<T>{gc.data(), mats, 1, L});
        }
        sink.accumulate(0, ds);
      },
      "nn_skew");
}

// --- fused attention ------------------------------------------------------------------
// Where q, k or v lives: source index into the sources list and first column.
struct attention_window {
  int source = 0;
  index_t offset = 0;
};

template <class T, class B>
struct attention_inputs {
  std::vector<ad::Var<T, B>> sources;  // 1..3 Vars [N, L, C] (contiguous values)
  attention_window q, k, v;
  std::optional<ad::Var<T, B>> rel;  // [H, max_rel, dk]
  Tensor<T, B> key_padding;          // [N, Lk], nonzero = masked (optional)
  Tensor<T, B> attn_bias;            // [Lq, Lk] additive (optional)
};

template <class T, class B>
Tensor<T, B> attention_forward_tensors(attention_problem<T>& p, const std::vector<Tensor<T, B>>& src,
                                       const attention_window& wq, const attention_window& wk,
                                       const attention_window& wv, const Tensor<T, B>* rel,
                                       const Tensor<T, B>& key_padding, const Tensor<T, B>& attn_bias,
                                       std::vector<std::uint8_t>& kpm, Tensor<T, B>& probs, Tensor<T, B>& biasc) {
  p.ldq = src[std::size_t(wq.source)].dim(-1);
  p.ldk = src[std::size_t(wk.source)].dim(-1);
  p.ldv = src[std::size_t(wv.source)].dim(-1);
  p.ldo = p.heads * p.dv;
  Tensor<T, B> kpt;
  if (key_padding.defined()) {
    FUGUE_CHECK(key_padding.rank() == 2 && key_padding.dim(0) == p.n && key_padding.dim(1) == p.lk,
                "attention: key_padding_mask ", key_padding.shape().str(), ", expected [", p.n, ", ", p.lk, "]");
    if constexpr (B::host_accessible) {
      auto v = key_padding.to_vector();
      kpm.assign(v.size(), 0);
      for (std::size_t i = 0; i < v.size(); ++i) kpm[i] = v[i] != T(0);
      p.key_padding = kpm.data();
    } else {
      // Freed at return, after the kernels that read it were queued: the caching allocator
      // hands it out again only to later work on the same stream.
      kpt = key_padding.contiguous();
      p.key_padding_values = kpt.data();
    }
  }
  if (attn_bias.defined()) {
    FUGUE_CHECK(attn_bias.rank() == 2 && attn_bias.dim(0) == p.lq && attn_bias.dim(1) == p.lk, "attention: attn_mask ",
                attn_bias.shape().str(), ", expected [", p.lq, ", ", p.lk, "]");
    biasc = attn_bias.contiguous();
    p.attn_bias = biasc.data();
  }
  if (rel) {
    FUGUE_CHECK(rel->rank() == 3 && rel->dim(0) == p.heads && rel->dim(2) == p.dk && rel->is_contiguous(),
                "attention: relative table ", rel->shape().str(), ", expected [", p.heads, ", max_rel, ", p.dk, "]");
    FUGUE_CHECK(p.lq == p.lk, "relative attention needs self-attention (equal lengths), got ", p.lq, " and ", p.lk);
    p.rel = rel->data();
    p.max_rel = rel->dim(1);
  }
  probs = Tensor<T, B>::empty({p.n, p.heads, p.lq, p.lk});
  auto out = Tensor<T, B>::empty({p.n, p.lq, p.heads * p.dv});
  attention_forward<B>(p, src[std::size_t(wq.source)].data() + wq.offset,
                       src[std::size_t(wk.source)].data() + wk.offset, src[std::size_t(wv.source)].data() + wv.offset,
                       out.data(), probs.data());
  return out;
}

// Records the fused attention node. p holds heads, dk, dv (per head), scale, causal, dropout, rng;
// n, lq, lk are taken from the sources.
template <class T, class B>
ad::Var<T, B> attention_op(ad::Tape<T, B>& tape, const attention_inputs<T, B>& in, attention_problem<T> p) {
  const std::size_t ns = in.sources.size();
  FUGUE_CHECK(ns >= 1 && ns <= 3, "attention: 1 to 3 sources, got ", ns);
  std::vector<Tensor<T, B>> src;
  for (auto& s : in.sources) {
    FUGUE_CHECK(s.shape().rank() == 3, "attention: sources must be [N, L, C], got ", s.shape().str());
    src.push_back(s.value().contiguous());
  }
  const Tensor<T, B>& qs = src[std::size_t(in.q.source)];
  const Tensor<T, B>& ks = src[std::size_t(in.k.source)];
  const Tensor<T, B>& vs = src[std::size_t(in.v.source)];
  p.n = qs.dim(0);
  p.lq = qs.dim(1);
  p.lk = ks.dim(1);
  FUGUE_CHECK(ks.dim(0) == p.n && vs.dim(0) == p.n && vs.dim(1) == p.lk, "attention: batch/length mismatch between q ",
              qs.shape().str(), ", k ", ks.shape().str(), ", v ", vs.shape().str());
  FUGUE_CHECK(in.q.offset + p.heads * p.dk <= qs.dim(2) && in.k.offset + p.heads * p.dk <= ks.dim(2) &&
                  in.v.offset + p.heads * p.dv <= vs.dim(2),
              "attention: q/k/v windows exceed their sources");
  Tensor<T, B> relv = in.rel ? in.rel->value().contiguous() : Tensor<T, B>{};
  std::vector<std::uint8_t> kpm;
  Tensor<T, B> probs, biasc;
  Tensor<T, B> out = attention_forward_tensors(p, src, in.q, in.k, in.v, in.rel ? &relv : nullptr, in.key_padding,
                                               in.attn_bias, kpm, probs, biasc);
  const attention_window wq = in.q, wk = in.k, wv = in.v;
  const bool has_rel = bool(in.rel);
  auto bw = [=, kpm = std::move(kpm)](const Tensor<T, B>& gy, auto& sink) {
    attention_problem<T> pp = p;
    pp.key_padding = kpm.empty() ? nullptr : kpm.data();
    pp.key_padding_values = nullptr;  // the backward reads probs, not the masks
    pp.attn_bias = biasc.defined() ? biasc.data() : nullptr;
    pp.rel = has_rel ? relv.data() : nullptr;
    Tensor<T, B> gc = gy.contiguous();
    std::vector<Tensor<T, B>> grads;
    for (std::size_t i = 0; i < src.size(); ++i) {
      bool full = false;  // sources whose every column is q, k or v need no zero fill
      const index_t c = src[i].dim(2);
      index_t covered = 0;
      for (auto* w : {&wq, &wk, &wv})
        if (std::size_t(w->source) == i) covered += (w == &wv ? p.heads * p.dv : p.heads * p.dk);
      full = covered == c;
      grads.push_back(full ? Tensor<T, B>::empty(src[i].shape()) : Tensor<T, B>::zeros(src[i].shape()));
    }
    Tensor<T, B> drel = has_rel ? Tensor<T, B>::zeros(relv.shape()) : Tensor<T, B>{};
    auto need = [&](const attention_window& w) { return sink.needs(w.source); };
    attention_backward<B>(pp, src[std::size_t(wq.source)].data() + wq.offset,
                          src[std::size_t(wk.source)].data() + wk.offset,
                          src[std::size_t(wv.source)].data() + wv.offset, probs.data(), gc.data(),
                          need(wq) ? grads[std::size_t(wq.source)].data() + wq.offset : nullptr,
                          need(wk) ? grads[std::size_t(wk.source)].data() + wk.offset : nullptr,
                          need(wv) ? grads[std::size_t(wv.source)].data() + wv.offset : nullptr,
                          has_rel && sink.needs(int(src.size())) ? drel.data() : nullptr);
    for (std::size_t i = 0; i < src.size(); ++i)
      if (sink.needs(int(i))) sink.accumulate(int(i), grads[i]);
    if (has_rel && sink.needs(int(src.size()))) sink.accumulate(int(src.size()), drel);
  };
  const auto& s = in.sources;
  if (has_rel) {
    const auto& r = *in.rel;
    if (ns == 1) return tape.record(std::move(out), {s[0], r}, std::move(bw), "nn_attention");
    if (ns == 2) return tape.record(std::move(out), {s[0], s[1], r}, std::move(bw), "nn_attention");
    return tape.record(std::move(out), {s[0], s[1], s[2], r}, std::move(bw), "nn_attention");
  }
  if (ns == 1) return tape.record(std::move(out), {s[0]}, std::move(bw), "nn_attention");
  if (ns == 2) return tape.record(std::move(out), {s[0], s[1]}, std::move(bw), "nn_attention");
  return tape.record(std::move(out), {s[0], s[1], s[2]}, std::move(bw), "nn_attention");
}

}  // namespace detail
}  // namespace fugue::nn
