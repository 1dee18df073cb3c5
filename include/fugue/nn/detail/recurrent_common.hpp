// fugue/nn/detail/recurrent_common.hpp — shared helpers of the LSTM / GRU layers.
//
// Contract: check_param_shape throws fugue::error naming the parameter when a loaded
// tensor has the wrong shape; nn::NamedTensors (public) is the map type the multi-layer
// loaders take (checkpoint name -> tensor); named_tensors(file, prefix) reads the tensors
// of a safetensors file whose names start with prefix into one (converted to T: float16 /
// bfloat16 / float64 checkpoints load into float, rounding where needed); require() finds
// a name or throws naming it and listing what the map holds; step_buffer is a grow-only
// workspace tensor (allocates only when a larger batch than before is stepped).
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "fugue/io/safetensors.hpp"
#include "fugue/tensor.hpp"

namespace fugue::nn {

// Checkpoint name -> tensor: what LSTM / GRU load_pytorch take (a torch state dict).
template <class T, class B>
using NamedTensors = std::map<std::string, Tensor<T, B>, std::less<>>;

// The tensors of `file` whose names start with `prefix` (names kept whole); none is an error
// that lists what the file holds.
template <class T, class B>
NamedTensors<T, B> named_tensors(const io::SafetensorsFile& file, std::string_view prefix = "") {
  NamedTensors<T, B> out;
  std::string have;
  for (const auto& name : file.names()) {
    have += (have.empty() ? "" : ", ") + name;
    if (std::string_view(name).starts_with(prefix)) out.emplace(name, file.load<T, B>(name, io::Convert::rounding));
  }
  FUGUE_CHECK(!out.empty(), "no tensor of ", file.source(), " starts with '", prefix, "' (it has: ", have, ")");
  return out;
}

}  // namespace fugue::nn

namespace fugue::nn::detail {

template <class T, class B>
void check_param_shape(const Tensor<T, B>& t, const Shape& expect, std::string_view name) {
  FUGUE_CHECK(t.defined(), "parameter '", name, "' is missing (undefined tensor)");
  FUGUE_CHECK(t.shape() == expect, "parameter '", name, "' has shape ", t.shape().str(), ", expected ", expect.str());
}

template <class T, class B>
using NamedTensors = nn::NamedTensors<T, B>;

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
