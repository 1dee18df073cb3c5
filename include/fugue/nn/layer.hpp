// fugue/nn/layer.hpp — what a layer provides, as concepts the compiler checks.
//
// Contract
//  * nn::Layer<L, T, B>: a single-input layer over ad::Var<T, B> / Tensor<T, B>, what
//    nn::Sequential calls: an nn::Module (visit_parameters), a tape call l(tape, x) returning
//    a Var or a struct whose `.y` is one (LSTM, GRU and their cells return their states
//    beside y), and a tape-free l.forward(x) returning a Tensor or a struct with `.y`.
//    forward may be non-const (BatchNorm's running statistics, Dropout's own stream).
//    Every single-input layer in fugue/nn satisfies it: Linear, MLP, the activations,
//    Conv1d / Conv2d / ConvTranspose2d, BatchNorm, LayerNorm, Dropout, LSTM / GRU (and their
//    cells), TransformerEncoderLayer, MultiheadAttention as self-attention.
//  * nn::StaticExtentLayer<L, T, B>: a Layer that also states its sizes at compile time:
//    `input_extent` (fugue::dyn: any) and `output_extent_for<X>` (its output size given a
//    static input size X), the sizes nn::Sequential checks the wiring with.
//  * input_extent_of<L> / output_extent_of<L, X>: those sizes for any layer, fugue::dyn where
//    the layer states none (convolutions, norms, dropout, transformer layers): such a layer is
//    checked at run time by its own shape checks, as any dyn extent.
//  * nn::LookupLayer<L, T, B>: an input stage over integer ids (Embedding): l(tape, ids, shape)
//    and forward(ids, shape). Not a Sequential member (its input is not a float tensor).
//  * Multi-input layers (attention with memory and masks, the transformer decoder layer)
//    satisfy nn::AttentionLayer (fugue/nn/attention.hpp) and are composed explicitly.
#pragma once

#include <concepts>
#include <span>
#include <utility>

#include "fugue/autodiff/tape.hpp"
#include "fugue/core/extents.hpp"
#include "fugue/core/tensor.hpp"
#include "fugue/nn/module.hpp"

namespace fugue::nn {

namespace detail {

// The value a layer passes on: r.y when its result is a struct with a `.y` (LSTM, GRU), else r.
template <class R>
decltype(auto) sequence_output(R&& r) {
  if constexpr (requires { r.y; })
    return (r.y);
  else
    return std::forward<R>(r);
}

template <class L>
constexpr index_t layer_input_extent() {
  if constexpr (requires { L::input_extent; })
    return L::input_extent;
  else
    return dyn;
}
template <class L, index_t X>
constexpr index_t layer_output_extent() {
  if constexpr (requires { L::template output_extent_for<X>; })
    return L::template output_extent_for<X>;
  else
    return dyn;
}

}  // namespace detail

template <class L, class T, class B>
concept Layer = Module<L> && requires(L& l, ad::Tape<T, B>& tape, const ad::Var<T, B>& x, const Tensor<T, B>& t) {
  { detail::sequence_output(l(tape, x)) } -> std::convertible_to<ad::Var<T, B>>;
  { detail::sequence_output(l.forward(t)) } -> std::convertible_to<Tensor<T, B>>;
};

template <class L, class T, class B>
concept StaticExtentLayer = Layer<L, T, B> && requires {
  { L::input_extent } -> std::convertible_to<index_t>;
  { L::template output_extent_for<dyn> } -> std::convertible_to<index_t>;
};

// A layer's static input size and its static output size for input size X (dyn: not stated).
template <class L>
inline constexpr index_t input_extent_of = detail::layer_input_extent<L>();
template <class L, index_t X = dyn>
inline constexpr index_t output_extent_of = detail::layer_output_extent<L, X>();

template <class L, class T, class B>
concept LookupLayer =
    Module<L> && requires(L& l, ad::Tape<T, B>& tape, std::span<const index_t> ids, const Shape& shape) {
      { l(tape, ids, shape) } -> std::convertible_to<ad::Var<T, B>>;
      { l.forward(ids, shape) } -> std::convertible_to<Tensor<T, B>>;
    };

}  // namespace fugue::nn
