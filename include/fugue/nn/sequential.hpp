// fugue/nn/sequential.hpp — compile-time composition of layers.
//
// Contract
//  * Sequential<L1, L2, ...> owns one of each layer (a std::tuple) and applies them in
//    order. Each layer is an nn::Module, and the calls below exist for T, B when each is an
//    nn::Layer<L, T, B> (fugue/nn/layer.hpp). A layer may declare `input_extent` (fugue::dyn
//    when it accepts any size) and `output_extent_for<X>` (its static output size given a
//    static input size X: nn::StaticExtentLayer); one that does not counts as dyn in and out
//    (nn::input_extent_of / output_extent_of). The sizes are threaded through at compile
//    time: Sequential<Ls...> only exists (a `requires` clause, so
//    `requires { typename Sequential<...>; }` is false) when every layer's static output size
//    is compatible with the next one's input size.
//    Run-time (dyn) sizes are checked by the layers themselves and throw fugue::error.
//  * Parameters are named "<i>.<child name>" with i the layer's position: "0.weight",
//    "0.bias", "2.weight", ... (activations have none).
//  * operator()(tape, x) / forward(x) chain the layers. A layer whose tape call (or forward)
//    returns a struct with a `.y` member (LSTM, GRU, their cells) passes `.y` on. forward is
//    const when every layer's forward is; a layer with a non-const forward (BatchNorm,
//    Dropout, the transformer layers) needs a non-const Sequential.
//  * Construct with the layers (Sequential(L1(...), L2(...))) or default-construct when
//    every layer is default-constructible (static sizes).
#pragma once

#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>

#include "fugue/autodiff/tape.hpp"
#include "fugue/core/extents.hpp"
#include "fugue/nn/layer.hpp"
#include "fugue/nn/module.hpp"

namespace fugue::nn {

namespace detail {

template <index_t X, class... Ls>
struct chain;
template <index_t X>
struct chain<X> {
  static constexpr bool ok = true;
  static constexpr index_t out = X;
};
template <index_t X, class L, class... Rest>
struct chain<X, L, Rest...> {
  static constexpr bool here = extents_compatible<X, input_extent_of<L>>;
  static constexpr index_t next = output_extent_of<L, unify_extent<X, input_extent_of<L>>>;
  static constexpr bool ok = here && chain<next, Rest...>::ok;
  static constexpr index_t out = chain<next, Rest...>::out;
};

// forward on a layer held as L (a non-const Sequential) or const L (a const one).
template <class L, class T, class B>
concept forwards_tensor = requires(L& l, const Tensor<T, B>& t) {
  { sequence_output(l.forward(t)) } -> std::convertible_to<Tensor<T, B>>;
};

}  // namespace detail

// True when the layers' static sizes wire up.
template <class... Ls>
concept chainable = sizeof...(Ls) >= 1 && detail::chain<dyn, Ls...>::ok;

template <class... Ls>
  requires chainable<Ls...> && (Module<Ls> && ...)
class Sequential {
 public:
  static constexpr index_t input_extent = input_extent_of<std::tuple_element_t<0, std::tuple<Ls...>>>;
  static constexpr index_t output_extent = detail::chain<dyn, Ls...>::out;
  template <index_t X>
  static constexpr index_t output_extent_for = detail::chain<X, Ls...>::out;
  static constexpr std::size_t size = sizeof...(Ls);

  Sequential() = default;
  explicit Sequential(Ls... layers) : layers_(std::move(layers)...) {}

  template <std::size_t I>
  auto& get() noexcept {
    return std::get<I>(layers_);
  }
  template <std::size_t I>
  const auto& get() const noexcept {
    return std::get<I>(layers_);
  }

  template <class T, class B>
    requires(Layer<Ls, T, B> && ...)
  ad::Var<T, B> operator()(ad::Tape<T, B>& tape, const ad::Var<T, B>& x) {
    return apply_tape<0>(tape, x);
  }
  template <class T, class B>
    requires(Layer<Ls, T, B> && ...)
  Tensor<T, B> forward(const Tensor<T, B>& x) {
    return apply_fwd<0>(layers_, x);
  }
  template <class T, class B>
    requires(Layer<Ls, T, B> && ...) && (detail::forwards_tensor<const Ls, T, B> && ...)
  Tensor<T, B> forward(const Tensor<T, B>& x) const {
    return apply_fwd<0>(layers_, x);
  }

  template <class F>
  void visit_parameters(F&& f, std::string_view prefix = {}) {
    visit<0>(f, prefix);
  }

 private:
  template <std::size_t I, class T, class B>
  ad::Var<T, B> apply_tape(ad::Tape<T, B>& tape, const ad::Var<T, B>& x) {
    if constexpr (I == sizeof...(Ls)) {
      return x;
    } else {
      ad::Var<T, B> y = detail::sequence_output(std::get<I>(layers_)(tape, x));
      return apply_tape<I + 1>(tape, y);
    }
  }
  template <std::size_t I, class Tuple, class Tn>
  static Tn apply_fwd(Tuple& layers, const Tn& x) {
    if constexpr (I == sizeof...(Ls))
      return x;
    else
      return apply_fwd<I + 1>(layers, Tn(detail::sequence_output(std::get<I>(layers).forward(x))));
  }
  template <std::size_t I, class F>
  void visit(F& f, std::string_view prefix) {
    if constexpr (I < sizeof...(Ls)) {
      std::get<I>(layers_).visit_parameters(f, join_name(prefix, std::to_string(I)));
      visit<I + 1>(f, prefix);
    }
  }

  std::tuple<Ls...> layers_;
};

}  // namespace fugue::nn
