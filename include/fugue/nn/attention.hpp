// fugue/nn/attention.hpp — multi-head attention, optionally with Music Transformer's
// relative-position keys (docs/nn.md, "Shapes and semantics", MultiheadAttention).
//
// Contract:
//  * operator()(tape, x, memory = nullptr, mask = {}): x [N, Lq, E] (batch first) -> [N, Lq, E].
//    Self-attention when memory is null, else keys/values come from memory [N, Lk, kv_dim].
//  * Parameters, PyTorch nn.MultiheadAttention names/layouts (visit_parameters order):
//      packed (key_dim == value_dim == embed_dim == kv_dim, the torch default):
//        "in_proj_weight" [3E, E] (rows q, k, v), "in_proj_bias" [3E]
//      otherwise (tensor2tensor's key channels != hidden, or cross-attention with kdim):
//        "q_proj_weight" [Dk, E], "k_proj_weight" [Dk, kv_dim], "v_proj_weight" [Dv, kv_dim],
//        "in_proj_bias" [2 Dk + Dv]
//      "out_proj.weight" [E, Dv], "out_proj.bias" [E]; biases only when options.bias
//      (t2t attention has none); "relative_key_table" [H, max_relative_position, Dk/H] when
//      options.relative (per head; init N(0, (Dk/H)^-0.5) as t2t).
//  * logits = scale * q k^T (scale = (Dk/H)^-1/2 unless options.scale > 0), plus, when relative,
//    skew(scale * q E_L^T) as tensor2tensor's dot_product_relative_v2 (no relative values; self-attention only),
//    plus mask: causal (j > i + Lk - Lq masked), key_padding [N, Lk] (nonzero = ignore, torch's
//    key_padding_mask), attn_bias [Lq, Lk] (additive, torch's float attn_mask). softmax;
//    dropout(options.dropout; active when the module and the tape are in training mode, mask
//    stream tape.next_rng(); forward() uses the module's own stream); weighted sum of v;
//    out projection.
//    Rows with every key masked give 0 (torch gives NaN).
//  * The core (scores, masks, skew, softmax, dropout, @V) is one fused tape node with a
//    hand-written backward; projections are packed dense nodes, so self-attention costs
//    3 nodes. forward(x, memory, mask) is the tape-free path.
//  * Init (torch): in_proj weights xavier-uniform over the packed [3E, E] (or each separate
//    matrix), out_proj.weight U(+-1/sqrt(Dv)), biases 0.
//  * Shape mismatches throw fugue::error.
#pragma once

#include <cmath>
#include <concepts>
#include <optional>
#include <string_view>

#include "fugue/autodiff/parameter.hpp"
#include "fugue/autodiff/registry.hpp"
#include "fugue/autodiff/tape.hpp"
#include "fugue/nn/detail/attention_ops.hpp"
#include "fugue/nn/module.hpp"

FUGUE_AD_OP(nn_bias_window)

namespace fugue::nn {

struct MultiheadAttentionOptions {
  index_t embed_dim = 0, num_heads = 1;
  index_t key_dim = 0;    // total key/query depth (0: embed_dim)
  index_t value_dim = 0;  // total value depth (0: embed_dim)
  index_t kv_dim = 0;     // memory feature size (0: embed_dim)
  bool bias = true;
  double dropout = 0.0;   // on the attention probabilities
  double scale = 0.0;     // 0: (key_dim / heads)^-0.5
  bool relative = false;  // Music Transformer relative keys (self-attention only)
  index_t max_relative_position = 0;
};

template <class T, class B = cpu::native>
struct AttentionMask {
  bool causal = false;
  Tensor<T, B> key_padding;  // [N, Lk], nonzero = ignore (optional)
  Tensor<T, B> attn_bias;    // [Lq, Lk], additive (optional)
};

// A multi-input layer: queries x, keys / values from memory (null: self-attention), a mask.
// MultiheadAttention and TransformerDecoderLayer satisfy it; they are composed explicitly,
// not in nn::Sequential (whose members are single-input nn::Layer s, fugue/nn/layer.hpp).
template <class L, class T, class B>
concept AttentionLayer = Module<L> && requires(L& l, ad::Tape<T, B>& tape, const ad::Var<T, B>& x,
                                               const ad::Var<T, B>* memory, const AttentionMask<T, B>& mask) {
  { l(tape, x, memory, mask) } -> std::convertible_to<ad::Var<T, B>>;
};

template <Scalar T, Backend B = cpu::native, index_t E = dyn, index_t Heads = dyn>
class MultiheadAttention {
 public:
  using tensor_type = Tensor<T, B>;
  using var_type = ad::Var<T, B>;

