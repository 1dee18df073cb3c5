// fugue/nn/detail/recurrent_device.hpp — the LSTM / GRU sequence kernels on device backends.
//
// Contract: the same functions, arguments and results as the host kernels of
// recurrent_kernels.hpp (lstm_forward_seq, lstm_backward_seq, gru_forward_seq,
// gru_backward_seq; see that header for the layouts), for backends that are not
// host-accessible (cuda::device and its Thrust host twins). Per time step there is one
// B::gemm for the recurrent product and one B::for_each over the B*H (batch, unit) pairs of
// a portable gate functor; the input projections, the weight and input gradients and the
// bias sums over all B*T rows are single GEMMs / column sums, as on the host. The gate
// functors call the cell equations of cell_equations.hpp with the host kernels' operands in
// the same order, so on the Thrust host systems results match cpu::native to rounding of the
// SIMD transcendental functions. The gate functors also serve the layers' step() paths through
// lstm_gates_rows / gru_gates_rows (recurrent_kernels.hpp).
// Pointers are device pointers; nothing here reads tensor memory on the host.
#pragma once

#include <utility>

#include "fugue/core/host_device.hpp"
#include "fugue/core/shape.hpp"
#include "fugue/nn/detail/cell_equations.hpp"
#include "fugue/tensor.hpp"

namespace fugue::nn::detail {

// A sequence batch: [batch, steps, input] in, [batch, steps, hidden] out.
struct seq_dims {
  index_t batch = 0, steps = 0, input = 0, hidden = 0;
};

// One LSTM step for rows b in [0, n), unit k in [0, H); index i = b * H + k. Row b's
// pre-activations [4H] (gates i, j, f, o, no bias) are at a + b * lda and are replaced by the
// activated gates; q (null: none) adds h_{t-1} W_h; cprev (null: zeros) is c_{t-1}. c and h
// receive c_t and h_t. cprev may equal c (an in-place step): each index reads its own element
// before writing it.
template <class T>
struct lstm_gates_at {
  index_t H;
  T* a;
  index_t lda;
  const T* q;
  index_t ldq;
  const T* bias;
  T forget_bias;
  const T* cprev;
  index_t ldcp;
  T* c;
  index_t ldc;
  T* h;
  index_t ldh;

  FUGUE_HOST_DEVICE void operator()(index_t i) const {
    const index_t b = i / H, k = i - b * H;
    T* ar = a + b * lda;
    const T* qr = q ? q + b * ldq : nullptr;
    T pre[4];
    for (int g = 0; g < 4; ++g) pre[g] = (qr ? ar[g * H + k] + qr[g * H + k] : ar[g * H + k]) + bias[g * H + k];
    const auto y = lstm_cell(pre[0], pre[1], pre[2] + forget_bias, pre[3], cprev ? cprev[b * ldcp + k] : T(0));
    ar[k] = y.i;
    ar[H + k] = y.j;
    ar[2 * H + k] = y.f;
    ar[3 * H + k] = y.o;
    c[b * ldc + k] = y.c;
    h[b * ldh + k] = y.h;
  }
};

// BPTT through step t of an LSTM sequence (layouts of lstm_backward_seq), index i = b * H + k:
// dh = dy_t + dhn (the grad of h_t from step t+1's recurrent product), dc (in: grad of c_t,
// out: grad of c_{t-1}), dA_t the pre-activation grads, hprev_t = h_{t-1} (zeros before the
// first step without h0) for the weight-gradient GEMM. first: t is the sequence's first step.
template <class T>
struct lstm_backward_at {
  index_t H, Tn, t, tp;
  bool first;
  const T* acts;
  const T* cs;
  const T* c0;
  const T* y;
  const T* h0;
  const T* dy;
  const T* dhn;
  T* dc;
  T* dA;
  T* hprev;

  FUGUE_HOST_DEVICE void operator()(index_t i) const {
    const index_t b = i / H, k = i - b * H, r = b * Tn + t, rp = b * Tn + tp, G = 4 * H;
    const T* act = acts + r * G;
    const T g = dy ? dy[r * H + k] + dhn[b * H + k] : dhn[b * H + k];
    const T cp = first ? (c0 ? c0[b * H + k] : T(0)) : cs[rp * H + k];
    const auto d =
        lstm_cell_backward(act[k], act[H + k], act[2 * H + k], act[3 * H + k], cs[r * H + k], cp, g, dc[b * H + k]);
    T* da = dA + r * G;
    da[k] = d.di;
    da[H + k] = d.dj;
    da[2 * H + k] = d.df;
    da[3 * H + k] = d.d_o;
    dc[b * H + k] = d.dc_prev;
    hprev[r * H + k] = first ? (h0 ? h0[b * H + k] : T(0)) : y[rp * H + k];
  }
};

// One GRU step (reset after the hidden product), index i = b * H + k. Row b's input
// projection [3H] (z, r, n, no bias) at p + b * ldp becomes the activated gates; q (null:
// zeros) is h_{t-1} U; hprev null = zeros; hn (null: not kept) receives h U_n + b_hn.
template <class T>
struct gru_gates_at {
  index_t H;
  T* p;
  index_t ldp;
  const T* q;
  index_t ldq;
  const T* bias;  // [2, 3H]
  const T* hprev;
  index_t ldhp;
  T* hn;
  index_t ldhn;
  T* h;
  index_t ldh;

