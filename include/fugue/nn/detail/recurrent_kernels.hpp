// fugue/nn/detail/recurrent_kernels.hpp — fused LSTM / GRU sequence kernels (forward + BPTT).
//
// Contract (raw pointers, row-major, contiguous unless a leading dimension is given):
//  * lstm_forward_seq: one direction of one LSTM layer over a whole sequence.
//      x [B, T, In], kernel [(In+H), 4H] (rows 0..In-1 act on x, rows In.. on h; gate
//      column blocks [i, j(c~), f, o], TF LSTMBlockCell order), bias [4H], forget_bias
//      added to the f pre-activation at run time. h0 / c0 [B, H] or null (zeros).
//      reverse = true walks t = T-1 .. 0 (the backward half of a bidirectional layer).
//      Writes y [B, T, H] (h_t), acts [B, T, 4H] (activated gates i, j, f, o: what BPTT
//      needs) and cs [B, T, H] (c_t). The input projection of all steps is one GEMM
//      (M = B*T); each step adds one GEMM/GEMV h_{t-1} W_h into the same buffer and runs
//      the SIMD gate kernel.
//  * lstm_backward_seq: the exact gradient of the above, given dy [B, T, H] (may be
//      null), dcT [B, H] (grad of the final cell state, may be null); the grad of the
//      final h is part of dy. Accumulates (+=) into dkernel / dbias, writes (=) dx, dh0,
//      dc0 when non-null. Per step only dh_{t-1} = dA_t W_h^T is a GEMM; weight grads,
//      bias grads and dx are three GEMMs / one column sum over all B*T rows.
//  * gru_forward_seq / gru_backward_seq: the same for a GRU with the reset gate applied
//      after the hidden matmul (PyTorch; Keras reset_after=True):
//      kernel [In, 3H], rkernel [H, 3H], gate blocks [z, r, n] (Keras order),
//      bias [2, 3H] (row 0 input bias, row 1 recurrent bias).
//      z = s(x Wz + bz_i + h Uz + bz_h), r = s(x Wr + br_i + h Ur + br_h),
//      n = tanh(x Wn + bn_i + r * (h Un + bn_h)), h' = z * h + (1 - z) * n.
//      Saves acts [B, T, 3H] (z, r, n) and hn [B, T, H] (h Un + bn_h).
//  * *_gates / *_gates_rows: the per-row SIMD gate kernels, also used by step(); the cell
//    equations themselves are cell_equations.hpp's (shared with the device functors).
// Workspace for the backward passes is allocated per call from the backend (cached);
// the step() paths only call the gate kernels and the backend's gemm/gemv.
// Kernels use xsimd through B::arch when the backend has one (cpu::simd<Arch>), plain
// scalar loops otherwise. On a backend that is not host-accessible the *_seq functions and
// lstm_gates_rows / gru_gates_rows run the device kernels of recurrent_device.hpp (same
// arguments, same results); the per-row lstm_gates / gru_gates need a host-accessible one.
#pragma once

#include "fugue/backend/host_only.hpp"

#include <cstring>
#include <utility>
#include <vector>

#include <xsimd/xsimd.hpp>

#include "fugue/backend/cpu.hpp"
#include "fugue/core/lanes.hpp"
#include "fugue/core/shape.hpp"
#include "fugue/tensor.hpp"
#include "fugue/nn/detail/cell_equations.hpp"
#include "fugue/nn/detail/recurrent_device.hpp"

namespace fugue::nn::detail {

// B::arch when the backend has one, else cpu::scalar_arch (now public: cpu::arch_of).
template <class B>
using backend_arch = cpu::arch_of<B>;

// A recurrent weight multiplied at every time step: op(W) (K x N) is packed once per
// sequence when the backend can (Bk::pack_b: cpu::simd) and the batch is large enough for
// the blocked GEMM kernel, which would otherwise repack W on every step (measured 18 % of an
// LSTM(512) B=64 training step). Otherwise gemm() is the backend's plain gemm; both give
// the same result bit for bit.
template <class Bk, class T>
concept packs_b_operand = requires(const T* w, index_t n) { Bk::pack_b(false, n, n, w, n); };

template <class Bk, class T>
class step_weight {
  struct unpacked {};
  template <class X>
  static auto packed_type() {
    if constexpr (packs_b_operand<X, T>)
      return Bk::pack_b(false, index_t{}, index_t{}, static_cast<const T*>(nullptr), index_t{});
    else
      return unpacked{};
  }
  using packed_t = decltype(packed_type<Bk>());

