// fugue/nn/transformer.hpp — Transformer encoder and decoder layers.
//
// Contract:
//  * TransformerEncoderLayer: x [N, L, d_model] -> [N, L, d_model].
//      post-norm (norm_first = false, torch's default):
//        x = norm1(x + drop(self_attn(x))); x = norm2(x + drop(ff(x)))
//      pre-norm (norm_first = true, tensor2tensor's "n" / "da" sequences; docs/nn.md, "Shapes and semantics"):
//        x = x + drop(self_attn(norm1(x))); x = x + drop(ff(norm2(x)))
//      ff(x) = linear2(drop_ff(act(linear1(x)))), act relu or gelu (exact).
//  * TransformerDecoderLayer: x [N, L, d], memory [N, S, d] (optional: null skips cross-attention,
//    t2t's decoder without inputs): causal self-attention (mask.causal forced on), cross-attention
//    over memory, FFN; norm1..norm3 with the same post/pre-norm rule.
//  * Parameter names follow torch.nn.TransformerEncoderLayer / DecoderLayer: "self_attn.*",
//    ("multihead_attn.*"), "linear1.weight" [ff, d], "linear1.bias", "linear2.weight" [d, ff],
//    "linear2.bias", "norm1.weight", "norm1.bias", "norm2.*", ("norm3.*").
//  * Options cover t2t: attention bias off, key/value depth, attention/relu dropouts, relative
//    self-attention with max_relative_position, layer_norm_eps 1e-6. A final stack LayerNorm (t2t)
//    belongs to the model, not the layer.
//  * train()/eval() switch every dropout; masks as in attention.hpp. Wrong shapes throw fugue::error.
#pragma once

#include <optional>
#include <string_view>

#include "fugue/autodiff/tape.hpp"
#include "fugue/nn/attention.hpp"
#include "fugue/nn/dropout.hpp"
#include "fugue/nn/layer_norm.hpp"
#include "fugue/nn/module.hpp"

namespace fugue::nn {

struct TransformerLayerOptions {
  index_t d_model = 512, nhead = 8, dim_feedforward = 2048;
  double dropout = 0.1;           // residual dropout (torch dropout1/2/3)
  double attention_dropout = -1;  // on attention probs (-1: = dropout, as torch)
  double relu_dropout = -1;       // inside the FFN (-1: = dropout, as torch)
  DenseActivation activation = DenseActivation::relu;
  double layer_norm_eps = 1e-5;
  bool norm_first = false;
  bool attention_bias = true;
  index_t key_dim = 0, value_dim = 0;  // total attention depths (0: d_model)
  bool relative = false;               // relative self-attention (Music Transformer)
  index_t max_relative_position = 0;
};

namespace detail {
inline MultiheadAttentionOptions self_attention_options(const TransformerLayerOptions& o, bool relative) {
  MultiheadAttentionOptions a;
  a.embed_dim = o.d_model;
  a.num_heads = o.nhead;
  a.key_dim = o.key_dim;
  a.value_dim = o.value_dim;
  a.bias = o.attention_bias;
  a.dropout = o.attention_dropout < 0 ? o.dropout : o.attention_dropout;
  a.relative = relative;
  a.max_relative_position = o.max_relative_position;
  return a;
}

// A plain linear layer (torch nn.Linear names "weight" [out, in], "bias" [out]) with a fused
// activation; used for the FFN.
template <class T, class B>
struct ffn_linear {
  ad::Parameter<T, B> weight, bias;
  ffn_linear(index_t in, index_t out, Philox init) {
    const T bound = T(1) / std::sqrt(T(in));
    weight.value = Tensor<T, B>::uniform({out, in}, init, -bound, bound);
    bias.value = Tensor<T, B>::uniform({out}, {init.seed, init.stream + 1}, -bound, bound);
  }
  ad::Var<T, B> operator()(ad::Tape<T, B>& tape, const ad::Var<T, B>& x, DenseActivation act = DenseActivation::none) {
    return dense_op(tape, x, tape.param(weight), std::optional<ad::Var<T, B>>(tape.param(bias)), 0, weight.value.dim(0),
                    act);
  }
  Tensor<T, B> forward(const Tensor<T, B>& x, DenseActivation act = DenseActivation::none) const {
    return dense_tensor(x, weight.value, &bias.value, 0, weight.value.dim(0), act);
  }
  template <class F>
  void visit_parameters(F&& f, std::string_view prefix) {
    f(join_name(prefix, "weight"), weight);
    f(join_name(prefix, "bias"), bias);
  }
};
}  // namespace detail

template <Scalar T, Backend B = cpu::native, index_t D = dyn>
class TransformerEncoderLayer {
 public:
  using tensor_type = Tensor<T, B>;
  using var_type = ad::Var<T, B>;
  explicit TransformerEncoderLayer(TransformerLayerOptions o, Philox init = {0x7e4c, 0})
      : o_(checked(o)),
        self_attn(detail::self_attention_options(o_, o_.relative), {init.seed, init.stream}),
        linear1(o_.d_model, o_.dim_feedforward, {init.seed, init.stream + 8}),
        linear2(o_.dim_feedforward, o_.d_model, {init.seed, init.stream + 10}),
        norm1({o_.d_model, o_.layer_norm_eps}),
        norm2({o_.d_model, o_.layer_norm_eps}),
        drop1(T(o_.dropout), init.seed ^ 0x1111),
        drop2(T(o_.dropout), init.seed ^ 0x2222),
        drop_ff(T(o_.relu_dropout < 0 ? o_.dropout : o_.relu_dropout), init.seed ^ 0x3333) {}