  FUGUE_HOST_DEVICE void operator()(index_t i) const {
    const index_t b = i / H, k = i - b * H;
    T* pr = p + b * ldp;
    const T* qr = q ? q + b * ldq : nullptr;
    const T* bi = bias;
    const T* bh = bias + 3 * H;
    const auto y = gru_cell(pr[k] + bi[k], pr[H + k] + bi[H + k], pr[2 * H + k] + bi[2 * H + k], qr ? qr[k] : T(0),
                            qr ? qr[H + k] : T(0), qr ? qr[2 * H + k] : T(0), bh[k], bh[H + k], bh[2 * H + k],
                            hprev ? hprev[b * ldhp + k] : T(0));
    pr[k] = y.z;
    pr[H + k] = y.r;
    pr[2 * H + k] = y.n;
    if (hn) hn[b * ldhn + k] = y.hn;
    h[b * ldh + k] = y.h;
  }
};

// BPTT through step t of a GRU sequence (layouts of gru_backward_seq), index i = b * H + k:
// writes dP_t, dQ_t (pre-activation grads of the input and hidden products), dhz = dh * z (the
// direct path to h_{t-1}) and hprev_t = h_{t-1}.
template <class T>
struct gru_backward_at {
  index_t H, Tn, t, tp;
  bool first;
  const T* acts;
  const T* hn;
  const T* y;
  const T* h0;
  const T* dy;
  const T* dhn;
  T* dP;
  T* dQ;
  T* dhz;
  T* hprev;

