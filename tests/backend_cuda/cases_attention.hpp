// Conformance cases for attention on every backend (device path:
// nn/detail/attention_device.hpp and the portable dense / skew functors of attention_ops.hpp):
// multi-head self- and cross-attention with each mask (causal, key padding including a fully
// masked row, additive bias), Music Transformer relative keys (max_relative_position below and
// above the length), attention dropout in training mode, packed and separate projections, the
// skew op, and Transformer encoder / decoder layers (pre- and post-norm, relu and gelu FFNs).
// Each case: output, the gradients of the inputs and of every parameter after backward() with a
// fixed random seed, and the tape-free forward; compared with cpu::native.
#pragma once

#include <optional>
#include <type_traits>

#include <fugue/nn/attention.hpp>
#include <fugue/nn/transformer.hpp>

#include "conformance.hpp"

namespace conformance {

// Key padding mask [n, lk] (1 = ignore): sequence b masks its last b * drop keys.
template <class T, class B>
Tensor<T, B> key_padding_mask(index_t n, index_t lk, index_t drop) {
  std::vector<T> m(static_cast<std::size_t>(n * lk), T(0));
  for (index_t b = 0; b < n; ++b)
    for (index_t j = std::max<index_t>(0, lk - b * drop); j < lk; ++j) m[std::size_t(b * lk + j)] = T(1);
  return Tensor<T, B>::from(m, {n, lk});
}

// layer(tape, x[, memory], mask) and layer.forward(...) with the gradients of x, memory and
// every parameter.
template <class T, class B, class Layer, class Call, class Forward>
Arrays<T> attention_case(Layer& layer, const Shape& x_shape, const Shape* memory_shape, Call call, Forward fwd,
                         std::uint64_t stream) {
  ad::Tape<T, B> tape;
  auto x = tape.input(random_tensor<T, B>(x_shape, stream), true);
  std::optional<ad::Var<T, B>> mem;
  if (memory_shape) mem = tape.input(random_tensor<T, B>(*memory_shape, stream + 1), true);
  auto y = call(tape, x, mem ? &*mem : nullptr);
  tape.backward(y, random_tensor<T, B>(y.value().shape(), stream + 100));
  Arrays<T> r{y.value().to_vector(), x.grad().to_vector()};
  if (mem) r.push_back(mem->grad().to_vector());
  layer.visit_parameters([&](std::string_view, auto& p) { r.push_back(p.grad.to_vector()); });
  if constexpr (!std::is_null_pointer_v<Forward>) {  // the decoder layer has no tape-free path
    Tensor<T, B> mv = mem ? mem->value() : Tensor<T, B>{};
    r.push_back(fwd(x.value(), mem ? &mv : nullptr).to_vector());
  }
  return r;
}

template <class T, class Backends>
void attention_cases() {
  namespace nn = fugue::nn;
  const std::string ty = sizeof(T) == 4 ? " f32" : " f64";

  check<T, Backends>(
      "nn MultiheadAttention self: causal + key padding + additive bias" + ty,
      [&]<class B>() {
        nn::MultiheadAttentionOptions o;
        o.embed_dim = 8, o.num_heads = 2;
        nn::MultiheadAttention<T, B> attn(o, Philox{0xa77e, 1});
        nn::AttentionMask<T, B> mask{true, key_padding_mask<T, B>(2, 5, 2), random_tensor<T, B>({5, 5}, 501)};
        return attention_case<T, B>(
            attn, Shape{2, 5, 8}, nullptr, [&](auto& tape, auto& x, auto*) { return attn(tape, x, nullptr, mask); },
            [&](const Tensor<T, B>& x, auto*) { return attn.forward(x, nullptr, mask); }, 502);
      },
      loose<T>());

  check<T, Backends>(
      "nn MultiheadAttention relative (max_rel 3 < L 6), causal, dropout 0.25" + ty,
      [&]<class B>() {
        nn::MultiheadAttentionOptions o;
        o.embed_dim = 8, o.num_heads = 2, o.relative = true, o.max_relative_position = 3, o.dropout = 0.25;
        nn::MultiheadAttention<T, B> attn(o, Philox{0xa77e, 2});
        attn.train();
        nn::AttentionMask<T, B> mask;
        mask.causal = true;
        return attention_case<T, B>(
            attn, Shape{3, 6, 8}, nullptr, [&](auto& tape, auto& x, auto*) { return attn(tape, x, nullptr, mask); },
            [&](const Tensor<T, B>& x, auto*) { return attn.forward(x, nullptr, mask); }, 503);
      },
      loose<T>());

  check<T, Backends>(
      "nn MultiheadAttention relative (max_rel 9 > L 5), separate projections, no bias" + ty,
      [&]<class B>() {
        nn::MultiheadAttentionOptions o;
        o.embed_dim = 6, o.num_heads = 3, o.key_dim = 9, o.value_dim = 3, o.bias = false, o.relative = true;
        o.max_relative_position = 9;
        nn::MultiheadAttention<T, B> attn(o, Philox{0xa77e, 3});
        return attention_case<T, B>(
            attn, Shape{2, 5, 6}, nullptr, [&](auto& tape, auto& x, auto*) { return attn(tape, x); },
            [&](const Tensor<T, B>& x, auto*) { return attn.forward(x); }, 504);
      },
      loose<T>());

  check<T, Backends>(
      "nn MultiheadAttention cross (kv_dim 5), one sequence fully key-padded" + ty,
      [&]<class B>() {
        nn::MultiheadAttentionOptions o;
        o.embed_dim = 8, o.num_heads = 2, o.kv_dim = 5;
        nn::MultiheadAttention<T, B> attn(o, Philox{0xa77e, 4});
        nn::AttentionMask<T, B> mask;
        mask.key_padding = key_padding_mask<T, B>(2, 7, 7);  // sequence 1: every key masked
        const Shape ms{2, 7, 5};
        return attention_case<T, B>(
            attn, Shape{2, 4, 8}, &ms, [&](auto& tape, auto& x, auto* m) { return attn(tape, x, m, mask); },
            [&](const Tensor<T, B>& x, auto* m) { return attn.forward(x, m, mask); }, 505);
      },
      loose<T>());

  check<T, Backends>(
      "nn skew op" + ty,
      [&]<class B>() {
        ad::Tape<T, B> tape;
        auto s = tape.input(random_tensor<T, B>({2, 3, 5, 5}, 506), true);
        auto y = fugue::nn::detail::skew_op(tape, s);
        tape.backward(y, random_tensor<T, B>(y.value().shape(), 507));
        return Arrays<T>{y.value().to_vector(), s.grad().to_vector(),
                         fugue::nn::detail::skew_tensor(s.value()).to_vector()};
      },
      tight<T>());

  check<T, Backends>(
      "nn TransformerEncoderLayer pre-norm, gelu, relative, dropout 0.1 (train)" + ty,
      [&]<class B>() {
        nn::TransformerLayerOptions o;
        o.d_model = 8, o.nhead = 2, o.dim_feedforward = 12, o.dropout = 0.1, o.activation = nn::DenseActivation::gelu;
        o.norm_first = true, o.relative = true, o.max_relative_position = 4, o.layer_norm_eps = 1e-6;
        nn::TransformerEncoderLayer<T, B> layer(o, Philox{0x7e4c, 5});
        layer.train();
        nn::AttentionMask<T, B> mask;
        mask.causal = true;
        return attention_case<T, B>(
            layer, Shape{2, 6, 8}, nullptr, [&](auto& tape, auto& x, auto*) { return layer(tape, x, mask); },
            [&](const Tensor<T, B>& x, auto*) { return layer.forward(x, mask); }, 507);
      },
      loose<T>());

  check<T, Backends>(
      "nn TransformerDecoderLayer post-norm, relu, with memory (eval)" + ty,
      [&]<class B>() {
        nn::TransformerLayerOptions o;
        o.d_model = 8, o.nhead = 4, o.dim_feedforward = 16, o.dropout = 0.1;
        nn::TransformerDecoderLayer<T, B> layer(o, Philox{0xdec0, 6});
        layer.eval();
        const Shape ms{2, 3, 8};
        return attention_case<T, B>(
            layer, Shape{2, 5, 8}, &ms, [&](auto& tape, auto& x, auto* m) { return layer(tape, x, m); }, nullptr, 508);
      },
      loose<T>());
}

}  // namespace conformance
