// fugue/nn/module.hpp — what every layer and model provides: named parameters.
//
// Contract: a Module has `visit_parameters(f, prefix)` that calls
// f(const std::string& name, ad::Parameter<T, B>& p) for each parameter, in a
// fixed order, with hierarchical dot-separated names ("encoder.lstm.0.fw.kernel").
// Composite modules call their children with prefix + child name. Everything
// that enumerates parameters (optimizers, safetensors, parameter counts) goes
// through this one function, so a new layer only has to implement it.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "fugue/autodiff/parameter.hpp"

namespace fugue::nn {

// "a" + "b" -> "a.b"; an empty prefix adds nothing.
inline std::string join_name(std::string_view prefix, std::string_view name) {
  if (prefix.empty()) return std::string(name);
  std::string s(prefix);
  s += '.';
  s += name;
  return s;
}

namespace detail {
struct parameter_probe {
  template <class P>
  void operator()(const std::string&, P&) const {}
};
}  // namespace detail

template <class M>
concept Module = requires(M& m) { m.visit_parameters(detail::parameter_probe{}, std::string_view{}); };

// All parameters of a module with their full names, in visiting order.
template <class T, class B, Module M>
std::vector<std::pair<std::string, ad::Parameter<T, B>*>> named_parameters(M& m, std::string_view prefix = {}) {
  std::vector<std::pair<std::string, ad::Parameter<T, B>*>> out;
  m.visit_parameters([&](const std::string& name, ad::Parameter<T, B>& p) { out.emplace_back(name, &p); }, prefix);
  return out;
}

// Total number of scalar parameters.
template <Module M>
index_t count_parameters(M& m) {
  index_t n = 0;
  m.visit_parameters([&](const std::string&, auto& p) { n += p.numel(); }, std::string_view{});
  return n;
}

template <Module M>
void zero_grad(M& m) {
  m.visit_parameters([](const std::string&, auto& p) { p.zero_grad(); }, std::string_view{});
}

}  // namespace fugue::nn