 public:
  // rows: the M of the per-step products (the batch).
  step_weight(bool trans, index_t K, index_t N, const T* w, index_t ldw, index_t rows)
      : trans_(trans), k_(K), n_(N), w_(w), ldw_(ldw) {
    if constexpr (packs_b_operand<Bk, T>) {
      packed_ = trans ? rows > 8 : rows >= 32;
      if (packed_) pw_ = Bk::pack_b(trans, K, N, w, ldw);
    }
  }
  // C [M, N] = alpha * A [M, K] op(W) + beta * C
  void gemm(index_t M, T alpha, const T* A, index_t lda, T beta, T* C, index_t ldc) const {
    if constexpr (packs_b_operand<Bk, T>)
      if (packed_) return Bk::gemm_packed(false, M, alpha, A, lda, pw_, beta, C, ldc);
    Bk::gemm(false, trans_, M, n_, k_, alpha, A, lda, w_, ldw_, beta, C, ldc);
  }

 private:
  bool trans_;
  index_t k_, n_;
  const T* w_;
  index_t ldw_;
  bool packed_ = false;
  packed_t pw_;
};

// Workspace of the sequence kernels, from the backend's allocator (on the CPU its block
// cache: the MBs of BPTT workspace are not page-faulted in again on every training step).
template <class Bk, class T>
class work_buffer {
 public:
  explicit work_buffer(index_t n, bool zeroed = false)
      : t_(zeroed ? Tensor<T, Bk>::zeros({n}) : Tensor<T, Bk>::empty({n})) {}
  T* data() noexcept { return t_.data(); }
  const T* data() const noexcept { return t_.data(); }
  void swap(work_buffer& o) noexcept { std::swap(t_, o.t_); }

