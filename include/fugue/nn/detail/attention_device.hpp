// fugue/nn/detail/attention_device.hpp — the fused attention kernels on device backends.
//
// Contract: device_attn::attention_forward / attention_backward take the arguments and give
// the results of the host kernels in attention_kernels.hpp (layouts, masks, dropout stream,
// relative skew, all-masked rows giving 0), for backends that are not host-accessible
// (cuda::device and its Thrust host twins). Differences in the problem description: the key
// padding mask is p.key_padding_values (T values [n, lk] in device memory, nonzero = masked)
// instead of host bytes; attn_bias and rel are device pointers.
// Shape of the work: every product is a GEMM batched over the N sequences, one call per head
// (the heads are column windows of the packed rows, so a head's matrices have the batch
// stride L * ld); the relative term Q E_L^T and its gradients are one GEMM per head over the N*L
// stacked query rows (its scratch is laid out [H, N, L, L] for that). Masks, the skew, dropout
// and the softmax backward are portable functors through B::generate / B::for_each (one
// element or one row per call). No atomics: skew is injective, so its transpose is a gather.
#pragma once

#include <cmath>
#include <cstdint>

#include "fugue/core/host_device.hpp"
#include "fugue/core/rng.hpp"
#include "fugue/core/shape.hpp"
#include "fugue/tensor.hpp"

namespace fugue::nn::detail {

// Masked logits, in place over probs [N, H, Lq, Lk] that holds scale * q k^T:
// + skew(S_rel) (srel [H, N, L, L], null when not relative) + attn_bias, then -inf where causal
// or key-padded. The host kernel's order of additions.
template <class T>
struct attention_logits_at {
  const T* s;
  const T* srel;
  const T* bias;
  const T* key_padding;
  index_t n, heads, lq, lk;
  bool causal;

