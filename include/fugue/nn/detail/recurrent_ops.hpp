// fugue/nn/detail/recurrent_ops.hpp — LSTM / GRU sequences as single fused tape nodes.
//
// Contract:
//  * lstm_seq_op(tape, x, kernel, bias, forget_bias, h0, c0, reverse) records ONE node
//    (op "nn_lstm_seq") for a whole layer-direction over x [B, T, In] whose value is the
//    flat packing [ y (B*T*H) | h_last (B*H) | c_last (B*H) ]; its backward closure runs
//    BPTT over all steps (recurrent_kernels.hpp). The returned views y [B, T, H],
//    h [B, H], c [B, H] are cheap "nn_rnn_view" nodes over that packing (shared storage,
//    backward = scatter into a zero tensor of the packing's shape). h0 / c0 may be null
//    (zero initial state, no gradient).
//  * gru_seq_op: the same for a GRU (op "nn_gru_seq"), packing [ y | h_last ].
//  * concat_last_op(tape, a, b): [..., Ha] ++ [..., Hb] -> [..., Ha + Hb] (op
//    "nn_rnn_concat"), for bidirectional outputs and final states.
// Every op name here is in recurrent_op_names and is gradchecked in tests/nn_recurrent.
#pragma once

#include <array>
#include <cstring>
#include <type_traits>
#include <vector>

#include "fugue/autodiff/tape.hpp"
#include "fugue/autodiff/registry.hpp"
#include "fugue/nn/detail/recurrent_kernels.hpp"
#include "fugue/ops/concat.hpp"

FUGUE_AD_OP(nn_lstm_seq)
FUGUE_AD_OP(nn_gru_seq)
FUGUE_AD_OP(nn_rnn_view)
FUGUE_AD_OP(nn_rnn_concat)

