// fugue/nn/conv1d.hpp — 1-D convolution (PyTorch layout), optionally causal, dilated, grouped.
//
// Contract:
//  * input [B, C_in, T] -> output [B, C_out, T'] with
//    T' = floor((T + pad_left + pad_right - dilation*(K-1) - 1) / stride) + 1.
//  * Parameters (visit_parameters order and names, PyTorch's): "weight" [C_out, C_in/groups, K],
//    "bias" [C_out] (absent when options.bias is false).
//  * padding: symmetric `padding` on both sides (PyTorch), or explicit pad_left/pad_right
//    when `asymmetric` is set (TF "SAME" with even kernels); causal = true pads
//    dilation*(K-1) zeros on the left only, so output t depends on inputs <= t and T' = T
//    (with stride 1).
//  * Static extents CIn / COut / K (fugue::dyn when not known) are checked against the
//    options at construction and against the input at run time; violations throw fugue::error.
//  * Init as torch: weight and bias U(-1/sqrt(fan_in), 1/sqrt(fan_in)), fan_in = C_in/groups*K,
//    from the given Philox stream (stream and stream+1).
//  * operator()(tape, x) records one fused op (im2col + GEMM forward, col2im backward);
//    forward(x) is the tape-free inference path.
#pragma once

#include <cmath>
#include <optional>
#include <string>
#include <string_view>

#include "fugue/autodiff/parameter.hpp"
#include "fugue/autodiff/tape.hpp"
#include "fugue/core/extents.hpp"
#include "fugue/nn/detail/conv_ops.hpp"
#include "fugue/nn/module.hpp"

namespace fugue::nn {

struct Conv1dOptions {
  index_t in_channels = 0, out_channels = 0, kernel_size = 0;  // 0: from the static extents
  index_t stride = 1, padding = 0, dilation = 1, groups = 1;
  bool bias = true;
  bool causal = false;      // left padding dilation*(K-1), right 0
  bool asymmetric = false;  // use pad_left / pad_right instead of padding
  index_t pad_left = 0, pad_right = 0;
};

template <Scalar T, Backend B = cpu::native, index_t CIn = dyn, index_t COut = dyn, index_t K = dyn>
class Conv1d {
 public:
  using tensor_type = Tensor<T, B>;
  using var_type = ad::Var<T, B>;
  explicit Conv1d(Conv1dOptions o, Philox init = {0x5eed, 0}) : o_(o) {
    if (CIn != dyn && o_.in_channels == 0) o_.in_channels = CIn;
    if (COut != dyn && o_.out_channels == 0) o_.out_channels = COut;
    if (K != dyn && o_.kernel_size == 0) o_.kernel_size = K;
    FUGUE_CHECK(CIn == dyn || o_.in_channels == CIn, "Conv1d: in_channels ", o_.in_channels, " but the type says ",
                CIn);
    FUGUE_CHECK(COut == dyn || o_.out_channels == COut, "Conv1d: out_channels ", o_.out_channels, " but the type says ",
                COut);
    FUGUE_CHECK(K == dyn || o_.kernel_size == K, "Conv1d: kernel_size ", o_.kernel_size, " but the type says ", K);
    FUGUE_CHECK(o_.in_channels > 0 && o_.out_channels > 0 && o_.kernel_size > 0 && o_.stride > 0 && o_.dilation > 0 &&
                    o_.groups > 0 && o_.padding >= 0 && o_.pad_left >= 0 && o_.pad_right >= 0,
                "Conv1d: invalid options (channels ", o_.in_channels, "->", o_.out_channels, ", kernel ",
                o_.kernel_size, ", stride ", o_.stride, ", dilation ", o_.dilation, ", groups ", o_.groups, ")");
    FUGUE_CHECK(o_.in_channels % o_.groups == 0 && o_.out_channels % o_.groups == 0, "Conv1d: channels ",
                o_.in_channels, "->", o_.out_channels, " not divisible by groups ", o_.groups);
    const index_t fan_in = o_.in_channels / o_.groups * o_.kernel_size;
    const T bound = T(1) / std::sqrt(T(fan_in));
    weight.value =
        tensor_type::uniform({o_.out_channels, o_.in_channels / o_.groups, o_.kernel_size}, init, -bound, bound);
    if (o_.bias) bias.value = tensor_type::uniform({o_.out_channels}, {init.seed, init.stream + 1}, -bound, bound);
  }

  const Conv1dOptions& options() const noexcept { return o_; }
  index_t left_padding() const {
    return o_.causal ? o_.dilation * (o_.kernel_size - 1) : o_.asymmetric ? o_.pad_left : o_.padding;
  }
  index_t right_padding() const { return o_.causal ? 0 : o_.asymmetric ? o_.pad_right : o_.padding; }
  index_t output_length(index_t t) const {
    return (t + left_padding() + right_padding() - o_.dilation * (o_.kernel_size - 1) - 1) / o_.stride + 1;
  }

  var_type operator()(ad::Tape<T, B>& tape, const var_type& x) {
    auto g = geometry(x.shape());
    std::optional<var_type> b;
    if (o_.bias) b = tape.param(bias);
    return detail::conv_op(tape, x, tape.param(weight), b, g, Shape{g.n, g.c_out, g.out_w()});
  }
  tensor_type forward(const tensor_type& x) const {
    auto g = geometry(x.shape());
    return detail::conv_forward_tensor(g, x, weight.value, o_.bias ? &bias.value : nullptr,
                                       Shape{g.n, g.c_out, g.out_w()});
  }

  template <class F>
  void visit_parameters(F&& f, std::string_view prefix = {}) {
    f(join_name(prefix, "weight"), weight);
    if (o_.bias) f(join_name(prefix, "bias"), bias);
  }

  ad::Parameter<T, B> weight, bias;

 private:
  detail::conv_geometry geometry(const Shape& s) const {
    FUGUE_CHECK(s.rank() == 3 && s[1] == o_.in_channels, "Conv1d: input of shape ", s.str(), ", expected [B, ",
                o_.in_channels, ", T]");
    detail::conv_geometry g;
    g.n = s[0];
    g.c_in = o_.in_channels;
    g.h = 1;
    g.w = s[2];
    g.c_out = o_.out_channels;
    g.kh = 1;
    g.kw = o_.kernel_size;
    g.stride_w = o_.stride;
    g.dil_w = o_.dilation;
    g.pad_left = left_padding();
    g.pad_right = right_padding();
    g.groups = o_.groups;
    FUGUE_CHECK(g.valid(), "Conv1d: input length ", s[2], " too short for kernel ", o_.kernel_size, " with dilation ",
                o_.dilation, " and padding ", g.pad_left, "+", g.pad_right);
    return g;
  }
  Conv1dOptions o_;
};

}  // namespace fugue::nn
