// fugue/nn/conv_transpose2d.hpp — 2-D transposed convolution, the adjoint of Conv2d.
//
// Contract:
//  * input [B, C_in, H, W] -> output [B, C_out, H', W'] with
//    H' = (H-1)*stride_h - 2*padding_h + dilation_h*(kH-1) + output_padding_h + 1 (same for W),
//    exactly torch.nn.ConvTranspose2d.
//  * Parameters (PyTorch names and layout): "weight" [C_in, C_out/groups, kH, kW], "bias" [C_out].
//  * forward = the data-gradient of the Conv2d that maps [B, C_out, H', W'] to [B, C_in, H, W]
//    with the same weight (GEMM W^T x + col2im); backward = that Conv2d's forward (dx) and its
//    weight gradient with x and dy swapped. output_padding must be < stride.
//  * Init as torch: U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with fan_in = (C_out/groups)*kH*kW
//    (torch computes fan_in from weight.size(1) * receptive field).
//  * Bad shapes and options throw fugue::error.
#pragma once

#include <cmath>
#include <optional>
#include <string_view>

#include "fugue/autodiff/parameter.hpp"
#include "fugue/autodiff/tape.hpp"
#include "fugue/nn/detail/conv_ops.hpp"
#include "fugue/nn/module.hpp"

namespace fugue::nn {

struct ConvTranspose2dOptions {
  index_t in_channels = 0, out_channels = 0;
  index_t kernel_h = 1, kernel_w = 1;
  index_t stride_h = 1, stride_w = 1;
  index_t padding_h = 0, padding_w = 0;
  index_t output_padding_h = 0, output_padding_w = 0;
  index_t dilation_h = 1, dilation_w = 1;
  index_t groups = 1;
  bool bias = true;
};

template <Scalar T, Backend B = cpu::native, index_t CIn = dyn, index_t COut = dyn>
class ConvTranspose2d {
 public:
  using tensor_type = Tensor<T, B>;
  using var_type = ad::Var<T, B>;
  explicit ConvTranspose2d(ConvTranspose2dOptions o, Philox init = {0x5eed, 0}) : o_(o) {
    if (CIn != dyn && o_.in_channels == 0) o_.in_channels = CIn;
    if (COut != dyn && o_.out_channels == 0) o_.out_channels = COut;
    FUGUE_CHECK(CIn == dyn || o_.in_channels == CIn, "ConvTranspose2d: in_channels ", o_.in_channels,
                " but the type says ", CIn);
    FUGUE_CHECK(COut == dyn || o_.out_channels == COut, "ConvTranspose2d: out_channels ", o_.out_channels,
                " but the type says ", COut);
    FUGUE_CHECK(o_.in_channels > 0 && o_.out_channels > 0 && o_.kernel_h > 0 && o_.kernel_w > 0 && o_.stride_h > 0 &&
                    o_.stride_w > 0 && o_.dilation_h > 0 && o_.dilation_w > 0 && o_.groups > 0 && o_.padding_h >= 0 &&
                    o_.padding_w >= 0 && o_.output_padding_h >= 0 && o_.output_padding_w >= 0,
                "ConvTranspose2d: invalid options");
    FUGUE_CHECK(o_.in_channels % o_.groups == 0 && o_.out_channels % o_.groups == 0, "ConvTranspose2d: channels ",
                o_.in_channels, "->", o_.out_channels, " not divisible by groups ", o_.groups);
    FUGUE_CHECK(o_.output_padding_h < o_.stride_h && o_.output_padding_w < o_.stride_w,
                "ConvTranspose2d: output_padding must be smaller than the stride (torch also allows < dilation; "
                "fugue does not)");
    const index_t fan_in = o_.out_channels / o_.groups * o_.kernel_h * o_.kernel_w;
    const T bound = T(1) / std::sqrt(T(fan_in));
    weight.value = tensor_type::uniform({o_.in_channels, o_.out_channels / o_.groups, o_.kernel_h, o_.kernel_w}, init,
                                        -bound, bound);
    if (o_.bias) bias.value = tensor_type::uniform({o_.out_channels}, {init.seed, init.stream + 1}, -bound, bound);
  }

  const ConvTranspose2dOptions& options() const noexcept { return o_; }

  var_type operator()(ad::Tape<T, B>& tape, const var_type& x) {
    auto g = geometry(x.shape());
    std::optional<var_type> b;
    if (o_.bias) b = tape.param(bias);
    return detail::conv_transpose_op(tape, x, tape.param(weight), b, g, Shape{g.n, g.c_in, g.h, g.w});
  }
  tensor_type forward(const tensor_type& x) const {
    auto g = geometry(x.shape());
    return detail::conv_transpose_forward_tensor(g, x, weight.value, o_.bias ? &bias.value : nullptr,
                                                 Shape{g.n, g.c_in, g.h, g.w});
  }

  template <class F>
  void visit_parameters(F&& f, std::string_view prefix = {}) {
    f(join_name(prefix, "weight"), weight);
    if (o_.bias) f(join_name(prefix, "bias"), bias);
  }

  ad::Parameter<T, B> weight, bias;

 private:
  // The geometry of the forward Conv2d whose input is this layer's output.
  detail::conv_geometry geometry(const Shape& s) const {
    FUGUE_CHECK(s.rank() == 4 && s[1] == o_.in_channels, "ConvTranspose2d: input of shape ", s.str(), ", expected [B, ",
                o_.in_channels, ", H, W]");
    const index_t ho =
        (s[2] - 1) * o_.stride_h - 2 * o_.padding_h + o_.dilation_h * (o_.kernel_h - 1) + o_.output_padding_h + 1;
    const index_t wo =
        (s[3] - 1) * o_.stride_w - 2 * o_.padding_w + o_.dilation_w * (o_.kernel_w - 1) + o_.output_padding_w + 1;
    FUGUE_CHECK(s[2] > 0 && s[3] > 0 && ho > 0 && wo > 0, "ConvTranspose2d: input ", s.str(), " gives an empty output");
    detail::conv_geometry g;
    g.n = s[0];
    g.c_in = o_.out_channels;  // the adjoint conv reads [B, C_out, H', W']
    g.h = ho;
    g.w = wo;
    g.c_out = o_.in_channels;
    g.kh = o_.kernel_h;
    g.kw = o_.kernel_w;
    g.stride_h = o_.stride_h;
    g.stride_w = o_.stride_w;
    g.dil_h = o_.dilation_h;
    g.dil_w = o_.dilation_w;
    // Output padding adds rows at the bottom/right that no window of the adjoint conv reaches
    // (op < stride), so the padding stays symmetric.
    g.pad_top = o_.padding_h;
    g.pad_left = o_.padding_w;
    g.pad_bottom = o_.padding_h;
    g.pad_right = o_.padding_w;
    g.groups = o_.groups;
    FUGUE_CHECK(g.out_h() == s[2] && g.out_w() == s[3], "ConvTranspose2d: internal geometry mismatch for input ",
                s.str());
    return g;
  }
  ConvTranspose2dOptions o_;
};

}  // namespace fugue::nn