  void train(bool on = true) {
    self_attn.train(on);
    drop1.train(on);
    drop2.train(on);
    drop_ff.train(on);
  }
  void eval() { train(false); }
  const TransformerLayerOptions& options() const noexcept { return o_; }

  var_type operator()(ad::Tape<T, B>& tape, const var_type& x, const AttentionMask<T, B>& mask = {}) {
    FUGUE_CHECK(x.shape().rank() == 3 && x.shape()[2] == o_.d_model, "TransformerEncoderLayer: input ", x.shape().str(),
                ", expected [N, L, ", o_.d_model, "]");
    if (o_.norm_first) {
      var_type h = detail::add_op(tape, x, drop1(tape, self_attn(tape, norm1(tape, x), nullptr, mask)));
      return detail::add_op(tape, h, drop2(tape, ff(tape, norm2(tape, h))));
    }
    var_type h = norm1(tape, detail::add_op(tape, x, drop1(tape, self_attn(tape, x, nullptr, mask))));
    return norm2(tape, detail::add_op(tape, h, drop2(tape, ff(tape, h))));
  }
  // Tape-free inference (dropout per train/eval mode).
  tensor_type forward(const tensor_type& x, const AttentionMask<T, B>& mask = {}) {
    if (o_.norm_first) {
      tensor_type h = ops::add(x, drop1.forward(self_attn.forward(norm1.forward(x), nullptr, mask)));
      return ops::add(h, drop2.forward(ff_forward(norm2.forward(h))));
    }
    tensor_type h = norm1.forward(ops::add(x, drop1.forward(self_attn.forward(x, nullptr, mask))));
    return norm2.forward(ops::add(h, drop2.forward(ff_forward(h))));
  }

  template <class F>
  void visit_parameters(F&& f, std::string_view prefix = {}) {
    self_attn.visit_parameters(f, join_name(prefix, "self_attn"));
    linear1.visit_parameters(f, join_name(prefix, "linear1"));
    linear2.visit_parameters(f, join_name(prefix, "linear2"));
    norm1.visit_parameters(f, join_name(prefix, "norm1"));
    norm2.visit_parameters(f, join_name(prefix, "norm2"));
  }

 private:
  static TransformerLayerOptions checked(TransformerLayerOptions o) {
    if (D != dyn && o.d_model == 512) o.d_model = D;
    FUGUE_CHECK(D == dyn || o.d_model == D, "TransformerEncoderLayer: d_model ", o.d_model, " but the type says ", D);
    FUGUE_CHECK(o.d_model > 0 && o.nhead > 0 && o.dim_feedforward > 0, "TransformerEncoderLayer: invalid sizes");
    return o;
  }
  var_type ff(ad::Tape<T, B>& tape, const var_type& x) {
    return linear2(tape, drop_ff(tape, linear1(tape, x, o_.activation)));
  }
  tensor_type ff_forward(const tensor_type& x) {
    return linear2.forward(drop_ff.forward(linear1.forward(x, o_.activation)));
  }

  TransformerLayerOptions o_;

