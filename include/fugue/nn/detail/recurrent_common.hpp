// fugue/nn/detail/recurrent_common.hpp — shared helpers of the LSTM / GRU layers.
//
// Contract: check_param_shape throws fugue::error naming the parameter when a loaded
// tensor has the wrong shape; NamedTensors is the map type the multi-layer loaders
// take (checkpoint name -> tensor); require() finds a name or throws naming it and
// listing what the map holds under the same prefix; step_buffer is a grow-only
// workspace tensor (allocates only when a larger batch than before is stepped).
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "fugue/tensor.hpp"

namespace fugue::nn::detail {

template <class T, class B>
void check_param_shape(const Tensor<T, B>& t, const Shape& expect, std::string_view name) {
  FUGUE_CHECK(t.defined(), "parameter '", name, "' is missing (undefined tensor)");
  FUGUE_CHECK(t.shape() == expect, "parameter '", name, "' has shape ", t.shape().str(), ", expected ", expect.str());
}

template <class T, class B>
using NamedTensors = std::map<std::string, Tensor<T, B>, std::less<>>;

template <class T, class B>
const Tensor<T, B>& require(const NamedTensors<T, B>& m, const std::string& name) {
  auto it = m.find(name);
  if (it == m.end()) {
    std::string have;
    for (auto& [k, v] : m) have += (have.empty() ? "" : ", ") + k;
    FUGUE_FAIL("parameter '", name, "' not found in the checkpoint (it has: ", have, ")");
  }
  return it->second;
}

// Grow-only [rows, cols] buffer. Copies get their own storage (a copied layer must not
// share scratch memory with the original: two copies may step on two threads).
template <class T, class B>
struct step_buffer {
  Tensor<T, B> t;
  step_buffer() = default;
  step_buffer(const step_buffer& o) : t(o.t.defined() ? o.t.clone() : Tensor<T, B>{}) {}
  step_buffer(step_buffer&&) noexcept = default;
  step_buffer& operator=(const step_buffer& o) {
    if (this != &o) t = o.t.defined() ? o.t.clone() : Tensor<T, B>{};
    return *this;
  }
  step_buffer& operator=(step_buffer&&) noexcept = default;
  T* rows(index_t n, index_t cols) {
    if (!t.defined() || t.dim(0) < n || t.dim(1) != cols) t = Tensor<T, B>::zeros({n < 1 ? 1 : n, cols});
    return t.data();
  }
};

}  // namespace fugue::nn::detail
