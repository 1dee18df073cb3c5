// fugue/autodiff/host_staged.hpp — run a host-only tape op on a device backend by staging it
// through a private host tape.
//
// Contract:
//  * host_staged<H>(op, f, inputs...) with Var<T, B> inputs of one tape: each input's value is
//    copied into a fresh Tape<T, H> as a leaf (requiring grad where the input does and the tape
//    records), f(host_vars...) runs there and must return one Var of that tape; its value is
//    copied back and recorded on the inputs' tape as op `op`. The backward copies the output
//    gradient down, runs the host tape's backward from it and copies each needed input gradient
//    back up. Results and gradients are H's, bit for bit.
//  * The host tape (with f's saved activations) lives until the device tape's clear(); without
//    grad nothing is kept.
//  * For the ops that have no device kernels yet (DDSP's filtered noise, reverb, spectral loss):
//    correct, and slowed by one host<->device copy of every input and output per pass. The host
//    tape's random streams are not used by those ops (their noise comes from their options).
#pragma once

#include <array>
#include <memory>
#include <span>
#include <utility>

#include "fugue/autodiff/tape.hpp"
#include "fugue/backend/cpu.hpp"
#include "fugue/core/error.hpp"

namespace fugue::ad {

namespace detail {
template <Backend To, Scalar T, Backend From>
Tensor<T, To> to_backend(const Tensor<T, From>& t) {
  return Tensor<T, To>::from(t.contiguous().to_vector(), t.shape());
}
}  // namespace detail

template <Backend H = cpu::native, Scalar T, Backend B, class F, class... Vs>
  requires(H::host_accessible && (std::is_same_v<Vs, Var<T, B>> && ...))
Var<T, B> host_staged(const char* op, F&& f, const Var<T, B>& first, const Vs&... rest) {
  constexpr std::size_t K = 1 + sizeof...(Vs);
  const std::array<Var<T, B>, K> in{first, rest...};
  for (const auto& v : in) {
    FUGUE_CHECK(v.defined(), op, ": undefined input");
    FUGUE_CHECK(&v.tape() == &first.tape(), op, ": Vars from different tapes");
  }
  Tape<T, B>& tape = first.tape();
  auto host = std::make_shared<Tape<T, H>>();
  std::array<Var<T, H>, K> hin;
  bool any_grad = false;
  for (std::size_t i = 0; i < K; ++i) {
    const bool g = tape.grad_enabled() && in[i].requires_grad();
    any_grad = any_grad || g;
    hin[i] = host->input(detail::to_backend<H>(in[i].value()), g);
  }
  const Var<T, H> hout = std::apply([&](const auto&... v) { return f(v...); }, hin);
  FUGUE_CHECK(hout.defined() && &hout.tape() == host.get(), op, ": the staged function must return a Var of its tape");
  Tensor<T, B> y = detail::to_backend<B>(hout.value());
  if (!any_grad || !hout.requires_grad())
    return tape.record(
        std::move(y), std::span<const Var<T, B>>(in), [](const Tensor<T, B>&, GradSink<T, B>&) {}, op);
  return tape.record(
      std::move(y), std::span<const Var<T, B>>(in),
      [host, hin, hout](const Tensor<T, B>& g, GradSink<T, B>& s) {
        host->backward(hout, detail::to_backend<H>(g));
        for (std::size_t i = 0; i < K; ++i)
          if (s.needs(int(i))) s.accumulate(int(i), detail::to_backend<B>(hin[i].grad()));
      },
      op);
}

}  // namespace fugue::ad
