// Conformance cases for the layers that run on every backend: the convolutions (Conv1d:
// dilated, causal, strided, grouped, asymmetric padding, pointwise; Conv2d: padded, strided,
// dilated (also both on one axis), grouped, TF "SAME" with odd and even kernels; ConvTranspose2d: strided with output
// padding, grouped), Linear, MLP, LayerNorm, BatchNorm (train and eval, with the running statistics). Each case builds
// the layer on the backend (the same Philox init everywhere), records it on a tape, runs backward with a fixed random
// seed, and returns the output, the input's gradient, every parameter's gradient and the tape-free forward(x): all
// compared against cpu::native. The device path is the gather-form im2col / col2im of fugue/nn/detail/conv_kernels.hpp.
#pragma once

#include <fugue/nn/batch_norm.hpp>
#include <fugue/nn/conv1d.hpp>
#include <fugue/nn/conv2d.hpp>
#include <fugue/nn/conv_transpose2d.hpp>
#include <fugue/nn/embedding.hpp>
#include <fugue/nn/layer_norm.hpp>
#include <fugue/nn/linear.hpp>
#include <fugue/nn/mlp.hpp>

#include "conformance.hpp"

namespace conformance {

template <class T, class B, class Layer>
Arrays<T> layer_value_and_grads(Layer& layer, const Shape& x_shape, std::uint64_t stream) {
  ad::Tape<T, B> tape;
  auto x = tape.input(random_tensor<T, B>(x_shape, stream), true);
  auto y = layer(tape, x);
  tape.backward(y, random_tensor<T, B>(y.value().shape(), stream + 100));
  Arrays<T> r{y.value().to_vector(), x.grad().to_vector()};
  layer.visit_parameters([&](std::string_view, auto& p) { r.push_back(p.grad.to_vector()); });
  r.push_back(layer.forward(x.value()).to_vector());
  return r;
}

template <class T, class Backends>
void nn_cases() {
  namespace nn = fugue::nn;
  const std::string ty = sizeof(T) == 4 ? " f32" : " f64";
#define CONF_LAYER(title, Layer, options, x_shape)                          \
  check<T, Backends>(                                                       \
      std::string(title) + ty,                                              \
      [&]<class B>() {                                                      \
        Layer<T, B> layer(options, Philox{0xc0de, __LINE__});               \
        return layer_value_and_grads<T, B>(layer, Shape x_shape, __LINE__); \
      },                                                                    \
      loose<T>());

  nn::Conv1dOptions c1;
  c1.in_channels = 4, c1.out_channels = 6, c1.kernel_size = 3, c1.dilation = 2, c1.causal = true;
  CONF_LAYER("nn Conv1d dilated causal", nn::Conv1d, c1, ({2, 4, 19}))
  nn::Conv1dOptions c1s;
  c1s.in_channels = 6, c1s.out_channels = 4, c1s.kernel_size = 5, c1s.stride = 3, c1s.padding = 2, c1s.groups = 2;
  CONF_LAYER("nn Conv1d strided, padded, 2 groups", nn::Conv1d, c1s, ({3, 6, 23}))
  nn::Conv1dOptions c1a;
  c1a.in_channels = 3, c1a.out_channels = 4, c1a.kernel_size = 4, c1a.stride = 2, c1a.dilation = 2;
  c1a.asymmetric = true, c1a.pad_left = 3, c1a.pad_right = 1;
  CONF_LAYER("nn Conv1d stride 2, dilation 2, asymmetric padding", nn::Conv1d, c1a, ({2, 3, 21}))
  nn::Conv1dOptions c1p;
  c1p.in_channels = 5, c1p.out_channels = 7, c1p.kernel_size = 1, c1p.bias = false;
  CONF_LAYER("nn Conv1d pointwise, no bias", nn::Conv1d, c1p, ({2, 5, 11}))

  nn::Conv2dOptions c2;
  c2.in_channels = 3, c2.out_channels = 4, c2.kernel_h = 3, c2.kernel_w = 2, c2.stride_h = 2, c2.stride_w = 1;
  c2.padding_h = 1, c2.padding_w = 1, c2.dilation_w = 2;
  CONF_LAYER("nn Conv2d strided, padded, dilated", nn::Conv2d, c2, ({2, 3, 9, 8}))
  nn::Conv2dOptions c2sd;
  c2sd.in_channels = 2, c2sd.out_channels = 3, c2sd.kernel_h = 3, c2sd.kernel_w = 3, c2sd.stride_h = 2;
  c2sd.dilation_h = 2, c2sd.stride_w = 3, c2sd.dilation_w = 2, c2sd.padding_h = 2, c2sd.padding_w = 1;
  CONF_LAYER("nn Conv2d stride 2 with dilation 2 on both axes", nn::Conv2d, c2sd, ({2, 2, 13, 14}))
  nn::Conv2dOptions c2e;
  c2e.in_channels = 3, c2e.out_channels = 2, c2e.kernel_h = 2, c2e.kernel_w = 4, c2e.same = true;
  CONF_LAYER("nn Conv2d SAME with an even kernel (pad bottom / right > top / left)", nn::Conv2d, c2e, ({2, 3, 5, 7}))
  nn::Conv2dOptions c2g;
  c2g.in_channels = 4, c2g.out_channels = 6, c2g.kernel_h = 3, c2g.kernel_w = 3, c2g.groups = 2, c2g.same = true;
  CONF_LAYER("nn Conv2d SAME, 2 groups", nn::Conv2d, c2g, ({2, 4, 7, 6}))

  nn::ConvTranspose2dOptions ct;
  ct.in_channels = 4, ct.out_channels = 3, ct.kernel_h = 3, ct.kernel_w = 4, ct.stride_h = 2, ct.stride_w = 2;
  ct.padding_h = 1, ct.padding_w = 1, ct.output_padding_h = 1;
  CONF_LAYER("nn ConvTranspose2d strided, output padding", nn::ConvTranspose2d, ct, ({2, 4, 5, 6}))
  nn::ConvTranspose2dOptions ctg;
  ctg.in_channels = 4, ctg.out_channels = 6, ctg.kernel_h = 2, ctg.kernel_w = 2, ctg.stride_h = 2, ctg.stride_w = 2;
  ctg.groups = 2;
  CONF_LAYER("nn ConvTranspose2d 2 groups", nn::ConvTranspose2d, ctg, ({1, 4, 4, 3}))
#undef CONF_LAYER

  // Dense layers (their tape nodes are generic ops: GEMM, column sums, layer norm).
  check<T, Backends>(
      "nn Linear" + ty,
      [&]<class B>() {
        nn::Linear<T, B> layer(7, 5, Philox{0xc0de, 1});
        return layer_value_and_grads<T, B>(layer, Shape{3, 4, 7}, 301);
      },
      loose<T>());
  check<T, Backends>(
      "nn MLP (2 x Linear + LayerNorm + leaky ReLU)" + ty,
      [&]<class B>() {
        nn::MLP<T, B, fugue::dyn, fugue::dyn, 2> layer(6, 8, Philox{0xc0de, 2});
        return layer_value_and_grads<T, B>(layer, Shape{5, 6}, 302);
      },
      loose<T>());
  check<T, Backends>(
      "nn Embedding (repeated ids)" + ty,
      [&]<class B>() {
        nn::Embedding<T, B> layer(6, 5, Philox{0xc0de, 3});
        const std::vector<index_t> ids{4, 0, 4, 2, 5, 4};
        ad::Tape<T, B> tape;
        auto y = layer(tape, ids, Shape{2, 3});
        tape.backward(y, random_tensor<T, B>(y.value().shape(), 306));
        return Arrays<T>{y.value().to_vector(), layer.weight.grad.to_vector(),
                         layer.forward(ids, Shape{3, 2}).to_vector()};
      },
      tight<T>());
  check<T, Backends>(
      "nn LayerNorm" + ty,
      [&]<class B>() {
        nn::LayerNorm<T, B> layer(nn::LayerNormOptions{12, 1e-5, true});
        layer.weight.value = random_tensor<T, B>({12}, 303, 0.5, 1.5);
        layer.bias.value = random_tensor<T, B>({12}, 304);
        return layer_value_and_grads<T, B>(layer, Shape{4, 3, 12}, 305);
      },
      loose<T>());
  // Train mode: batch statistics (tape op and forward each update the running ones); then eval
  // mode without a learned scale, from those running statistics.
  check<T, Backends>(
      "nn BatchNorm train [3, 4, 5] then eval [2, 4, 2, 2] (center only)" + ty,
      [&]<class B>() {
        nn::BatchNormOptions o;
        o.num_features = 4;
        nn::BatchNorm<T, B> layer(o);
        layer.weight.value = random_tensor<T, B>({4}, 307, 0.5, 1.5);
        layer.bias.value = random_tensor<T, B>({4}, 308);
        auto r = layer_value_and_grads<T, B>(layer, Shape{3, 4, 5}, 309);
        o.scale = false;
        nn::BatchNorm<T, B> centred(o);
        centred.bias.value = random_tensor<T, B>({4}, 310);
        (void)centred.forward(random_tensor<T, B>({6, 4}, 311, -2, 3));  // running statistics away from 0 / 1
        centred.eval();
        auto e = layer_value_and_grads<T, B>(centred, Shape{2, 4, 2, 2}, 312);
        r.insert(r.end(), e.begin(), e.end());
        for (auto* bn_buffers : {&layer.running_mean, &layer.running_var, &layer.num_batches_tracked,
                                 &centred.running_mean, &centred.running_var})
          r.push_back(bn_buffers->to_vector());
        return r;
      },
      loose<T>());
}

}  // namespace conformance
