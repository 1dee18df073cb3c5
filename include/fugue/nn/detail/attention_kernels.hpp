// fugue/nn/detail/attention_kernels.hpp — fused scaled dot-product attention (forward and
// backward) with masks, attention dropout and the relative-position "skewing" term of
// Music Transformer (tensor2tensor's dot_product_relative_v2; docs/nn.md, "Shapes and semantics").
//
// Contract (all buffers contiguous, host memory, row-major):
//  * q [N, Lq, H*dk], k [N, Lk, H*dk], v [N, Lk, H*dv], out [N, Lq, H*dv]: head h of a
//    row occupies columns [h*d, (h+1)*d) — the layout a packed projection produces, so
//    no permute to [N, H, L, d] is ever made. Row strides (ldq, ldk, ldv, ldo) may be
//    larger than H*d: q, k and v may be column windows of one packed [N, L, 3E] tensor.
//  * logits(i, j) = scale * q_i.k_j (+ skew(scale * Q E_L^T)(i, j) when rel != nullptr)
//    (+ attn_bias(i, j)); masked (-inf) where causal and j > i + (Lk - Lq), or where
//    key_padding[n, j] != 0 (PyTorch: true = ignore). probs = softmax over j; a row whose
//    keys are all masked gives probs = 0 (output 0, no gradient) instead of NaN.
//  * Dropout on probs with probability p: keep(n, h, i, j) = philox.uniform(index) >= p,
//    index = ((n*H + h)*Lq + i)*Lk + j; kept values are scaled by 1/(1-p).
//  * rel: table E [H, max_rel, dk] (per head); needs Lq == Lk = L. E_L row r (r in [0, L))
//    is E[h, max_rel - L + r] when that index is >= 0, else a zero row (distance >= max_rel).
//    skew(S)(i, j) = pad-left-one-column, reshape [L+1, L], drop the first row: equals
//    S(i, L - 1 + j - i) for j <= i; the entries above the diagonal are the same
//    rearranged garbage as in tensor2tensor (masked when causal).
//  * probs_out [N, H, Lq, Lk] keeps the (pre-dropout) probabilities for the backward.
//  * backward: given dout, writes dq, dk, dv (same layouts and strides as q, k, v;
//    overwritten, not accumulated — zero them first if they alias a packed buffer
//    whose other columns are not written) and accumulates drel [H, max_rel, dk].
// Work is spread over cpu::parallel_for (forward: N*H tasks; backward: H tasks when rel
// is present so that drel is accumulated without races, else N*H). On backends that are not
// host-accessible attention_forward / attention_backward run attention_device.hpp instead
// (the key padding mask then comes as key_padding_values).
#pragma once

#include "fugue/backend/host_only.hpp"

#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "fugue/backend/cpu/threads.hpp"
#include "fugue/core/rng.hpp"
#include "fugue/core/shape.hpp"
#include "fugue/nn/detail/attention_device.hpp"

namespace fugue::nn::detail {

template <class T>
struct attention_problem {
  index_t n = 1, heads = 1, lq = 1, lk = 1, dk = 1, dv = 1;
  index_t ldq = 0, ldk = 0, ldv = 0, ldo = 0;  // 0 = heads * d
  T scale = T(1);
  bool causal = false;
  const std::uint8_t* key_padding = nullptr;  // [n, lk], nonzero = masked
  const T* key_padding_values = nullptr;      // device backends: the same mask as T in device memory
  const T* attn_bias = nullptr;               // [lq, lk] additive (may hold -inf)
  const T* rel = nullptr;                     // [heads, max_rel, dk]
  index_t max_rel = 0;
  T dropout = T(0);
  Philox rng{};