namespace fugue::nn::detail {

inline constexpr std::array<const char*, 4> recurrent_op_names = {"nn_lstm_seq", "nn_gru_seq", "nn_rnn_view",
                                                                  "nn_rnn_concat"};

// A contiguous sub-range [offset, offset + shape.numel()) of a flat var, viewed as `shape`.
template <class T, class B>
ad::Var<T, B> flat_view_op(ad::Tape<T, B>& tape, const ad::Var<T, B>& packed, index_t offset, const Shape& shape) {
  const Tensor<T, B>& pv = packed.value();
  FUGUE_CHECK(pv.is_contiguous() && offset + shape.numel() <= pv.numel(), "rnn view out of range");
  Tensor<T, B> v = pv.reshape({pv.numel()}).slice(0, offset, offset + shape.numel()).reshape(shape);
  const Shape ps = pv.shape();
  return tape.record(
      std::move(v), {packed},
      [ps, offset](const Tensor<T, B>& g, ad::GradSink<T, B>& sink) {
        auto full = Tensor<T, B>::zeros(ps);
        B::copy(full.data() + offset, g.data(), sizeof(T) * std::size_t(g.numel()));
        sink.accumulate(0, full);
      },
      "nn_rnn_view");
}

// Tensor form (no tape): [..., Ha] ++ [..., Hb] along the last axis (fugue/ops/concat.hpp).
using ops::concat_last;

template <class T, class B>
ad::Var<T, B> concat_last_op(ad::Tape<T, B>& tape, const ad::Var<T, B>& a, const ad::Var<T, B>& b) {
  Tensor<T, B> y = concat_last(a.value(), b.value());
  const Shape sa = a.value().shape(), sb = b.value().shape();
  const index_t na = sa[-1], nb = sb[-1], rows = y.dim(-1) ? y.numel() / y.dim(-1) : 0;
  return tape.record(
      std::move(y), {a, b},
      [sa, sb, na, nb, rows](const Tensor<T, B>& g, ad::GradSink<T, B>& sink) {
        for (int k = 0; k < 2; ++k) {
          if (!sink.needs(k)) continue;
          const index_t n = k == 0 ? na : nb, off = k == 0 ? 0 : na;
          auto d = Tensor<T, B>::empty(k == 0 ? sa : sb);
          for (index_t r = 0; r < rows; ++r)
            B::copy(d.data() + r * n, g.data() + r * (na + nb) + off, sizeof(T) * std::size_t(n));
          sink.accumulate(k, d);
        }
      },
      "nn_rnn_concat");
}

template <class T, class B>
struct lstm_seq_vars {
  ad::Var<T, B> y, h, c;
};

template <class T, class B>
lstm_seq_vars<T, B> lstm_seq_op(ad::Tape<T, B>& tape, const ad::Var<T, B>& x, const ad::Var<T, B>& kernel,
                                const ad::Var<T, B>& bias, std::type_identity_t<T> forget_bias,
                                std::type_identity_t<const ad::Var<T, B>*> h0,
                                std::type_identity_t<const ad::Var<T, B>*> c0, bool reverse) {
  const Tensor<T, B> xv = x.value().contiguous(), kv = kernel.value().contiguous(), bv = bias.value().contiguous();
  FUGUE_CHECK(xv.rank() == 3, "LSTM input must be [B, T, In], got ", xv.shape().str());
  seq_dims d{xv.dim(0), xv.dim(1), xv.dim(2), bv.dim(0) / 4};
  FUGUE_CHECK(kv.rank() == 2 && kv.dim(0) == d.input + d.hidden && kv.dim(1) == 4 * d.hidden, "LSTM: input ",
              xv.shape().str(), " does not match kernel ", kv.shape().str(), " ([In + H, 4H])");
  FUGUE_CHECK(d.steps >= 1, "LSTM over an empty sequence");
  const Shape state{d.batch, d.hidden};
  Tensor<T, B> h0v, c0v;
  if (h0) {
    h0v = h0->value().contiguous();
    FUGUE_CHECK(h0v.shape() == state, "LSTM: initial h of shape ", h0v.shape().str(), ", expected ", state.str());
  }
  if (c0) {
    c0v = c0->value().contiguous();
    FUGUE_CHECK(c0v.shape() == state, "LSTM: initial c of shape ", c0v.shape().str(), ", expected ", state.str());
  }
  const index_t y_size = d.batch * d.steps * d.hidden, state_size = d.batch * d.hidden;
  auto z = Tensor<T, B>::empty({y_size + 2 * state_size});
  auto acts = Tensor<T, B>::empty({d.batch, d.steps, 4 * d.hidden});
  auto cs = Tensor<T, B>::empty({d.batch, d.steps, d.hidden});
  lstm_forward_seq<B>(d, xv.data(), kv.data(), bv.data(), forget_bias, h0 ? h0v.data() : nullptr,
                      c0 ? c0v.data() : nullptr, reverse, z.data(), acts.data(), cs.data());
  const index_t tl = reverse ? 0 : d.steps - 1;
  for (index_t b = 0; b < d.batch; ++b) {
    B::copy(z.data() + y_size + b * d.hidden, z.data() + (b * d.steps + tl) * d.hidden,
            sizeof(T) * std::size_t(d.hidden));
    B::copy(z.data() + y_size + state_size + b * d.hidden, cs.data() + (b * d.steps + tl) * d.hidden,
            sizeof(T) * std::size_t(d.hidden));
  }
  std::vector<ad::Var<T, B>> ins{x, kernel, bias};
  const int kh = h0 ? int(ins.size()) : -1;
  if (h0) ins.push_back(*h0);
  const int kc = c0 ? int(ins.size()) : -1;
  if (c0) ins.push_back(*c0);
  Tensor<T, B> yv = z;  // the packed value; y is its first B*T*H entries
  auto bw = [d, reverse, tl, xv, kv, h0v, c0v, acts, cs, yv, kh, kc](const Tensor<T, B>& g, ad::GradSink<T, B>& sink) {
    const index_t y_size = d.batch * d.steps * d.hidden, state_size = d.batch * d.hidden;
    // dy with the grad of h_last folded into its time step.
    auto dy = Tensor<T, B>::empty({d.batch, d.steps, d.hidden});
    B::copy(dy.data(), g.data(), sizeof(T) * std::size_t(y_size));
    for (index_t b = 0; b < d.batch; ++b) {
      T* row = dy.data() + (b * d.steps + tl) * d.hidden;
      B::zip(d.hidden, row, g.data() + y_size + b * d.hidden, row, fn::add{});
    }
    Tensor<T, B> dx, dk, db, dh0, dc0;
    if (sink.needs(0)) dx = Tensor<T, B>::empty(xv.shape());
    if (sink.needs(1)) dk = Tensor<T, B>::zeros(kv.shape());
    if (sink.needs(2)) db = Tensor<T, B>::zeros({4 * d.hidden});
    if (kh >= 0 && sink.needs(kh)) dh0 = Tensor<T, B>::empty({d.batch, d.hidden});
    if (kc >= 0 && sink.needs(kc)) dc0 = Tensor<T, B>::empty({d.batch, d.hidden});
    lstm_backward_seq<B>(d, xv.data(), kv.data(), h0v.defined() ? h0v.data() : nullptr,
                         c0v.defined() ? c0v.data() : nullptr, reverse, yv.data(), acts.data(), cs.data(), dy.data(),
                         g.data() + y_size + state_size, dx.defined() ? dx.data() : nullptr,
                         dk.defined() ? dk.data() : nullptr, db.defined() ? db.data() : nullptr,
                         dh0.defined() ? dh0.data() : nullptr, dc0.defined() ? dc0.data() : nullptr);
    if (dx.defined()) sink.accumulate(0, dx);
    if (dk.defined()) sink.accumulate(1, dk);
    if (db.defined()) sink.accumulate(2, db);
    if (dh0.defined()) sink.accumulate(kh, dh0);
    if (dc0.defined()) sink.accumulate(kc, dc0);
  };
  ad::Var<T, B> packed =
      tape.record(std::move(z), std::span<const ad::Var<T, B>>(ins.data(), ins.size()), std::move(bw), "nn_lstm_seq");
  return {flat_view_op(tape, packed, 0, Shape{d.batch, d.steps, d.hidden}), flat_view_op(tape, packed, y_size, state),
          flat_view_op(tape, packed, y_size + state_size, state)};
}

template <class T, class B>
struct gru_seq_vars {
  ad::Var<T, B> y, h;
};

template <class T, class B>
gru_seq_vars<T, B> gru_seq_op(ad::Tape<T, B>& tape, const ad::Var<T, B>& x, const ad::Var<T, B>& kernel,
                              const ad::Var<T, B>& rkernel, const ad::Var<T, B>& bias,
                              std::type_identity_t<const ad::Var<T, B>*> h0, bool reverse) {
  const Tensor<T, B> xv = x.value().contiguous(), kv = kernel.value().contiguous(), rv = rkernel.value().contiguous(),
                     bv = bias.value().contiguous();
  FUGUE_CHECK(xv.rank() == 3, "GRU input must be [B, T, In], got ", xv.shape().str());
  seq_dims d{xv.dim(0), xv.dim(1), xv.dim(2), rv.dim(0)};
  FUGUE_CHECK(kv.rank() == 2 && kv.dim(0) == d.input && kv.dim(1) == 3 * d.hidden, "GRU: input ", xv.shape().str(),
              " does not match kernel ", kv.shape().str(), " ([In, 3H])");
  FUGUE_CHECK(d.steps >= 1, "GRU over an empty sequence");
  const Shape state{d.batch, d.hidden};
  Tensor<T, B> h0v;
  if (h0) {
    h0v = h0->value().contiguous();
    FUGUE_CHECK(h0v.shape() == state, "GRU: initial h of shape ", h0v.shape().str(), ", expected ", state.str());
  }
  const index_t y_size = d.batch * d.steps * d.hidden, state_size = d.batch * d.hidden;
  auto z = Tensor<T, B>::empty({y_size + state_size});
  auto acts = Tensor<T, B>::empty({d.batch, d.steps, 3 * d.hidden});
  auto hn = Tensor<T, B>::empty({d.batch, d.steps, d.hidden});
  auto q = Tensor<T, B>::empty({d.batch, 3 * d.hidden});
  gru_forward_seq<B>(d, xv.data(), kv.data(), rv.data(), bv.data(), h0 ? h0v.data() : nullptr, reverse, z.data(),
                     acts.data(), hn.data(), q.data());
  const index_t tl = reverse ? 0 : d.steps - 1;
  for (index_t b = 0; b < d.batch; ++b)
    B::copy(z.data() + y_size + b * d.hidden, z.data() + (b * d.steps + tl) * d.hidden,
            sizeof(T) * std::size_t(d.hidden));
  std::vector<ad::Var<T, B>> ins{x, kernel, rkernel, bias};
  const int kh = h0 ? int(ins.size()) : -1;
  if (h0) ins.push_back(*h0);
  Tensor<T, B> yv = z;
  auto bw = [d, reverse, tl, xv, kv, rv, bv, h0v, acts, hn, yv, kh](const Tensor<T, B>& g, ad::GradSink<T, B>& sink) {
    const index_t y_size = d.batch * d.steps * d.hidden;
    auto dy = Tensor<T, B>::empty({d.batch, d.steps, d.hidden});
    B::copy(dy.data(), g.data(), sizeof(T) * std::size_t(y_size));
    for (index_t b = 0; b < d.batch; ++b) {
      T* row = dy.data() + (b * d.steps + tl) * d.hidden;
      B::zip(d.hidden, row, g.data() + y_size + b * d.hidden, row, fn::add{});
    }
    Tensor<T, B> dx, dk, dr, db, dh0;
    if (sink.needs(0)) dx = Tensor<T, B>::empty(xv.shape());
    if (sink.needs(1)) dk = Tensor<T, B>::zeros(kv.shape());
    if (sink.needs(2)) dr = Tensor<T, B>::zeros(rv.shape());
    if (sink.needs(3)) db = Tensor<T, B>::zeros(bv.shape());
    if (kh >= 0 && sink.needs(kh)) dh0 = Tensor<T, B>::empty({d.batch, d.hidden});
    gru_backward_seq<B>(d, xv.data(), kv.data(), rv.data(), h0v.defined() ? h0v.data() : nullptr, reverse, yv.data(),
                        acts.data(), hn.data(), dy.data(), dx.defined() ? dx.data() : nullptr,
                        dk.defined() ? dk.data() : nullptr, dr.defined() ? dr.data() : nullptr,
                        db.defined() ? db.data() : nullptr, dh0.defined() ? dh0.data() : nullptr);
    if (dx.defined()) sink.accumulate(0, dx);
    if (dk.defined()) sink.accumulate(1, dk);
    if (dr.defined()) sink.accumulate(2, dr);
    if (db.defined()) sink.accumulate(3, db);
    if (dh0.defined()) sink.accumulate(kh, dh0);
  };
  ad::Var<T, B> packed =
      tape.record(std::move(z), std::span<const ad::Var<T, B>>(ins.data(), ins.size()), std::move(bw), "nn_gru_seq");
  return {flat_view_op(tape, packed, 0, Shape{d.batch, d.steps, d.hidden}), flat_view_op(tape, packed, y_size, state)};
}

}  // namespace fugue::nn::detail