  FUGUE_HOST_DEVICE void operator()(index_t i) const {
    const index_t b = i / H, k = i - b * H, r = b * Tn + t, G = 3 * H;
    const T* act = acts + r * G;
    const T hp = first ? (h0 ? h0[b * H + k] : T(0)) : y[(b * Tn + tp) * H + k];
    const T g = dy ? dy[r * H + k] + dhn[b * H + k] : dhn[b * H + k];
    const auto d = gru_cell_backward(act[k], act[H + k], act[2 * H + k], hn[r * H + k], hp, g);
    T* dp = dP + r * G;
    T* dq = dQ + r * G;
    dp[k] = d.dz;
    dp[H + k] = d.dr;
    dp[2 * H + k] = d.dn;
    dq[k] = d.dz;
    dq[H + k] = d.dr;
    dq[2 * H + k] = d.dqn;
    dhz[b * H + k] = d.dh_prev_direct;
    hprev[r * H + k] = hp;
  }
};

namespace device_rnn {

template <class Bk, class T>
Tensor<T, Bk> buffer(index_t n, bool zeroed = false) {
  return zeroed ? Tensor<T, Bk>::zeros({n}) : Tensor<T, Bk>::empty({n});
}

template <class Bk, class T>
void lstm_forward_seq(const seq_dims& d, const T* x, const T* kernel, const T* bias, T forget_bias, const T* h0,
                      const T* c0, bool reverse, T* y, T* acts, T* cs) {
  const index_t Bn = d.batch, Tn = d.steps, In = d.input, H = d.hidden, G = 4 * H;
  if (Bn == 0 || Tn == 0) return;
  if (In > 0)
    Bk::gemm(false, false, Bn * Tn, G, In, T(1), x, In, kernel, G, T(0), acts, G);
  else
    Bk::fill(Bn * Tn * G, T(0), acts);
  const T* Wh = kernel + In * G;
  auto q = buffer<Bk, T>(Bn * G);
  for (index_t s = 0; s < Tn; ++s) {
    const index_t t = reverse ? Tn - 1 - s : s, tp = reverse ? t + 1 : t - 1;
    const T* hp = s == 0 ? h0 : y + tp * H;
    const index_t ld = s == 0 ? H : Tn * H;
    if (hp) Bk::gemm(false, false, Bn, G, H, T(1), hp, ld, Wh, G, T(0), q.data(), G);
    const T* cp = s == 0 ? c0 : cs + tp * H;
    Bk::for_each(Bn * H, lstm_gates_at<T>{H, acts + t * G, Tn * G, hp ? q.data() : nullptr, G, bias, forget_bias, cp,
                                          ld, cs + t * H, Tn * H, y + t * H, Tn * H});
  }
}

template <class Bk, class T>
void lstm_backward_seq(const seq_dims& d, const T* x, const T* kernel, const T* h0, const T* c0, bool reverse,
                       const T* y, const T* acts, const T* cs, const T* dy, const T* dcT, T* dx, T* dkernel, T* dbias,
                       T* dh0, T* dc0) {
  const index_t Bn = d.batch, Tn = d.steps, In = d.input, H = d.hidden, G = 4 * H, R = Bn * Tn;
  if (Bn == 0 || Tn == 0) return;
  auto dA = buffer<Bk, T>(R * G), dhn = buffer<Bk, T>(Bn * H, true), dc = buffer<Bk, T>(Bn * H, !dcT),
       hprev = buffer<Bk, T>(R * H);
  if (dcT) Bk::copy(dc.data(), dcT, sizeof(T) * std::size_t(Bn * H));
  const T* Wh = kernel + In * G;
  for (index_t s = Tn - 1; s >= 0; --s) {
    const index_t t = reverse ? Tn - 1 - s : s, tp = reverse ? t + 1 : t - 1;
    Bk::for_each(Bn * H, lstm_backward_at<T>{H, Tn, t, tp, s == 0, acts, cs, c0, y, h0, dy, dhn.data(), dc.data(),
                                             dA.data(), hprev.data()});
    Bk::gemm(false, true, Bn, H, G, T(1), dA.data() + t * G, Tn * G, Wh, G, T(0), dhn.data(), H);  // dh_{t-1}
  }
  if (dh0) Bk::copy(dh0, dhn.data(), sizeof(T) * std::size_t(Bn * H));
  if (dc0) Bk::copy(dc0, dc.data(), sizeof(T) * std::size_t(Bn * H));
  if (dkernel) {
    if (In > 0) Bk::gemm(true, false, In, G, R, T(1), x, In, dA.data(), G, T(1), dkernel, G);
    Bk::gemm(true, false, H, G, R, T(1), hprev.data(), H, dA.data(), G, T(1), dkernel + In * G, G);
  }
  if (dbias) Bk::col_sum(R, G, dA.data(), dbias, true);
  if (dx && In > 0) Bk::gemm(false, true, R, In, G, T(1), dA.data(), G, kernel, G, T(0), dx, In);
}

template <class Bk, class T>
void gru_forward_seq(const seq_dims& d, const T* x, const T* kernel, const T* rkernel, const T* bias, const T* h0,
                     bool reverse, T* y, T* acts, T* hn, T* qbuf) {
  const index_t Bn = d.batch, Tn = d.steps, In = d.input, H = d.hidden, G = 3 * H;
  if (Bn == 0 || Tn == 0) return;
  if (In > 0)
    Bk::gemm(false, false, Bn * Tn, G, In, T(1), x, In, kernel, G, T(0), acts, G);
  else
    Bk::fill(Bn * Tn * G, T(0), acts);
  for (index_t s = 0; s < Tn; ++s) {
    const index_t t = reverse ? Tn - 1 - s : s, tp = reverse ? t + 1 : t - 1;
    const T* hp = s == 0 ? h0 : y + tp * H;
    const index_t ld = s == 0 ? H : Tn * H;
    if (hp) Bk::gemm(false, false, Bn, G, H, T(1), hp, ld, rkernel, G, T(0), qbuf, G);
    Bk::for_each(Bn * H, gru_gates_at<T>{H, acts + t * G, Tn * G, hp ? qbuf : nullptr, G, bias, hp, ld, hn + t * H,
                                         Tn * H, y + t * H, Tn * H});
  }
}

template <class Bk, class T>
void gru_backward_seq(const seq_dims& d, const T* x, const T* kernel, const T* rkernel, const T* h0, bool reverse,
                      const T* y, const T* acts, const T* hn, const T* dy, T* dx, T* dkernel, T* drkernel, T* dbias,
                      T* dh0) {
  const index_t Bn = d.batch, Tn = d.steps, In = d.input, H = d.hidden, G = 3 * H, R = Bn * Tn;
  if (Bn == 0 || Tn == 0) return;
  auto dP = buffer<Bk, T>(R * G), dQ = buffer<Bk, T>(R * G), dhn = buffer<Bk, T>(Bn * H, true),
       dhz = buffer<Bk, T>(Bn * H), hprev = buffer<Bk, T>(R * H);
  for (index_t s = Tn - 1; s >= 0; --s) {
    const index_t t = reverse ? Tn - 1 - s : s, tp = reverse ? t + 1 : t - 1;
    Bk::for_each(Bn * H, gru_backward_at<T>{H, Tn, t, tp, s == 0, acts, hn, y, h0, dy, dhn.data(), dP.data(), dQ.data(),
                                            dhz.data(), hprev.data()});
    // dh_{t-1} = dh * z + dQ_t U^T
    Bk::gemm(false, true, Bn, H, G, T(1), dQ.data() + t * G, Tn * G, rkernel, G, T(1), dhz.data(), H);
    std::swap(dhn, dhz);
  }
  if (dh0) Bk::copy(dh0, dhn.data(), sizeof(T) * std::size_t(Bn * H));
  if (dkernel && In > 0) Bk::gemm(true, false, In, G, R, T(1), x, In, dP.data(), G, T(1), dkernel, G);
  if (drkernel) Bk::gemm(true, false, H, G, R, T(1), hprev.data(), H, dQ.data(), G, T(1), drkernel, G);
  if (dbias) {
    Bk::col_sum(R, G, dP.data(), dbias, true);
    Bk::col_sum(R, G, dQ.data(), dbias + G, true);
  }
  if (dx && In > 0) Bk::gemm(false, true, R, In, G, T(1), dP.data(), G, kernel, G, T(0), dx, In);
}

}  // namespace device_rnn
}  // namespace fugue::nn::detail