  FUGUE_HOST_DEVICE T operator()(std::uint64_t idx) const {
    const index_t f = index_t(idx), j = f % lk, i = (f / lk) % lq, h = (f / (lk * lq)) % heads,
                  b = f / (lk * lq * heads);
    T v = s[f];
    if (srel) {
      const index_t L = lq, g = (i + 1) * L + j, r = g / (L + 1), c = g % (L + 1) - 1;
      if (c >= 0) v += srel[((h * n + b) * L + r) * L + c];
    }
    if (bias) v += bias[i * lk + j];
    if ((causal && j > i + (lk - lq)) || (key_padding && key_padding[b * lk + j] != T(0)))
      v = T(-INFINITY);  // a macro: numeric_limits is not callable in device code without --expt-relaxed-constexpr
    return v;
  }
};

// A row whose keys were all masked came out of softmax as NaN: zero it (output 0, no grad).
template <class T>
struct zero_nan_row_at {
  T* p;
  index_t cols;
  FUGUE_HOST_DEVICE void operator()(index_t row) const {
    T* r = p + row * cols;
    if (cols > 0 && r[0] != r[0])
      for (index_t j = 0; j < cols; ++j) r[j] = T(0);
  }
};

// Dropout keep mask scaled by 1/(1-p), optionally times x: the host kernel's element
// index ((n*H + h)*Lq + i)*Lk + j is the flat index into [N, H, Lq, Lk].
template <class T>
struct attention_keep_at {
  const T* x;  // null: the mask alone
  Philox rng;
  T p, inv;
  FUGUE_HOST_DEVICE T operator()(std::uint64_t idx) const {
    const T m = rng.template uniform<T>(idx) >= p ? inv : T(0);
    return x ? m * x[idx] : m;
  }
};

// Softmax backward per row, in place over dp: dS = P * (dP - <dP, P>), where dP is first
// multiplied by the dropout mask when there is one.
template <class T>
struct attention_softmax_backward_at {
  T* dp;
  const T* probs;
  const T* mask;
  index_t cols;
  FUGUE_HOST_DEVICE void operator()(index_t row) const {
    T* d = dp + row * cols;
    const T* pi = probs + row * cols;
    if (mask)
      for (index_t j = 0; j < cols; ++j) d[j] *= mask[row * cols + j];
    T acc = 0;
    for (index_t j = 0; j < cols; ++j) acc += d[j] * pi[j];
    for (index_t j = 0; j < cols; ++j) d[j] = pi[j] * (d[j] - acc);
  }
};

// skew^T(dS) into dsrel [H, N, L, L] as a gather: entry (r, c) of the skewed matrix came from
// flat position g = r (L+1) + c + 1 of the padded [L, L+1] view, i.e. from (i, j) =
// (g / L - 1, g % L) when that row exists; the pad column and rows outside [0, L) get 0.
template <class T>
struct skew_transpose_at {
  const T* ds;  // [N, H, L, L]
  index_t n, heads, L;
  FUGUE_HOST_DEVICE T operator()(std::uint64_t idx) const {
    const index_t f = index_t(idx), c = f % L, r = (f / L) % L, b = (f / (L * L)) % n, h = f / (L * L * n);
    const index_t g = r * (L + 1) + c + 1, i = g / L - 1, j = g % L;
    return i >= 0 && i < L ? ds[((b * heads + h) * L + i) * L + j] : T(0);
  }
};

namespace device_attn {

// E_L for head h starts at table row max_rel - L + r0; rows r < r0 are zero (distance >= max_rel).
template <class P>
index_t rel_first_row(const P& p) {
  return p.lq > p.max_rel ? p.lq - p.max_rel : 0;
}

template <class B, class P, class T>
void attention_forward(const P& p, const T* q, const T* k, const T* v, T* out, T* probs) {
  const index_t N = p.n, H = p.heads, LL = p.lq * p.lk;
  if (N == 0 || LL == 0) {
    if (N * p.lq * p.ldo > 0) B::fill(N * p.lq * p.ldo, T(0), out);
    return;
  }
  for (index_t h = 0; h < H; ++h)
    B::gemm_batched(false, true, p.lq, p.lk, p.dk, p.scale, q + h * p.dk, p.ldq, p.lq * p.ldq, k + h * p.dk, p.ldk,
                    p.lk * p.ldk, T(0), probs + h * LL, p.lk, H * LL, N);
  Tensor<T, B> srel;
  if (p.rel) {
    const index_t L = p.lq, r0 = rel_first_row(p);
    srel = Tensor<T, B>::zeros({H, N, L, L});
    for (index_t h = 0; h < H && L - r0 > 0; ++h)
      B::gemm(false, true, N * L, L - r0, p.dk, p.scale, q + h * p.dk, p.ldq,
              p.rel + (h * p.max_rel + (p.max_rel - L + r0)) * p.dk, p.dk, T(0), srel.data() + h * N * L * L + r0, L);
  }
  B::generate(N * H * LL, probs,
              attention_logits_at<T>{probs, p.rel ? srel.data() : nullptr, p.attn_bias, p.key_padding_values, N, H,
                                     p.lq, p.lk, p.causal});
  B::softmax_rows(N * H * p.lq, p.lk, probs, probs);
  B::for_each(N * H * p.lq, zero_nan_row_at<T>{probs, p.lk});
  const T* pd = probs;
  Tensor<T, B> dropped;
  if (p.dropout > 0) {
    dropped = Tensor<T, B>::empty({N * H * LL});
    B::generate(N * H * LL, dropped.data(), attention_keep_at<T>{probs, p.rng, p.dropout, T(1) / (T(1) - p.dropout)});
    pd = dropped.data();
  }
  for (index_t h = 0; h < H; ++h)
    B::gemm_batched(false, false, p.lq, p.dv, p.lk, T(1), pd + h * LL, p.lk, H * LL, v + h * p.dv, p.ldv, p.lk * p.ldv,
                    T(0), out + h * p.dv, p.ldo, p.lq * p.ldo, N);
}

template <class B, class P, class T>
void attention_backward(const P& p, const T* q, const T* k, const T* v, const T* probs, const T* dout, T* dq, T* dk,
                        T* dv, T* drel) {
  const index_t N = p.n, H = p.heads, LL = p.lq * p.lk, NL = N * H * LL;
  if (N == 0 || LL == 0) return;
  Tensor<T, B> mask, dropped, dP = Tensor<T, B>::empty({NL});
  const T* pdrop = probs;
  if (p.dropout > 0) {
    const T inv = T(1) / (T(1) - p.dropout);
    mask = Tensor<T, B>::empty({NL});
    dropped = Tensor<T, B>::empty({NL});
    B::generate(NL, mask.data(), attention_keep_at<T>{nullptr, p.rng, p.dropout, inv});
    B::generate(NL, dropped.data(), attention_keep_at<T>{probs, p.rng, p.dropout, inv});
    pdrop = dropped.data();
  }
  for (index_t h = 0; h < H; ++h) {
    if (dv)  // dV = Pd^T dO
      B::gemm_batched(true, false, p.lk, p.dv, p.lq, T(1), pdrop + h * LL, p.lk, H * LL, dout + h * p.dv, p.ldo,
                      p.lq * p.ldo, T(0), dv + h * p.dv, p.ldv, p.lk * p.ldv, N);
    // dPd = dO V^T
    B::gemm_batched(false, true, p.lq, p.lk, p.dv, T(1), dout + h * p.dv, p.ldo, p.lq * p.ldo, v + h * p.dv, p.ldv,
                    p.lk * p.ldv, T(0), dP.data() + h * LL, p.lk, H * LL, N);
  }
  B::for_each(N * H * p.lq,
              attention_softmax_backward_at<T>{dP.data(), probs, p.dropout > 0 ? mask.data() : nullptr, p.lk});
  for (index_t h = 0; h < H; ++h) {
    if (dq)
      B::gemm_batched(false, false, p.lq, p.dk, p.lk, p.scale, dP.data() + h * LL, p.lk, H * LL, k + h * p.dk, p.ldk,
                      p.lk * p.ldk, T(0), dq + h * p.dk, p.ldq, p.lq * p.ldq, N);
    if (dk)
      B::gemm_batched(true, false, p.lk, p.dk, p.lq, p.scale, dP.data() + h * LL, p.lk, H * LL, q + h * p.dk, p.ldq,
                      p.lq * p.ldq, T(0), dk + h * p.dk, p.ldk, p.lk * p.ldk, N);
  }
  if (p.rel && (dq || drel)) {
    const index_t L = p.lq, r0 = rel_first_row(p);
    auto dsrel = Tensor<T, B>::empty({H, N, L, L});
    B::generate(NL, dsrel.data(), skew_transpose_at<T>{dP.data(), N, H, L});
    for (index_t h = 0; h < H && L - r0 > 0; ++h) {
      const T* ds = dsrel.data() + h * N * L * L + r0;
      const index_t e0 = (h * p.max_rel + (p.max_rel - L + r0)) * p.dk;
      if (dq) B::gemm(false, false, N * L, p.dk, L - r0, p.scale, ds, L, p.rel + e0, p.dk, T(1), dq + h * p.dk, p.ldq);
      if (drel) B::gemm(true, false, L - r0, p.dk, N * L, p.scale, ds, L, q + h * p.dk, p.ldq, T(1), drel + e0, p.dk);
    }
  }
}

}  // namespace device_attn
}  // namespace fugue::nn::detail
