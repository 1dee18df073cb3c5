// fugue/nn/detail/cell_equations.hpp — the LSTM and GRU cell equations, written once.
//
// Contract: each function takes one lane V (a scalar T, or an xsimd batch of units) of every
// operand and returns the cell's outputs for that lane; the host SIMD kernels
// (recurrent_kernels.hpp: lstm_gates, gru_gates and their backward), the device gate functors
// (recurrent_device.hpp) and so every layer's step() call these and nothing else. Scalar
// overloads are FUGUE_HOST_DEVICE (FUGUE_PORTABLE_FN, core/host_device.hpp).
//  * lstm_cell(ai, aj, af, ao, c_prev): TF LSTMBlockCell with gate order [i, j, f, o];
//    a* are the full pre-activations (bias, recurrent term and forget bias included).
//      i = s(ai), j = tanh(aj), f = s(af), o = s(ao), c = f c_prev + i j, h = o tanh(c).
//  * lstm_cell_backward(i, j, f, o, c, c_prev, dh, dc): dh the total grad of h_t, dc the grad of
//    c_t from step t+1; returns the pre-activation grads and the grad of c_{t-1}.
//  * gru_cell(xz, xr, xn, qz, qr, qn, bz, br, bn, h_prev): a GRU with the reset gate applied
//    after the hidden product (PyTorch; Keras reset_after=True), gate order [z, r, n]; x* = x W
//    plus the input bias, q* = h_{t-1} U (zero without state), b* the recurrent bias:
//      z = s(xz + qz + bz), r = s(xr + qr + br), hn = qn + bn, n = tanh(xn + r hn),
//      h = n + z (h_prev - n)   (= z h_prev + (1 - z) n).
//  * gru_cell_backward(z, r, n, hn, h_prev, dh): the grads of the x-side pre-activations
//    (dz, dr, dn), of the recurrent n term (dqn = dn r; dq of z and r equal dz, dr) and the direct
//    path to h_{t-1} (dh z).
#pragma once

#include "fugue/core/host_device.hpp"
#include "fugue/core/lanes.hpp"

namespace fugue::nn::detail {

template <class V>
struct lstm_cell_out {
  V i, j, f, o, c, h;
};
template <class V>
struct lstm_cell_grads {
  V di, dj, df, d_o, dc_prev;
};
template <class V>
struct gru_cell_out {
  V z, r, n, hn, h;
};
template <class V>
struct gru_cell_grads {
  V dz, dr, dn, dqn, dh_prev_direct;
};

// clang-format off
FUGUE_PORTABLE_FN(lstm_cell, lstm_cell_out<V>, (V ai, V aj, V af, V ao, V c_prev),
  const V i = lane::sigmoid(ai), j = lane::tanh(aj), f = lane::sigmoid(af), o = lane::sigmoid(ao);
  const V c = f * c_prev + i * j;
  return lstm_cell_out<V>{i, j, f, o, c, o * lane::tanh(c)};
)

FUGUE_PORTABLE_FN(lstm_cell_backward, lstm_cell_grads<V>, (V i, V j, V f, V o, V c, V c_prev, V dh, V dc),
  const V one = lane::k<V>(1);
  const V tc = lane::tanh(c);
  const V d_o = dh * tc;
  const V dcv = dc + dh * o * (one - tc * tc);
  return lstm_cell_grads<V>{dcv * j * i * (one - i), dcv * i * (one - j * j), dcv * c_prev * f * (one - f),
                            d_o * o * (one - o), dcv * f};
)

FUGUE_PORTABLE_FN(gru_cell, gru_cell_out<V>, (V xz, V xr, V xn, V qz, V qr, V qn, V bz, V br, V bn, V h_prev),
  const V z = lane::sigmoid(xz + qz + bz);
  const V r = lane::sigmoid(xr + qr + br);
  const V hn = qn + bn;
  const V n = lane::tanh(xn + r * hn);
  return gru_cell_out<V>{z, r, n, hn, n + z * (h_prev - n)};
)

FUGUE_PORTABLE_FN(gru_cell_backward, gru_cell_grads<V>, (V z, V r, V n, V hn, V h_prev, V dh),
  const V one = lane::k<V>(1);
  const V dz = dh * (h_prev - n) * z * (one - z);
  const V dn = dh * (one - z) * (one - n * n);
  const V dr = dn * hn * r * (one - r);
  return gru_cell_grads<V>{dz, dr, dn, dn * r, dh * z};
)
// clang-format on

}  // namespace fugue::nn::detail