 public:
  MultiheadAttention<T, B> self_attn;
  detail::ffn_linear<T, B> linear1, linear2;
  LayerNorm<T, B> norm1, norm2;
  Dropout<T, B> drop1, drop2, drop_ff;
};

template <Scalar T, Backend B = cpu::native, index_t D = dyn>
class TransformerDecoderLayer {
 public:
  using tensor_type = Tensor<T, B>;
  using var_type = ad::Var<T, B>;
  explicit TransformerDecoderLayer(TransformerLayerOptions o, Philox init = {0xdec0, 0})
      : o_(checked(o)),
        self_attn(detail::self_attention_options(o_, o_.relative), {init.seed, init.stream}),
        multihead_attn(detail::self_attention_options(o_, false), {init.seed, init.stream + 5}),
        linear1(o_.d_model, o_.dim_feedforward, {init.seed, init.stream + 16}),
        linear2(o_.dim_feedforward, o_.d_model, {init.seed, init.stream + 18}),
        norm1({o_.d_model, o_.layer_norm_eps}),
        norm2({o_.d_model, o_.layer_norm_eps}),
        norm3({o_.d_model, o_.layer_norm_eps}),
        drop1(T(o_.dropout), init.seed ^ 0x1111),
        drop2(T(o_.dropout), init.seed ^ 0x2222),
        drop3(T(o_.dropout), init.seed ^ 0x4444),
        drop_ff(T(o_.relu_dropout < 0 ? o_.dropout : o_.relu_dropout), init.seed ^ 0x3333) {}

  void train(bool on = true) {
    self_attn.train(on);
    multihead_attn.train(on);
    drop1.train(on);
    drop2.train(on);
    drop3.train(on);
    drop_ff.train(on);
  }
  void eval() { train(false); }

  // self_mask.causal is forced on; memory_mask applies to the cross-attention.
  var_type operator()(ad::Tape<T, B>& tape, const var_type& x, const var_type* memory,
                      AttentionMask<T, B> self_mask = {}, const AttentionMask<T, B>& memory_mask = {}) {
    FUGUE_CHECK(x.shape().rank() == 3 && x.shape()[2] == o_.d_model, "TransformerDecoderLayer: input ", x.shape().str(),
                ", expected [N, L, ", o_.d_model, "]");
    self_mask.causal = true;
    var_type h = x;
    if (o_.norm_first) {
      h = detail::add_op(tape, h, drop1(tape, self_attn(tape, norm1(tape, h), nullptr, self_mask)));
      if (memory) h = detail::add_op(tape, h, drop2(tape, multihead_attn(tape, norm2(tape, h), memory, memory_mask)));
      return detail::add_op(tape, h, drop3(tape, ff(tape, norm3(tape, h))));
    }
    h = norm1(tape, detail::add_op(tape, h, drop1(tape, self_attn(tape, h, nullptr, self_mask))));
    if (memory) h = norm2(tape, detail::add_op(tape, h, drop2(tape, multihead_attn(tape, h, memory, memory_mask))));
    return norm3(tape, detail::add_op(tape, h, drop3(tape, ff(tape, h))));
  }

  template <class F>
  void visit_parameters(F&& f, std::string_view prefix = {}) {
    self_attn.visit_parameters(f, join_name(prefix, "self_attn"));
    multihead_attn.visit_parameters(f, join_name(prefix, "multihead_attn"));
    linear1.visit_parameters(f, join_name(prefix, "linear1"));
    linear2.visit_parameters(f, join_name(prefix, "linear2"));
    norm1.visit_parameters(f, join_name(prefix, "norm1"));
    norm2.visit_parameters(f, join_name(prefix, "norm2"));
    norm3.visit_parameters(f, join_name(prefix, "norm3"));
  }

 private:
  static TransformerLayerOptions checked(TransformerLayerOptions o) {
    if (D != dyn && o.d_model == 512) o.d_model = D;
    FUGUE_CHECK(D == dyn || o.d_model == D, "TransformerDecoderLayer: d_model ", o.d_model, " but the type says ", D);
    FUGUE_CHECK(o.d_model > 0 && o.nhead > 0 && o.dim_feedforward > 0, "TransformerDecoderLayer: invalid sizes");
    return o;
  }
  var_type ff(ad::Tape<T, B>& tape, const var_type& x) {
    return linear2(tape, drop_ff(tape, linear1(tape, x, o_.activation)));
  }

  TransformerLayerOptions o_;

 public:
  MultiheadAttention<T, B> self_attn, multihead_attn;
  detail::ffn_linear<T, B> linear1, linear2;
  LayerNorm<T, B> norm1, norm2, norm3;
  Dropout<T, B> drop1, drop2, drop3, drop_ff;
};

}  // namespace fugue::nn
