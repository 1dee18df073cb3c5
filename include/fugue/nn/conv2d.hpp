// fugue/nn/conv2d.hpp — 2-D convolution (PyTorch layout NCHW).
//
// Contract:
//  * input [B, C_in, H, W] -> output [B, C_out, H', W'], H' = floor((H + pad_top + pad_bottom -
//    dil_h*(kH-1) - 1) / stride_h) + 1 (same for W).
//  * Parameters (PyTorch names): "weight" [C_out, C_in/groups, kH, kW], "bias" [C_out] (when
//    options.bias).
//  * Padding: symmetric (padding_h, padding_w) as torch; or `same = true` for TF "SAME"
//    (stride 1 only here: total pad dil*(k-1), the extra one on the bottom/right as TF does).
//  * Static extents CIn / COut (fugue::dyn when unknown) are checked against options and inputs.
//  * Init as torch (kaiming-uniform a=sqrt(5)): U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
//  * operator()(tape, x): one fused op, im2col + GEMM forward, col2im backward. forward(x):
//    tape-free inference. Bad shapes throw fugue::error.
#pragma once

#include <cmath>
#include <optional>
#include <string_view>

#include "fugue/autodiff/parameter.hpp"
#include "fugue/autodiff/tape.hpp"
#include "fugue/nn/detail/conv_ops.hpp"
#include "fugue/nn/module.hpp"

namespace fugue::nn {

struct Conv2dOptions {
  index_t in_channels = 0, out_channels = 0;
  index_t kernel_h = 1, kernel_w = 1;
  index_t stride_h = 1, stride_w = 1;
  index_t padding_h = 0, padding_w = 0;
  index_t dilation_h = 1, dilation_w = 1;
  index_t groups = 1;
  bool bias = true;
  bool same = false;  // TF "SAME" padding (stride 1)
};

template <Scalar T, Backend B = cpu::native, index_t CIn = dyn, index_t COut = dyn>
class Conv2d {
 public:
  using tensor_type = Tensor<T, B>;
  using var_type = ad::Var<T, B>;
  explicit Conv2d(Conv2dOptions o, Philox init = {0x5eed, 0}) : o_(o) {
    if (CIn != dyn && o_.in_channels == 0) o_.in_channels = CIn;
    if (COut != dyn && o_.out_channels == 0) o_.out_channels = COut;
    FUGUE_CHECK(CIn == dyn || o_.in_channels == CIn, "Conv2d: in_channels ", o_.in_channels, " but the type says ",
                CIn);
    FUGUE_CHECK(COut == dyn || o_.out_channels == COut, "Conv2d: out_channels ", o_.out_channels, " but the type says ",
                COut);
    FUGUE_CHECK(o_.in_channels > 0 && o_.out_channels > 0 && o_.kernel_h > 0 && o_.kernel_w > 0 && o_.stride_h > 0 &&
                    o_.stride_w > 0 && o_.dilation_h > 0 && o_.dilation_w > 0 && o_.groups > 0 && o_.padding_h >= 0 &&
                    o_.padding_w >= 0,
                "Conv2d: invalid options");
    FUGUE_CHECK(o_.in_channels % o_.groups == 0 && o_.out_channels % o_.groups == 0, "Conv2d: channels ",
                o_.in_channels, "->", o_.out_channels, " not divisible by groups ", o_.groups);
    FUGUE_CHECK(!o_.same || (o_.stride_h == 1 && o_.stride_w == 1), "Conv2d: SAME padding is implemented for stride 1");
    const index_t fan_in = o_.in_channels / o_.groups * o_.kernel_h * o_.kernel_w;
    const T bound = T(1) / std::sqrt(T(fan_in));
    weight.value = tensor_type::uniform({o_.out_channels, o_.in_channels / o_.groups, o_.kernel_h, o_.kernel_w}, init,
                                        -bound, bound);
    if (o_.bias) bias.value = tensor_type::uniform({o_.out_channels}, {init.seed, init.stream + 1}, -bound, bound);
  }

  const Conv2dOptions& options() const noexcept { return o_; }

  var_type operator()(ad::Tape<T, B>& tape, const var_type& x) {
    auto g = geometry(x.shape());
    std::optional<var_type> b;
    if (o_.bias) b = tape.param(bias);
    return detail::conv_op(tape, x, tape.param(weight), b, g, Shape{g.n, g.c_out, g.out_h(), g.out_w()});
  }
  tensor_type forward(const tensor_type& x) const {
    auto g = geometry(x.shape());
    return detail::conv_forward_tensor(g, x, weight.value, o_.bias ? &bias.value : nullptr,
                                       Shape{g.n, g.c_out, g.out_h(), g.out_w()});
  }

  template <class F>
  void visit_parameters(F&& f, std::string_view prefix = {}) {
    f(join_name(prefix, "weight"), weight);
    if (o_.bias) f(join_name(prefix, "bias"), bias);
  }

  ad::Parameter<T, B> weight, bias;

 private:
  detail::conv_geometry geometry(const Shape& s) const {
    FUGUE_CHECK(s.rank() == 4 && s[1] == o_.in_channels, "Conv2d: input of shape ", s.str(), ", expected [B, ",
                o_.in_channels, ", H, W]");
    detail::conv_geometry g;
    g.n = s[0];
    g.c_in = o_.in_channels;
    g.h = s[2];
    g.w = s[3];
    g.c_out = o_.out_channels;
    g.kh = o_.kernel_h;
    g.kw = o_.kernel_w;
    g.stride_h = o_.stride_h;
    g.stride_w = o_.stride_w;
    g.dil_h = o_.dilation_h;
    g.dil_w = o_.dilation_w;
    if (o_.same) {
      const index_t th = o_.dilation_h * (o_.kernel_h - 1), tw = o_.dilation_w * (o_.kernel_w - 1);
      g.pad_top = th / 2;
      g.pad_bottom = th - th / 2;
      g.pad_left = tw / 2;
      g.pad_right = tw - tw / 2;
    } else {
      g.pad_top = g.pad_bottom = o_.padding_h;
      g.pad_left = g.pad_right = o_.padding_w;
    }
    g.groups = o_.groups;
    FUGUE_CHECK(g.valid(), "Conv2d: input ", s.str(), " too small for kernel ", o_.kernel_h, "x", o_.kernel_w,
                " with dilation and padding");
    return g;
  }
  Conv2dOptions o_;
};

}  // namespace fugue::nn
