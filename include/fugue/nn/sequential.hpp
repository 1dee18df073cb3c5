// fugue/nn/sequential.hpp — compile-time composition of layers.
//
// Contract
//  * Sequential<L1, L2, ...> owns one of each layer (a std::tuple) and applies them in
//    order. Each layer declares `input_extent` (fugue::dyn when it accepts any size)
//    and `output_extent_for<X>` (its static output size given a static input size X).
//    The sizes are threaded through at compile time: Sequential<Ls...> only exists
//    (a `requires` clause, so `requires { typename Sequential<...>; }` is false) when
//    every layer's static output size is compatible with the next one's input size.
//    Run-time (dyn) sizes are checked by the layers themselves and throw fugue::error.
//  * Parameters are named "<i>.<child name>" with i the layer's position: "0.weight",
//    "0.bias", "2.weight", ... (activations have none).
//  * operator()(tape, x) / forward(x) chain the layers. A layer whose tape call returns
//    a struct with a `.y` member (LSTM, GRU) passes `.y` on.
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
  static constexpr bool here = extents_compatible<X, L::input_extent>;
  static constexpr index_t next = L::template output_extent_for<unify_extent<X, L::input_extent>>;
  static constexpr bool ok = here && chain<next, Rest...>::ok;
  static constexpr index_t out = chain<next, Rest...>::out;
};

template <class R>
decltype(auto) sequence_output(R&& r) {
  if constexpr (requires { r.y; })
    return (r.y);
  else
    return std::forward<R>(r);
}

}  // namespace detail

// True when the layers' static sizes wire up.
template <class... Ls>
concept chainable = sizeof...(Ls) >= 1 && detail::chain<dyn, Ls...>::ok;

template <class... Ls>
  requires chainable<Ls...>
class Sequential {
 public:
  static constexpr index_t input_extent = std::tuple_element_t<0, std::tuple<Ls...>>::input_extent;
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
  ad::Var<T, B> operator()(ad::Tape<T, B>& tape, const ad::Var<T, B>& x) {
    return apply_tape<0>(tape, x);
  }
  template <class Tn>
  Tn forward(const Tn& x) const {
    return apply_fwd<0>(x);
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
  template <std::size_t I, class Tn>
  Tn apply_fwd(const Tn& x) const {
    if constexpr (I == sizeof...(Ls))
      return x;
    else
      return apply_fwd<I + 1>(Tn(std::get<I>(layers_).forward(x)));
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