  void finalize() {
    if (!ldq) ldq = heads * dk;
    if (!ldk) ldk = heads * dk;
    if (!ldv) ldv = heads * dv;
    if (!ldo) ldo = heads * dv;
  }
};

// --- the skew rearrangement on one [L, L] matrix ---------------------------------
// out(i, j) = padded[(i+1)*L + j] where padded is S with a zero column prepended, seen flat
// as [L, L+1]. Returns the source column in S (or -1 for the zero pad) and its row.
inline void skew_source(index_t L, index_t i, index_t j, index_t& r, index_t& c) {
  const index_t f = (i + 1) * L + j;
  r = f / (L + 1);
  c = f % (L + 1) - 1;
}

template <class T>
void skew_forward(index_t L, const T* s, T* out) {
  for (index_t i = 0; i < L; ++i)
    for (index_t j = 0; j < L; ++j) {
      index_t r, c;
      skew_source(L, i, j, r, c);
      out[i * L + j] = c < 0 ? T(0) : s[r * L + c];
    }
}

// ds += skew^T(dout)
template <class T>
void skew_backward(index_t L, const T* dout, T* ds) {
  for (index_t i = 0; i < L; ++i)
    for (index_t j = 0; j < L; ++j) {
      index_t r, c;
      skew_source(L, i, j, r, c);
      if (c >= 0) ds[r * L + c] += dout[i * L + j];
    }
}

// Row i of (n, h)'s dropout keep mask, scaled: mask[j] = keep(n, h, i, j) ? 1/(1-p) : 0.
template <class T>
inline void attention_keep_row(const attention_problem<T>& p, index_t nh, index_t i, T* mask) {
  const T inv = T(1) / (T(1) - p.dropout);
  p.rng.template for_each_uniform<T>(std::uint64_t((nh * p.lq + i) * p.lk), std::uint64_t(p.lk),
                                     [&](std::uint64_t j, T u) { mask[j] = u >= p.dropout ? inv : T(0); });
}

// Builds masked logits for one (n, h) in s [lq, lk]; srel is scratch [L, L] when rel.
template <class B, class T>
void attention_logits(const attention_problem<T>& p, index_t n, index_t h, const T* q, const T* k, T* s, T* srel) {
  FUGUE_REQUIRE_HOST_BACKEND(B, "the fused (relative) attention kernel");
  const T* qp = q + n * p.lq * p.ldq + h * p.dk;
  const T* kp = k + n * p.lk * p.ldk + h * p.dk;
  B::gemm(false, true, p.lq, p.lk, p.dk, p.scale, qp, p.ldq, kp, p.ldk, T(0), s, p.lk);
  if (p.rel) {
    const index_t L = p.lq, r0 = L > p.max_rel ? L - p.max_rel : 0;
    const T* e = p.rel + (h * p.max_rel + (p.max_rel - L + r0)) * p.dk;  // E_L row r0
    for (index_t i = 0; i < L; ++i)
      for (index_t r = 0; r < r0; ++r) srel[i * L + r] = T(0);
    if (L - r0 > 0) B::gemm(false, true, L, L - r0, p.dk, p.scale, qp, p.ldq, e, p.dk, T(0), srel + r0, L);
    for (index_t i = 0; i < L; ++i)
      for (index_t j = 0; j < L; ++j) {
        index_t r, c;
        skew_source(L, i, j, r, c);
        if (c >= 0) s[i * L + j] += srel[r * L + c];
      }
  }
  constexpr T ninf = -std::numeric_limits<T>::infinity();
  if (p.attn_bias)
    for (index_t i = 0; i < p.lq * p.lk; ++i) s[i] += p.attn_bias[i];
  if (p.causal) {
    const index_t off = p.lk - p.lq;
    for (index_t i = 0; i < p.lq; ++i)
      for (index_t j = std::max<index_t>(0, i + off + 1); j < p.lk; ++j) s[i * p.lk + j] = ninf;
  }
  if (p.key_padding) {
    const std::uint8_t* kpm = p.key_padding + n * p.lk;
    for (index_t j = 0; j < p.lk; ++j)
      if (kpm[j])
        for (index_t i = 0; i < p.lq; ++i) s[i * p.lk + j] = ninf;
  }
}

template <class B, class T>
void host_attention_forward(attention_problem<T> p, const T* q, const T* k, const T* v, T* out, T* probs) {
  FUGUE_REQUIRE_HOST_BACKEND(B, "the fused (relative) attention kernel");
  const index_t LL = p.lq * p.lk;
  const int tasks = int(p.n * p.heads);
  cpu::parallel_for(tasks, [&](int t) {
    const index_t n = t / p.heads, h = t % p.heads;
    std::vector<T> srel(p.rel ? std::size_t(p.lq * p.lq) : 0), drop(p.dropout > 0 ? std::size_t(LL) : 0);
    T* s = probs + index_t(t) * LL;
    attention_logits<B>(p, n, h, q, k, s, srel.data());
    B::softmax_rows(p.lq, p.lk, s, s);
    for (index_t i = 0; i < p.lq; ++i)
      if (p.lk > 0 && s[i * p.lk] != s[i * p.lk])  // NaN: every key masked
        for (index_t j = 0; j < p.lk; ++j) s[i * p.lk + j] = T(0);
    const T* pd = s;
    if (p.dropout > 0) {
      for (index_t i = 0; i < p.lq; ++i) {
        T* d = drop.data() + i * p.lk;
        const T* si = s + i * p.lk;
        attention_keep_row(p, t, i, d);
        for (index_t j = 0; j < p.lk; ++j) d[j] *= si[j];
      }
      pd = drop.data();
    }
    const T* vp = v + n * p.lk * p.ldv + h * p.dv;
    T* op = out + n * p.lq * p.ldo + h * p.dv;
    B::gemm(false, false, p.lq, p.dv, p.lk, T(1), pd, p.lk, vp, p.ldv, T(0), op, p.ldo);
  });
}

template <class B, class T>
void host_attention_backward(attention_problem<T> p, const T* q, const T* k, const T* v, const T* probs, const T* dout,
                             T* dq, T* dk, T* dv, T* drel) {
  FUGUE_REQUIRE_HOST_BACKEND(B, "the fused (relative) attention kernel");
  const index_t LL = p.lq * p.lk;
  auto one = [&](index_t n, index_t h, T* dp, T* pd, T* dsrel) {
    const index_t t = n * p.heads + h;
    const T* pr = probs + t * LL;
    const T* qp = q + n * p.lq * p.ldq + h * p.dk;
    const T* kp = k + n * p.lk * p.ldk + h * p.dk;
    const T* vp = v + n * p.lk * p.ldv + h * p.dv;
    const T* dop = dout + n * p.lq * p.ldo + h * p.dv;
    const T* pdrop = pr;
    if (p.dropout > 0) {  // pd = keep mask scaled by 1/(1-p), then pdrop = probs * mask in dp
      for (index_t i = 0; i < p.lq; ++i) attention_keep_row(p, t, i, pd + i * p.lk);
      for (index_t i = 0; i < LL; ++i) dp[i] = pr[i] * pd[i];
      pdrop = dp;
    }
    // dV = Pd^T dO ; dPd = dO V^T
    if (dv)
      B::gemm(true, false, p.lk, p.dv, p.lq, T(1), pdrop, p.lk, dop, p.ldo, T(0), dv + n * p.lk * p.ldv + h * p.dv,
              p.ldv);
    B::gemm(false, true, p.lq, p.lk, p.dv, T(1), dop, p.ldo, vp, p.ldv, T(0), dp, p.lk);
    // dS = P * (dP - rowsum(dP * P)), with dP = dPd * keep / (1-p)
    for (index_t i = 0; i < p.lq; ++i) {
      T* d = dp + i * p.lk;
      const T* pi = pr + i * p.lk;
      if (p.dropout > 0)
        for (index_t j = 0; j < p.lk; ++j) d[j] *= pd[i * p.lk + j];
      T acc = 0;
      for (index_t j = 0; j < p.lk; ++j) acc += d[j] * pi[j];
      for (index_t j = 0; j < p.lk; ++j) d[j] = pi[j] * (d[j] - acc);
    }
    if (dq)
      B::gemm(false, false, p.lq, p.dk, p.lk, p.scale, dp, p.lk, kp, p.ldk, T(0), dq + n * p.lq * p.ldq + h * p.dk,
              p.ldq);
    if (dk)
      B::gemm(true, false, p.lk, p.dk, p.lq, p.scale, dp, p.lk, qp, p.ldq, T(0), dk + n * p.lk * p.ldk + h * p.dk,
              p.ldk);
    if (p.rel) {
      const index_t L = p.lq, r0 = L > p.max_rel ? L - p.max_rel : 0;
      std::fill(dsrel, dsrel + L * L, T(0));
      skew_backward(L, dp, dsrel);
      const T* e = p.rel + (h * p.max_rel + (p.max_rel - L + r0)) * p.dk;
      if (L - r0 > 0) {
        if (dq)
          B::gemm(false, false, L, p.dk, L - r0, p.scale, dsrel + r0, L, e, p.dk, T(1),
                  dq + n * p.lq * p.ldq + h * p.dk, p.ldq);
        if (drel)
          B::gemm(true, false, L - r0, p.dk, L, p.scale, dsrel + r0, L, qp, p.ldq, T(1),
                  drel + (h * p.max_rel + (p.max_rel - L + r0)) * p.dk, p.dk);
      }
    }
  };
  if (p.rel) {
    cpu::parallel_for(int(p.heads), [&](int h) {
      std::vector<T> dp(static_cast<std::size_t>(LL)), ds(static_cast<std::size_t>(LL));
      std::vector<T> pd(p.dropout > 0 ? std::size_t(LL) : 0);
      for (index_t n = 0; n < p.n; ++n) one(n, h, dp.data(), pd.data(), ds.data());
    });
  } else {
    cpu::parallel_for(int(p.n * p.heads), [&](int t) {
      std::vector<T> dp(static_cast<std::size_t>(LL));
      std::vector<T> pd(p.dropout > 0 ? std::size_t(LL) : 0);
      one(t / p.heads, t % p.heads, dp.data(), pd.data(), nullptr);
    });
  }
}

// The entry points: host loops on host-accessible backends, attention_device.hpp otherwise.
template <class B, class T>
void attention_forward(attention_problem<T> p, const T* q, const T* k, const T* v, T* out, T* probs) {
  p.finalize();
  FUGUE_CHECK(!p.rel || p.lq == p.lk, "relative attention needs equal query and key lengths, got ", p.lq, " and ",
              p.lk);
  if constexpr (B::host_accessible)
    host_attention_forward<B>(p, q, k, v, out, probs);
  else
    device_attn::attention_forward<B>(p, q, k, v, out, probs);
}

template <class B, class T>
void attention_backward(attention_problem<T> p, const T* q, const T* k, const T* v, const T* probs, const T* dout,
                        T* dq, T* dk, T* dv, T* drel) {
  p.finalize();
  if constexpr (B::host_accessible)
    host_attention_backward<B>(p, q, k, v, probs, dout, dq, dk, dv, drel);
  else
    device_attn::attention_backward<B>(p, q, k, v, probs, dout, dq, dk, dv, drel);
}

}  // namespace fugue::nn::detail
