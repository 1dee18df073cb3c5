// Conformance cases for the recurrent layers on every backend (device path:
// nn/detail/recurrent_device.hpp): LSTM and GRU stacks, unidirectional and bidirectional,
// with and without a given initial state, on a tape (outputs, final states, the gradients of
// the input, the initial states and every parameter, with the final h / c seeded too so the
// grad-of-final-state paths run) and tape-free (forward, step()). Compared with cpu::native.
#pragma once

#include <fugue/nn/gru.hpp>
#include <fugue/nn/lstm.hpp>

#include "conformance.hpp"

namespace conformance {

// <seed_y, y> + <seed_h, h> (+ <seed_c, c>): one scalar through every output of the layer.
template <class T, class B>
ad::Var<T, B> seeded_sum(ad::Tape<T, B>& tape, const ad::Var<T, B>& v, std::uint64_t stream) {
  auto seed = tape.input(random_tensor<T, B>(v.value().shape(), stream), false);
  return ad::sum(ad::mul(v, seed));
}

// A stack on [batch, steps, In]; with_state: random initial h (and c) taken as tape inputs
// with gradients. The LSTM and GRU stacks differ in how states are passed: Net::State has a
// member c only for the LSTM.
template <class T, class B, class Net>
Arrays<T> recurrent_case(Net& net, index_t batch, index_t steps, bool with_state, std::uint64_t stream) {
  constexpr int n_states = Net::layers * Net::directions;
  constexpr bool lstm = requires(typename Net::State s) { s.c; };
  const index_t H = net.hidden_size();
  ad::Tape<T, B> tape;
  auto x = tape.input(random_tensor<T, B>({batch, steps, net.input_size()}, stream), true);
  typename Net::State init_t;
  std::vector<ad::Var<T, B>> h0, c0;
  for (int i = 0; with_state && i < n_states; ++i) {
    init_t.h.push_back(random_tensor<T, B>({batch, H}, stream + 10 + std::uint64_t(i)));
    h0.push_back(tape.input(init_t.h.back(), true));
    if constexpr (lstm) {
      init_t.c.push_back(random_tensor<T, B>({batch, H}, stream + 20 + std::uint64_t(i)));
      c0.push_back(tape.input(init_t.c.back(), true));
    }
  }
  ad::Var<T, B> loss;
  Arrays<T> r;
  auto seed_outputs = [&](auto& out, const std::vector<ad::Var<T, B>>& final_h) {
    loss = seeded_sum(tape, out.y, stream + 100);
    for (int i = 0; i < n_states; ++i)
      loss = ad::add(loss, seeded_sum(tape, final_h[std::size_t(i)], stream + 110 + std::uint64_t(i)));
    r.push_back(out.y.value().to_vector());
    r.push_back(out.last_h.value().to_vector());
  };
  if constexpr (lstm) {
    typename Net::StateVars init{h0, c0};
    auto out = net(tape, x, with_state ? &init : nullptr);
    seed_outputs(out, out.final.h);
    for (int i = 0; i < n_states; ++i)
      loss = ad::add(loss, seeded_sum(tape, out.final.c[std::size_t(i)], stream + 120 + std::uint64_t(i)));
  } else {
    auto out = net(tape, x, with_state ? &h0 : nullptr);
    seed_outputs(out, out.final);
  }
  tape.backward(loss);
  r.push_back(x.grad().to_vector());
  for (auto& v : h0) r.push_back(v.grad().to_vector());
  for (auto& v : c0) r.push_back(v.grad().to_vector());
  net.visit_parameters([&](std::string_view, auto& p) { r.push_back(p.grad.to_vector()); });
  typename Net::State final_state;
  r.push_back(net.forward(x.value(), with_state ? &init_t : nullptr, &final_state).to_vector());
  for (auto& h : final_state.h) r.push_back(h.to_vector());
  return r;
}

// step() over a unidirectional stack, `steps` times from a random state: the state after each.
template <class T, class B, class Net>
Arrays<T> step_case(Net& net, index_t batch, index_t steps, std::uint64_t stream) {
  auto state = net.make_state(batch);
  for (std::size_t i = 0; i < state.h.size(); ++i) {
    state.h[i] = random_tensor<T, B>({batch, net.hidden_size()}, stream + i);
    if constexpr (requires { state.c; }) state.c[i] = random_tensor<T, B>({batch, net.hidden_size()}, stream + 50 + i);
  }
  Arrays<T> r;
  for (index_t s = 0; s < steps; ++s) {
    const auto& h = net.step(random_tensor<T, B>({batch, net.input_size()}, stream + 100 + std::uint64_t(s)), state);
    r.push_back(h.to_vector());
    if constexpr (requires { state.c; }) r.push_back(state.c.front().to_vector());
  }
  return r;
}

template <class T, class Backends>
void rnn_cases() {
  namespace nn = fugue::nn;
  const std::string ty = sizeof(T) == 4 ? " f32" : " f64";
  check<T, Backends>(
      "nn LSTM 1 layer, zero state" + ty,
      [&]<class B>() {
        nn::LSTM<T, B> net(5, 6, Philox{0xc0de, 11});
        return recurrent_case<T, B>(net, 3, 7, false, 401);
      },
      loose<T>());
  check<T, Backends>(
      "nn LSTM 2 layers bidirectional, given state" + ty,
      [&]<class B>() {
        nn::LSTM<T, B, fugue::dyn, fugue::dyn, 2, true> net(4, 5, Philox{0xc0de, 12}, T(0.5));
        return recurrent_case<T, B>(net, 2, 6, true, 402);
      },
      loose<T>());
  check<T, Backends>(
      "nn LSTM one step (T = 1), given state" + ty,
      [&]<class B>() {
        nn::LSTM<T, B> net(3, 4, Philox{0xc0de, 13});
        return recurrent_case<T, B>(net, 4, 1, true, 403);
      },
      loose<T>());
  check<T, Backends>(
      "nn GRU 1 layer, zero state" + ty,
      [&]<class B>() {
        nn::GRU<T, B> net(5, 6, Philox{0xc0de, 14});
        return recurrent_case<T, B>(net, 3, 7, false, 404);
      },
      loose<T>());
  check<T, Backends>(
      "nn GRU 2 layers bidirectional, given state" + ty,
      [&]<class B>() {
        nn::GRU<T, B, fugue::dyn, fugue::dyn, 2, true> net(4, 5, Philox{0xc0de, 15});
        return recurrent_case<T, B>(net, 2, 6, true, 405);
      },
      loose<T>());
  check<T, Backends>(
      "nn LSTM 2 layers step() x 4" + ty,
      [&]<class B>() {
        nn::LSTM<T, B, fugue::dyn, fugue::dyn, 2> net(3, 5, Philox{0xc0de, 16});
        return step_case<T, B>(net, 3, 4, 406);
      },
      loose<T>());
  check<T, Backends>(
      "nn GRU 2 layers step() x 4" + ty,
      [&]<class B>() {
        nn::GRU<T, B, fugue::dyn, fugue::dyn, 2> net(3, 5, Philox{0xc0de, 17});
        return step_case<T, B>(net, 3, 4, 407);
      },
      loose<T>());
}

}  // namespace conformance
