// fugue/nn/embedding.hpp — lookup table of learned vectors.
//
// Contract
//  * Embedding<T, B, Num, Dim>: integer ids (any shape S, values in [0, Num)) ->
//    [S..., Dim]. An id out of range throws fugue::error naming the id and its position.
//  * Parameter: "weight" [Num, Dim] (PyTorch nn.Embedding's name and layout; a TF
//    embedding matrix has the same layout, load_pytorch / load_tensorflow both copy it).
//  * operator()(tape, ids, shape) records one node "nn_embedding" whose backward
//    scatter-adds the output gradient rows into the weight gradient; forward() is the
//    tape-free path. output_extent = Dim for nn::Sequential (ids are not a float
//    tensor, so an Embedding is meant to be the input stage, not a Sequential member).
//  * Init: N(0, 1) as torch, from the given Philox stream.
//  * Every backend: the ids stay on the host; each is one row copy (forward) or one row add
//    (backward) on the backend.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "fugue/autodiff/parameter.hpp"
#include "fugue/autodiff/tape.hpp"
#include "fugue/autodiff/registry.hpp"
#include "fugue/core/functors.hpp"
#include "fugue/core/extents.hpp"
#include "fugue/core/rng.hpp"
#include "fugue/nn/detail/recurrent_common.hpp"
#include "fugue/nn/module.hpp"

FUGUE_AD_OP(nn_embedding)

namespace fugue::nn {

inline constexpr const char* embedding_op_name = "nn_embedding";

template <Scalar T, Backend B = cpu::native, index_t Num = dyn, index_t Dim = dyn>
class Embedding {
 public:
  using tensor_type = Tensor<T, B>;
  using var_type = ad::Var<T, B>;
  static constexpr index_t output_extent = Dim;

  explicit Embedding(index_t num = Num, index_t dim = Dim, Philox init = {0x5eed, 0}) : num_(num), dim_(dim) {
    FUGUE_CHECK(Num == dyn || num_ == Num, "Embedding: num ", num_, " but the type says ", Num);
    FUGUE_CHECK(Dim == dyn || dim_ == Dim, "Embedding: dim ", dim_, " but the type says ", Dim);
    FUGUE_CHECK(num_ > 0 && dim_ > 0, "Embedding: sizes must be given (num ", num_, ", dim ", dim_, ")");
    weight.value = tensor_type::normal({num_, dim_}, init);
  }

  index_t num_embeddings() const noexcept { return num_; }
  index_t embedding_dim() const noexcept { return dim_; }

  tensor_type forward(std::span<const index_t> ids, const Shape& shape) const {
    check_ids(ids, shape);
    auto y = tensor_type::empty(shape.push_back(dim_));
    gather(ids, weight.value.data(), y.data());
    return y;
  }
  var_type operator()(ad::Tape<T, B>& tape, std::span<const index_t> ids, const Shape& shape) {
    check_ids(ids, shape);
    auto y = tensor_type::empty(shape.push_back(dim_));
    gather(ids, weight.value.data(), y.data());
    std::vector<index_t> idv(ids.begin(), ids.end());
    const index_t num = num_, dim = dim_;
    return tape.record(
        std::move(y), {tape.param(weight)},
        [idv = std::move(idv), num, dim](const tensor_type& g, ad::GradSink<T, B>& sink) {
          auto dw = tensor_type::zeros({num, dim});
          for (std::size_t i = 0; i < idv.size(); ++i) {
            T* row = dw.data() + idv[i] * dim;
            B::zip(dim, row, g.data() + index_t(i) * dim, row, fn::add{});  // portable: any backend
          }
          sink.accumulate(0, dw);
        },
        embedding_op_name);
  }

  void load_pytorch(const tensor_type& w, std::string_view name = "embedding") {
    detail::check_param_shape(w, {num_, dim_}, std::string(name) + ".weight");
    weight.value.copy_from(w);
  }
  void load_tensorflow(const tensor_type& w, std::string_view name = "embedding") { load_pytorch(w, name); }

  template <class F>
  void visit_parameters(F&& f, std::string_view prefix = {}) {
    f(join_name(prefix, "weight"), weight);
  }

  ad::Parameter<T, B> weight;

 private:
  void check_ids(std::span<const index_t> ids, const Shape& shape) const {
    FUGUE_CHECK(index_t(ids.size()) == shape.numel(), "Embedding: ", ids.size(), " ids for shape ", shape.str());
    for (std::size_t i = 0; i < ids.size(); ++i)
      FUGUE_CHECK(ids[i] >= 0 && ids[i] < num_, "Embedding: id ", ids[i], " at position ", i, " out of range [0, ",
                  num_, ")");
  }
  void gather(std::span<const index_t> ids, const T* w, T* y) const {
    for (std::size_t i = 0; i < ids.size(); ++i)
      B::copy(y + index_t(i) * dim_, w + ids[i] * dim_, sizeof(T) * std::size_t(dim_));
  }

  index_t num_, dim_;
};

}  // namespace fugue::nn