 private:
  Tensor<T, Bk> t_;
};

// Calls f(V{}, k) over [0, n): B's SIMD lanes first (V an xsimd batch), then the scalar tail
// (V = T); f does its arithmetic in the lane vocabulary (core/lanes.hpp).
template <class B, class T, class F>
inline void for_lanes(index_t n, F&& f) {
  using Arch = typename backend_arch<B>::type;
  index_t k = 0;
  if constexpr (!cpu::is_scalar_arch<Arch>) {
    using V = xsimd::batch<T, Arch>;
    for (; k + index_t(V::size) <= n; k += index_t(V::size)) f(V{}, k);
  }
  for (; k < n; ++k) f(T{}, k);
}

// ---------------------------------------------------------------------------------
// LSTM gate kernels (the equations: cell_equations.hpp)
// ---------------------------------------------------------------------------------

// a [4H] pre-activations (without bias) -> activated gates in place; c, h outputs.
// cprev may be null (zeros); q (optional) is a second pre-activation term [4H] (h_{t-1} W_h).
template <class B, class T>
inline void lstm_gates(index_t H, T* a, const T* bias, T forget_bias, const T* cprev, T* c, T* h,
                       const T* q = nullptr) {
  FUGUE_REQUIRE_HOST_BACKEND(B, "the fused LSTM / GRU kernel");
  for_lanes<B, T>(H, [&](auto lane_tag, index_t k) {
    using V = decltype(lane_tag);
    const auto pre = [&](index_t g) {
      const V x = lane::load<V>(a + g * H + k);
      return (q ? x + lane::load<V>(q + g * H + k) : x) + lane::load<V>(bias + g * H + k);
    };
    const auto y = lstm_cell(pre(0), pre(1), pre(2) + lane::k<V>(forget_bias), pre(3),
                             cprev ? lane::load<V>(cprev + k) : lane::k<V>(0));
    lane::store(a + k, y.i);
    lane::store(a + H + k, y.j);
    lane::store(a + 2 * H + k, y.f);
    lane::store(a + 3 * H + k, y.o);
    lane::store(c + k, y.c);
    lane::store(h + k, y.h);
  });
}

// Backward through one gate row. act [4H] activated gates, c [H] = c_t, cprev (null =
// zeros), dh [H] total grad of h_t, dc [H] in: grad of c_t from the future, out: grad
// of c_{t-1}. da [4H] receives the pre-activation grads.
template <class B, class T>
inline void lstm_gates_backward(index_t H, const T* act, const T* c, const T* cprev, const T* dh, T* dc, T* da) {
  FUGUE_REQUIRE_HOST_BACKEND(B, "the fused LSTM / GRU kernel");
  for_lanes<B, T>(H, [&](auto lane_tag, index_t k) {
    using V = decltype(lane_tag);
    const auto d = lstm_cell_backward(lane::load<V>(act + k), lane::load<V>(act + H + k),
                                      lane::load<V>(act + 2 * H + k), lane::load<V>(act + 3 * H + k),
                                      lane::load<V>(c + k), cprev ? lane::load<V>(cprev + k) : lane::k<V>(0),
                                      lane::load<V>(dh + k), lane::load<V>(dc + k));
    lane::store(da + k, d.di);
    lane::store(da + H + k, d.dj);
    lane::store(da + 2 * H + k, d.df);
    lane::store(da + 3 * H + k, d.d_o);
    lane::store(dc + k, d.dc_prev);
  });
}

// lstm_gates over rows b in [0, n): row b's pre-activations at a + b * lda, optional q at
// q + b * ldq, cprev (null: zeros) at cprev + b * ldcp, outputs at c + b * ldc, h + b * ldh.
template <class B, class T>
void lstm_gates_rows(index_t n, index_t H, T* a, index_t lda, const T* q, index_t ldq, const T* bias, T forget_bias,
                     const T* cprev, index_t ldcp, T* c, index_t ldc, T* h, index_t ldh) {
  if constexpr (B::host_accessible) {
    for (index_t b = 0; b < n; ++b)
      lstm_gates<B>(H, a + b * lda, bias, forget_bias, cprev ? cprev + b * ldcp : nullptr, c + b * ldc, h + b * ldh,
                    q ? q + b * ldq : nullptr);
  } else if (n > 0) {
    B::for_each(n * H, lstm_gates_at<T>{H, a, lda, q, ldq, bias, forget_bias, cprev, ldcp, c, ldc, h, ldh});
  }
}

template <class Bk, class T>
void lstm_forward_seq(const seq_dims& d, const T* x, const T* kernel, const T* bias, T forget_bias, const T* h0,
                      const T* c0, bool reverse, T* y, T* acts, T* cs) {
  if constexpr (!Bk::host_accessible) {
    device_rnn::lstm_forward_seq<Bk>(d, x, kernel, bias, forget_bias, h0, c0, reverse, y, acts, cs);
  } else {
    const index_t Bn = d.batch, Tn = d.steps, In = d.input, H = d.hidden, G = 4 * H;
    if (Bn == 0 || Tn == 0) return;
    // All input projections at once: acts = x W_x.
    if (In > 0)
      Bk::gemm(false, false, Bn * Tn, G, In, T(1), x, In, kernel, G, T(0), acts, G);
    else
      std::memset(acts, 0, sizeof(T) * std::size_t(Bn * Tn * G));
    const T* Wh = kernel + In * G;
    const step_weight<Bk, T> wh(false, H, G, Wh, G, Tn > 1 ? Bn : 0);
    // h_{t-1} W_h goes to a contiguous [B, 4H] buffer, not into acts' step-t slice: that
    // slice's rows are T*4H apart (a multiple of 4 KB for 2^k sizes), which made the GEMM's
    // C tile alias in L1 (measured 50 -> 65-70 GFLOP/s at B 64, H 512, T 32).
    work_buffer<Bk, T> q(Bn * G);
    for (index_t s = 0; s < Tn; ++s) {
      const index_t t = reverse ? Tn - 1 - s : s, tp = reverse ? t + 1 : t - 1;
      const T* hp = s == 0 ? h0 : y + tp * H;
      const index_t ldh = s == 0 ? H : Tn * H;
      if (hp) wh.gemm(Bn, T(1), hp, ldh, T(0), q.data(), G);
      for (index_t b = 0; b < Bn; ++b) {
        const T* cp = s == 0 ? (c0 ? c0 + b * H : nullptr) : cs + (b * Tn + tp) * H;
        lstm_gates<Bk>(H, acts + (b * Tn + t) * G, bias, forget_bias, cp, cs + (b * Tn + t) * H, y + (b * Tn + t) * H,
                       hp ? q.data() + b * G : nullptr);
      }
    }
  }
}

template <class Bk, class T>
void lstm_backward_seq(const seq_dims& d, const T* x, const T* kernel, const T* h0, const T* c0, bool reverse,
                       const T* y, const T* acts, const T* cs, const T* dy, const T* dcT, T* dx, T* dkernel, T* dbias,
                       T* dh0, T* dc0) {
  if constexpr (!Bk::host_accessible) {
    device_rnn::lstm_backward_seq<Bk>(d, x, kernel, h0, c0, reverse, y, acts, cs, dy, dcT, dx, dkernel, dbias, dh0,
                                      dc0);
  } else {
    const index_t Bn = d.batch, Tn = d.steps, In = d.input, H = d.hidden, G = 4 * H;
    work_buffer<Bk, T> dA(Bn * Tn * G), dhn(Bn * H, true), dc(Bn * H, true), dh(H), hprev(Bn * Tn * H, true);
    if (dcT) std::memcpy(dc.data(), dcT, sizeof(T) * std::size_t(Bn * H));
    const T* Wh = kernel + In * G;
    const step_weight<Bk, T> wht(true, G, H, Wh, G, Tn > 1 ? Bn : 0);  // op(W_h) = W_h^T
    for (index_t s = Tn - 1; s >= 0; --s) {
      const index_t t = reverse ? Tn - 1 - s : s, tp = reverse ? t + 1 : t - 1;
      for (index_t b = 0; b < Bn; ++b) {
        const T* dyr = dy ? dy + (b * Tn + t) * H : nullptr;
        const T* dn = dhn.data() + b * H;
        for_lanes<Bk, T>(H, [&](auto lane_tag, index_t k) {
          using V = decltype(lane_tag);
          const V from_next = lane::load<V>(dn + k);
          lane::store(dh.data() + k, dyr ? lane::load<V>(dyr + k) + from_next : from_next);
        });
        const T* cp = s == 0 ? (c0 ? c0 + b * H : nullptr) : cs + (b * Tn + tp) * H;
        lstm_gates_backward<Bk>(H, acts + (b * Tn + t) * G, cs + (b * Tn + t) * H, cp, dh.data(), dc.data() + b * H,
                                dA.data() + (b * Tn + t) * G);
        // h_{t-1} as the GEMM operand of the weight gradient.
        const T* hp = s == 0 ? (h0 ? h0 + b * H : nullptr) : y + (b * Tn + tp) * H;
        if (hp) std::memcpy(hprev.data() + (b * Tn + t) * H, hp, sizeof(T) * std::size_t(H));
      }
      // dh_{t-1} = dA_t W_h^T
      wht.gemm(Bn, T(1), dA.data() + t * G, Tn * G, T(0), dhn.data(), H);
    }
    if (dh0) std::memcpy(dh0, dhn.data(), sizeof(T) * std::size_t(Bn * H));
    if (dc0) std::memcpy(dc0, dc.data(), sizeof(T) * std::size_t(Bn * H));
    const index_t R = Bn * Tn;
    if (dkernel) {
      if (In > 0) Bk::gemm(true, false, In, G, R, T(1), x, In, dA.data(), G, T(1), dkernel, G);
      Bk::gemm(true, false, H, G, R, T(1), hprev.data(), H, dA.data(), G, T(1), dkernel + In * G, G);
    }
    if (dbias) Bk::col_sum(R, G, dA.data(), dbias, true);
    if (dx && In > 0) Bk::gemm(false, true, R, In, G, T(1), dA.data(), G, kernel, G, T(0), dx, In);
  }
}

// ---------------------------------------------------------------------------------
// GRU
// ---------------------------------------------------------------------------------

// p [3H] = x W (no bias) -> activated z, r, n in place; q [3H] = h U (no bias, null =
// zeros); hn_out [H] receives h Un + bn_h (may be null); hprev null = zeros.
template <class B, class T>
inline void gru_gates(index_t H, T* p, const T* q, const T* bias, const T* hprev, T* hn_out, T* h) {
  FUGUE_REQUIRE_HOST_BACKEND(B, "the fused LSTM / GRU kernel");
  const T* bi = bias;
  const T* bh = bias + 3 * H;
  for_lanes<B, T>(H, [&](auto lane_tag, index_t k) {
    using V = decltype(lane_tag);
    const V zero = lane::k<V>(0);
    const auto x = [&](index_t g) { return lane::load<V>(p + g * H + k) + lane::load<V>(bi + g * H + k); };
    const auto rec = [&](index_t g) { return q ? lane::load<V>(q + g * H + k) : zero; };
    const auto y = gru_cell(x(0), x(1), x(2), rec(0), rec(1), rec(2), lane::load<V>(bh + k), lane::load<V>(bh + H + k),
                            lane::load<V>(bh + 2 * H + k), hprev ? lane::load<V>(hprev + k) : zero);
    lane::store(p + k, y.z);
    lane::store(p + H + k, y.r);
    lane::store(p + 2 * H + k, y.n);
    if (hn_out) lane::store(hn_out + k, y.hn);
    lane::store(h + k, y.h);
  });
}

// dh [H] total grad of h_t; writes dp [3H], dq [3H] pre-activation grads and
// dhz [H] = dh * z (the direct path to h_{t-1}).
template <class B, class T>
inline void gru_gates_backward(index_t H, const T* act, const T* hn, const T* hprev, const T* dh, T* dp, T* dq,
                               T* dhz) {
  FUGUE_REQUIRE_HOST_BACKEND(B, "the fused LSTM / GRU kernel");
  for_lanes<B, T>(H, [&](auto lane_tag, index_t k) {
    using V = decltype(lane_tag);
    const auto d = gru_cell_backward(lane::load<V>(act + k), lane::load<V>(act + H + k), lane::load<V>(act + 2 * H + k),
                                     lane::load<V>(hn + k), hprev ? lane::load<V>(hprev + k) : lane::k<V>(0),
                                     lane::load<V>(dh + k));
    lane::store(dp + k, d.dz);
    lane::store(dp + H + k, d.dr);
    lane::store(dp + 2 * H + k, d.dn);
    lane::store(dq + k, d.dz);
    lane::store(dq + H + k, d.dr);
    lane::store(dq + 2 * H + k, d.dqn);
    lane::store(dhz + k, d.dh_prev_direct);
  });
}

// gru_gates over rows b in [0, n): row b's input projection at p + b * ldp, q (null: zeros)
// at q + b * ldq, hprev (null: zeros) at hprev + b * ldhp, h at h + b * ldh (may be hprev).
template <class B, class T>
void gru_gates_rows(index_t n, index_t H, T* p, index_t ldp, const T* q, index_t ldq, const T* bias, const T* hprev,
                    index_t ldhp, T* h, index_t ldh) {
  if constexpr (B::host_accessible) {
    for (index_t b = 0; b < n; ++b)
      gru_gates<B>(H, p + b * ldp, q ? q + b * ldq : nullptr, bias, hprev ? hprev + b * ldhp : nullptr,
                   static_cast<T*>(nullptr), h + b * ldh);
  } else if (n > 0) {
    B::for_each(n * H, gru_gates_at<T>{H, p, ldp, q, ldq, bias, hprev, ldhp, nullptr, 0, h, ldh});
  }
}

template <class Bk, class T>
void gru_forward_seq(const seq_dims& d, const T* x, const T* kernel, const T* rkernel, const T* bias, const T* h0,
                     bool reverse, T* y, T* acts, T* hn, T* qbuf /* [B, 3H] */) {
  if constexpr (!Bk::host_accessible) {
    device_rnn::gru_forward_seq<Bk>(d, x, kernel, rkernel, bias, h0, reverse, y, acts, hn, qbuf);
  } else {
    const index_t Bn = d.batch, Tn = d.steps, In = d.input, H = d.hidden, G = 3 * H;
    if (Bn == 0 || Tn == 0) return;
    if (In > 0)
      Bk::gemm(false, false, Bn * Tn, G, In, T(1), x, In, kernel, G, T(0), acts, G);
    else
      std::memset(acts, 0, sizeof(T) * std::size_t(Bn * Tn * G));
    const step_weight<Bk, T> u(false, H, G, rkernel, G, Tn > 1 ? Bn : 0);
    for (index_t s = 0; s < Tn; ++s) {
      const index_t t = reverse ? Tn - 1 - s : s, tp = reverse ? t + 1 : t - 1;
      const T* hp = s == 0 ? h0 : y + tp * H;
      const index_t ldh = s == 0 ? H : Tn * H;
      if (hp) u.gemm(Bn, T(1), hp, ldh, T(0), qbuf, G);
      for (index_t b = 0; b < Bn; ++b) {
        const T* hpb = s == 0 ? (h0 ? h0 + b * H : nullptr) : y + (b * Tn + tp) * H;
        gru_gates<Bk>(H, acts + (b * Tn + t) * G, hp ? qbuf + b * G : nullptr, bias, hpb, hn + (b * Tn + t) * H,
                      y + (b * Tn + t) * H);
      }
    }
  }
}

template <class Bk, class T>
void gru_backward_seq(const seq_dims& d, const T* x, const T* kernel, const T* rkernel, const T* h0, bool reverse,
                      const T* y, const T* acts, const T* hn, const T* dy, T* dx, T* dkernel, T* drkernel, T* dbias,
                      T* dh0) {
  if constexpr (!Bk::host_accessible) {
    device_rnn::gru_backward_seq<Bk>(d, x, kernel, rkernel, h0, reverse, y, acts, hn, dy, dx, dkernel, drkernel, dbias,
                                     dh0);
  } else {
    const index_t Bn = d.batch, Tn = d.steps, In = d.input, H = d.hidden, G = 3 * H;
    work_buffer<Bk, T> dP(Bn * Tn * G), dQ(Bn * Tn * G), dhn(Bn * H, true), dhz(Bn * H), dh(H),
        hprev(Bn * Tn * H, true);
    const step_weight<Bk, T> ut(true, G, H, rkernel, G, Tn > 1 ? Bn : 0);  // op(U) = U^T
    for (index_t s = Tn - 1; s >= 0; --s) {
      const index_t t = reverse ? Tn - 1 - s : s, tp = reverse ? t + 1 : t - 1;
      for (index_t b = 0; b < Bn; ++b) {
        const T* dyr = dy ? dy + (b * Tn + t) * H : nullptr;
        const T* dn = dhn.data() + b * H;
        for_lanes<Bk, T>(H, [&](auto lane_tag, index_t k) {
          using V = decltype(lane_tag);
          const V from_next = lane::load<V>(dn + k);
          lane::store(dh.data() + k, dyr ? lane::load<V>(dyr + k) + from_next : from_next);
        });
        const T* hp = s == 0 ? (h0 ? h0 + b * H : nullptr) : y + (b * Tn + tp) * H;
        const index_t r = b * Tn + t;
        gru_gates_backward<Bk>(H, acts + r * G, hn + r * H, hp, dh.data(), dP.data() + r * G, dQ.data() + r * G,
                               dhz.data() + b * H);
        if (hp) std::memcpy(hprev.data() + r * H, hp, sizeof(T) * std::size_t(H));
      }
      // dh_{t-1} = dh * z + dQ_t U^T
      ut.gemm(Bn, T(1), dQ.data() + t * G, Tn * G, T(1), dhz.data(), H);
      dhn.swap(dhz);
    }
    if (dh0) std::memcpy(dh0, dhn.data(), sizeof(T) * std::size_t(Bn * H));
    const index_t R = Bn * Tn;
    if (dkernel && In > 0) Bk::gemm(true, false, In, G, R, T(1), x, In, dP.data(), G, T(1), dkernel, G);
    if (drkernel) Bk::gemm(true, false, H, G, R, T(1), hprev.data(), H, dQ.data(), G, T(1), drkernel, G);
    if (dbias) {
      Bk::col_sum(R, G, dP.data(), dbias, true);
      Bk::col_sum(R, G, dQ.data(), dbias + G, true);
    }
    if (dx && In > 0) Bk::gemm(false, true, R, In, G, T(1), dP.data(), G, kernel, G, T(0), dx, In);
  }
}

}  // namespace fugue::nn::detail