  explicit MultiheadAttention(MultiheadAttentionOptions o, Philox init = {0xa77e, 0}) : o_(o) {
    if (E != dyn && o_.embed_dim == 0) o_.embed_dim = E;
    if (Heads != dyn && o_.num_heads == 1) o_.num_heads = Heads;
    FUGUE_CHECK(E == dyn || o_.embed_dim == E, "MultiheadAttention: embed_dim ", o_.embed_dim, " but the type says ",
                E);
    FUGUE_CHECK(Heads == dyn || o_.num_heads == Heads, "MultiheadAttention: num_heads ", o_.num_heads,
                " but the type says ", Heads);
    if (!o_.key_dim) o_.key_dim = o_.embed_dim;
    if (!o_.value_dim) o_.value_dim = o_.embed_dim;
    if (!o_.kv_dim) o_.kv_dim = o_.embed_dim;
    const index_t e = o_.embed_dim, h = o_.num_heads;
    FUGUE_CHECK(e > 0 && h > 0 && o_.key_dim % h == 0 && o_.value_dim % h == 0, "MultiheadAttention: embed ", e,
                ", key ", o_.key_dim, ", value ", o_.value_dim, " not divisible by ", h, " heads");
    FUGUE_CHECK(o_.dropout >= 0 && o_.dropout < 1, "MultiheadAttention: dropout ", o_.dropout, " outside [0, 1)");
    FUGUE_CHECK(!o_.relative || o_.max_relative_position > 0,
                "MultiheadAttention: relative needs max_relative_position");
    packed_ = o_.key_dim == e && o_.value_dim == e && o_.kv_dim == e;
    const index_t dk = o_.key_dim, dv = o_.value_dim;
    auto xavier = [](index_t rows, index_t cols, Philox r) {
      const T a = std::sqrt(T(6) / T(rows + cols));
      return tensor_type::uniform({rows, cols}, r, -a, a);
    };
    if (packed_) {
      in_proj_weight.value = xavier(3 * e, e, init);
    } else {
      q_proj_weight.value = xavier(dk, e, {init.seed, init.stream});
      k_proj_weight.value = xavier(dk, o_.kv_dim, {init.seed, init.stream + 1});
      v_proj_weight.value = xavier(dv, o_.kv_dim, {init.seed, init.stream + 2});
    }
    const T ob = T(1) / std::sqrt(T(dv));
    out_proj_weight.value = tensor_type::uniform({e, dv}, {init.seed, init.stream + 3}, -ob, ob);
    if (o_.bias) {
      in_proj_bias.value = tensor_type::zeros({2 * dk + dv});
      out_proj_bias.value = tensor_type::zeros({e});
    }
    if (o_.relative)
      relative_key_table.value = tensor_type::normal({h, o_.max_relative_position, dk / h},
                                                     {init.seed, init.stream + 4}, T(0), T(1) / std::sqrt(T(dk / h)));
  }

  const MultiheadAttentionOptions& options() const noexcept { return o_; }
  bool packed() const noexcept { return packed_; }
  void train(bool on = true) noexcept { training_ = on; }
  void eval() noexcept { training_ = false; }
  bool training() const noexcept { return training_; }
  void reseed(std::uint64_t seed) noexcept { rng_ = {seed, 0}; }

