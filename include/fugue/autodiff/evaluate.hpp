// fugue/autodiff/evaluate.hpp — run tape ops on plain tensors, keeping no graph.
//
// Contract:
//  * evaluate(f, x, more...) with Tensor<T, B> arguments makes a private Tape<T, B> with gradient
//    recording off, passes each tensor to f as a constant leaf (sharing its storage, no copy), and
//    returns the value of the Var that f returns. The tape, and every node f made on it, is freed
//    on return: only the result outlives the call.
//  * For the ops that exist only as fused tape ops (the DSP synthesizers, the reverb): a tape-free
//    inference path calls them through evaluate() one stage at a time, so a stage's temporaries
//    are released before the next stage runs instead of being held to the end of the call.
//  * Thread-safe whenever f is: the tape is local to the call.
#pragma once

#include <type_traits>
#include <utility>

#include "fugue/autodiff/tape.hpp"

namespace fugue::ad {

namespace detail {
template <class Tensor_, Scalar T, Backend B>
using one_var_per = const Var<T, B>&;
}  // namespace detail

template <class F, Scalar T, Backend B, class... More>
  requires(std::is_same_v<More, Tensor<T, B>> && ...) &&
          std::is_invocable_r_v<Var<T, B>, F&, const Var<T, B>&, detail::one_var_per<More, T, B>...>
Tensor<T, B> evaluate(F&& f, const Tensor<T, B>& x, const More&... more) {
  Tape<T, B> tape;
  NoGrad<T, B> no_graph(tape);
  return f(tape.constant(x), tape.constant(more)...).value();
}

}  // namespace fugue::ad
