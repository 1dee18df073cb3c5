// fugue/nn/linear.hpp — fully connected layer y = x W^T + b.
//
// Contract
//  * Linear<T, B, In, Out>: input [..., In] -> output [..., Out] (any leading dims).
//  * Parameters (visit_parameters names): "weight" [Out, In] (PyTorch layout),
//    "bias" [Out] (absent when constructed with bias = false).
//  * Loaders: load_pytorch(weight [Out, In], bias [Out]); load_tensorflow(kernel [In, Out],
//    bias [Out]) transposes a TF/Keras Dense kernel. A wrong shape throws fugue::error
//    naming the parameter.
//  * operator()(tape, x) records one fused node "nn_linear" (GEMM forward; backward
//    dx = g W, dW = g^T x, db = column sums of g); forward(x) is the tape-free path.
//  * In / Out static (fugue::dyn: given at construction). input_extent / output_extent
//    drive nn::Sequential's compile-time wiring check.
//  * Init as torch.nn.Linear: weight and bias U(-1/sqrt(In), 1/sqrt(In)) from the given
//    Philox stream (bias from stream + 1).
#pragma once

#include <cmath>
#include <string>
#include <string_view>

#include "fugue/autodiff/parameter.hpp"
#include "fugue/autodiff/tape.hpp"
#include "fugue/autodiff/registry.hpp"
#include "fugue/core/functors.hpp"
#include "fugue/core/extents.hpp"
#include "fugue/core/rng.hpp"
#include "fugue/nn/detail/channel_bias.hpp"
#include "fugue/nn/detail/recurrent_common.hpp"
#include "fugue/nn/module.hpp"

FUGUE_AD_OP(nn_linear)

namespace fugue::nn {

inline constexpr const char* linear_op_name = "nn_linear";

namespace detail {
// y [rows, out] = x [rows, in] w^T (+ b)
template <class T, class B>
void linear_rows(index_t rows, index_t in, index_t out, const T* x, const T* w, const T* b, T* y) {
  B::gemm(false, true, rows, out, in, T(1), x, in, w, in, T(0), y, out);
  if (!b) return;
  if constexpr (B::host_accessible) {
    for (index_t r = 0; r < rows; ++r) B::zip(out, y + r * out, b, y + r * out, fn::add{});
  } else {  // one pass over y instead of a launch per row
    add_channel_bias<B>(rows, out, 1, b, y);
  }
}
}  // namespace detail

// The fused op on its own: x [..., In], w [Out, In], b [Out] (optional).
template <class T, class B>
ad::Var<T, B> linear_op(ad::Tape<T, B>& tape, const ad::Var<T, B>& x, const ad::Var<T, B>& w,
                        const ad::Var<T, B>* b = nullptr) {
  const Tensor<T, B> xv = x.value().contiguous(), wv = w.value().contiguous();
  FUGUE_CHECK(wv.rank() == 2 && xv.rank() >= 1 && xv.dim(-1) == wv.dim(1), "Linear: input ", xv.shape().str(),
              " does not match weight ", wv.shape().str(), " ([out, in])");
  const index_t in = wv.dim(1), out = wv.dim(0), rows = in ? xv.numel() / in : 0;
  Tensor<T, B> bv;
  if (b) {
    bv = b->value().contiguous();
    detail::check_param_shape(bv, {out}, "bias");
  }
  Shape ys = xv.shape();
  ys[-1] = out;
  auto y = Tensor<T, B>::empty(ys);
  detail::linear_rows<T, B>(rows, in, out, xv.data(), wv.data(), b ? bv.data() : nullptr, y.data());
  auto bw = [xv, wv, rows, in, out](const Tensor<T, B>& g, ad::GradSink<T, B>& sink) {
    if (sink.needs(0)) {
      auto dx = Tensor<T, B>::empty(xv.shape());
      B::gemm(false, false, rows, in, out, T(1), g.data(), out, wv.data(), in, T(0), dx.data(), in);
      sink.accumulate(0, dx);
    }
    if (sink.needs(1)) {
      auto dw = Tensor<T, B>::empty(wv.shape());
      B::gemm(true, false, out, in, rows, T(1), g.data(), out, xv.data(), in, T(0), dw.data(), in);
      sink.accumulate(1, dw);
    }
    if (sink.size() > 2 && sink.needs(2)) {
      auto db = Tensor<T, B>::empty({out});
      B::col_sum(rows, out, g.data(), db.data(), false);
      sink.accumulate(2, db);
    }
  };
  if (b) return tape.record(std::move(y), {x, w, *b}, std::move(bw), linear_op_name);
  return tape.record(std::move(y), {x, w}, std::move(bw), linear_op_name);
}

template <Scalar T, Backend B = cpu::native, index_t In = dyn, index_t Out = dyn>
class Linear {
 public:
  using tensor_type = Tensor<T, B>;
  using var_type = ad::Var<T, B>;
  static constexpr index_t input_extent = In;
  static constexpr index_t output_extent = Out;
  template <index_t X>
  static constexpr index_t output_extent_for = Out;