  var_type operator()(ad::Tape<T, B>& tape, const var_type& x, const var_type* memory = nullptr,
                      const AttentionMask<T, B>& mask = {}) {
    check_inputs(x.shape(), memory ? &memory->shape() : nullptr);
    const index_t e = o_.embed_dim, dk = o_.key_dim, dv = o_.value_dim;
    std::optional<var_type> bias_in, bias_out;
    if (o_.bias) {
      bias_in = tape.param(in_proj_bias);
      bias_out = tape.param(out_proj_bias);
    }
    detail::attention_inputs<T, B> in;
    if (packed_) {
      var_type w = tape.param(in_proj_weight);
      if (!memory) {
        in.sources = {detail::dense_op(tape, x, w, bias_in, 0, 3 * e)};
        in.q = {0, 0};
        in.k = {0, e};
        in.v = {0, 2 * e};
      } else {
        in.sources = {detail::dense_op(tape, x, w, bias_in, 0, e),
                      detail::dense_op(tape, *memory, w, bias_in, e, 3 * e)};
        in.q = {0, 0};
        in.k = {1, 0};
        in.v = {1, e};
      }
    } else {
      const var_type& kv = memory ? *memory : x;
      // The separate weights are windows [0, Dk), [Dk, 2Dk), [2Dk, 2Dk+Dv) of in_proj_bias.
      in.sources = {dense_sep(tape, x, tape.param(q_proj_weight), bias_in, 0, dk),
                    dense_sep(tape, kv, tape.param(k_proj_weight), bias_in, dk, 2 * dk),
                    dense_sep(tape, kv, tape.param(v_proj_weight), bias_in, 2 * dk, 2 * dk + dv)};
      in.q = {0, 0};
      in.k = {1, 0};
      in.v = {2, 0};
    }
    if (o_.relative) in.rel = tape.param(relative_key_table);
    in.key_padding = mask.key_padding;
    in.attn_bias = mask.attn_bias;
    auto p = problem(mask.causal, tape.training());
    if (p.dropout > 0) p.rng = tape.next_rng();
    var_type o = detail::attention_op(tape, in, p);
    return detail::dense_op(tape, o, tape.param(out_proj_weight), bias_out, 0, e);
  }

  tensor_type forward(const tensor_type& x, const tensor_type* memory = nullptr, const AttentionMask<T, B>& mask = {}) {
    check_inputs(x.shape(), memory ? &memory->shape() : nullptr);
    const index_t e = o_.embed_dim, dk = o_.key_dim, dv = o_.value_dim;
    const tensor_type* bi = o_.bias ? &in_proj_bias.value : nullptr;
    std::vector<tensor_type> src;
    detail::attention_window wq, wk, wv;
    if (packed_) {
      if (!memory) {
        src = {detail::dense_tensor(x, in_proj_weight.value, bi, 0, 3 * e)};
        wq = {0, 0};
        wk = {0, e};
        wv = {0, 2 * e};
      } else {
        src = {detail::dense_tensor(x, in_proj_weight.value, bi, 0, e),
               detail::dense_tensor(*memory, in_proj_weight.value, bi, e, 3 * e)};
        wq = {0, 0};
        wk = {1, 0};
        wv = {1, e};
      }
    } else {
      const tensor_type& kv = memory ? *memory : x;
      src = {dense_sep_tensor(x, q_proj_weight.value, bi, 0, dk),
             dense_sep_tensor(kv, k_proj_weight.value, bi, dk, 2 * dk),
             dense_sep_tensor(kv, v_proj_weight.value, bi, 2 * dk, 2 * dk + dv)};
      wq = {0, 0};
      wk = {1, 0};
      wv = {2, 0};
    }
    auto p = problem(mask.causal, true);
    p.n = x.dim(0);
    p.lq = x.dim(1);
    p.lk = memory ? memory->dim(1) : x.dim(1);
    std::vector<std::uint8_t> kpm;
    tensor_type probs, biasc;
    tensor_type relv = o_.relative ? relative_key_table.value.contiguous() : tensor_type{};
    tensor_type o = detail::attention_forward_tensors(p, src, wq, wk, wv, o_.relative ? &relv : nullptr,
                                                      mask.key_padding, mask.attn_bias, kpm, probs, biasc);
    return detail::dense_tensor(o, out_proj_weight.value, o_.bias ? &out_proj_bias.value : nullptr, 0, e);
  }

  template <class F>
  void visit_parameters(F&& f, std::string_view prefix = {}) {
    if (packed_) {
      f(join_name(prefix, "in_proj_weight"), in_proj_weight);
    } else {
      f(join_name(prefix, "q_proj_weight"), q_proj_weight);
      f(join_name(prefix, "k_proj_weight"), k_proj_weight);
      f(join_name(prefix, "v_proj_weight"), v_proj_weight);
    }
    if (o_.bias) f(join_name(prefix, "in_proj_bias"), in_proj_bias);
    f(join_name(prefix, "out_proj.weight"), out_proj_weight);
    if (o_.bias) f(join_name(prefix, "out_proj.bias"), out_proj_bias);
    if (o_.relative) f(join_name(prefix, "relative_key_table"), relative_key_table);
  }

  ad::Parameter<T, B> in_proj_weight, q_proj_weight, k_proj_weight, v_proj_weight, in_proj_bias;
  ad::Parameter<T, B> out_proj_weight, out_proj_bias, relative_key_table;

 private:
  detail::attention_problem<T> problem(bool causal, bool tape_training) {
    detail::attention_problem<T> p;
    p.heads = o_.num_heads;
    p.dk = o_.key_dim / o_.num_heads;
    p.dv = o_.value_dim / o_.num_heads;
    p.scale = o_.scale > 0 ? T(o_.scale) : T(1) / std::sqrt(T(p.dk));
    p.causal = causal;
    if (training_ && tape_training && o_.dropout > 0) {
      p.dropout = T(o_.dropout);
      p.rng = {rng_.seed, rng_.stream++};
    }
    return p;
  }
  void check_inputs(const Shape& x, const Shape* m) const {
    FUGUE_CHECK(x.rank() == 3 && x[2] == o_.embed_dim, "MultiheadAttention: query of shape ", x.str(),
                ", expected [N, L, ", o_.embed_dim, "]");
    if (m)
      FUGUE_CHECK(m->rank() == 3 && (*m)[0] == x[0] && (*m)[2] == o_.kv_dim, "MultiheadAttention: memory of shape ",
                  m->str(), ", expected [", x[0], ", L, ", o_.kv_dim, "]");
    FUGUE_CHECK(!o_.relative || !m || (*m)[1] == x[1], "MultiheadAttention: relative attention is self-attention only");
  }
  // A projection by a separate weight [n, In] with bias rows [b0, b1) of the packed bias.
  var_type dense_sep(ad::Tape<T, B>& tape, const var_type& x, const var_type& w, const std::optional<var_type>& bias,
                     index_t b0, index_t b1) {
    if (!bias) return detail::dense_op(tape, x, w, std::optional<var_type>(), 0, w.shape()[0]);
    // bias window: slice [b0, b1) of the packed bias through a tiny node of its own
    tensor_type bv = bias->value().slice(0, b0, b1).contiguous();
    var_type bs = tape.record(
        bv, {*bias},
        [b0, b1, n = bias->shape()[0]](const tensor_type& g, auto& sink) {
          if (!sink.needs(0)) return;
          auto d = tensor_type::zeros({n});
          d.slice(0, b0, b1).copy_from(g);
          sink.accumulate(0, d);
        },
        "nn_bias_window");
    return detail::dense_op(tape, x, w, std::optional<var_type>(bs), 0, w.shape()[0]);
  }
  tensor_type dense_sep_tensor(const tensor_type& x, const tensor_type& w, const tensor_type* bias, index_t b0,
                               index_t b1) const {
    if (!bias) return detail::dense_tensor(x, w, static_cast<const tensor_type*>(nullptr), 0, w.dim(0));
    tensor_type bs = bias->slice(0, b0, b1).contiguous();
    return detail::dense_tensor(x, w, &bs, 0, w.dim(0));
  }

  MultiheadAttentionOptions o_;
  bool packed_ = true;
  bool training_ = true;
  Philox rng_{0xa77e, 1u << 20};
};

}  // namespace fugue::nn