  explicit Linear(index_t in = In, index_t out = Out, Philox init = {0x5eed, 0}, bool with_bias = true)
      : in_(in), out_(out), has_bias_(with_bias) {
    FUGUE_CHECK(In == dyn || in_ == In, "Linear: in ", in_, " but the type says ", In);
    FUGUE_CHECK(Out == dyn || out_ == Out, "Linear: out ", out_, " but the type says ", Out);
    FUGUE_CHECK(in_ > 0 && out_ > 0, "Linear: sizes must be given (in ", in_, ", out ", out_, ")");
    const T k = T(1) / std::sqrt(T(in_));
    weight.value = tensor_type::uniform({out_, in_}, init, -k, k);
    if (has_bias_) bias.value = tensor_type::uniform({out_}, Philox{init.seed, init.stream + 1}, -k, k);
  }

  index_t in_features() const noexcept { return in_; }
  index_t out_features() const noexcept { return out_; }
  bool has_bias() const noexcept { return has_bias_; }

  var_type operator()(ad::Tape<T, B>& tape, const var_type& x) {
    check_input(x.shape());
    if (!has_bias_) return linear_op(tape, x, tape.param(weight));
    const var_type b = tape.param(bias);
    return linear_op(tape, x, tape.param(weight), &b);
  }
  tensor_type forward(const tensor_type& x) const {
    check_input(x.shape());
    const tensor_type xc = x.contiguous();
    Shape ys = xc.shape();
    ys[-1] = out_;
    auto y = tensor_type::empty(ys);
    detail::linear_rows<T, B>(xc.numel() / in_, in_, out_, xc.data(), weight.value.data(),
                              has_bias_ ? bias.value.data() : nullptr, y.data());
    return y;
  }

  void load_pytorch(const tensor_type& w, const tensor_type& b = {}, std::string_view name = "linear") {
    const std::string n(name);
    detail::check_param_shape(w, {out_, in_}, n + ".weight");
    weight.value.copy_from(w);
    load_bias(b, n + ".bias");
  }
  void load_tensorflow(const tensor_type& kernel, const tensor_type& b = {}, std::string_view name = "dense") {
    const std::string n(name);
    detail::check_param_shape(kernel, {in_, out_}, n + "/kernel");
    weight.value.copy_from(kernel.t());
    load_bias(b, n + "/bias");
  }

  template <class F>
  void visit_parameters(F&& f, std::string_view prefix = {}) {
    f(join_name(prefix, "weight"), weight);
    if (has_bias_) f(join_name(prefix, "bias"), bias);
  }

  ad::Parameter<T, B> weight, bias;

 private:
  void load_bias(const tensor_type& b, const std::string& name) {
    if (!has_bias_) {
      FUGUE_CHECK(!b.defined(), "parameter '", name, "' given to a Linear without bias");
      return;
    }
    detail::check_param_shape(b, {out_}, name);
    bias.value.copy_from(b);
  }
  void check_input(const Shape& s) const {
    FUGUE_CHECK(s.rank() >= 1 && s[-1] == in_, "Linear: input of shape ", s.str(), ", expected [..., ", in_, "]");
  }

  index_t in_, out_;
  bool has_bias_;
};

}  // namespace fugue::nn
