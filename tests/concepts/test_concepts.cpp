// The library's contracts as concepts, checked by the compiler: fugue::Backend and its layers
// on the CPU backends (the CUDA backend's Thrust twins: tests/backend_cuda/test_thrust_host.cpp),
// nn::Layer / nn::StaticExtentLayer / nn::AttentionLayer / nn::LookupLayer on every layer of
// fugue/nn, and a Sequential of layers without static extents (a convolution, a norm, an
// activation, a Linear) through forward and backward. The models' plug-point concepts are
// checked by the compile-failure tests beside this file (miswired_*.cpp).
#include <catch2/catch.hpp>

#include <cmath>
#include <string>
#include <vector>

#include "fugue/backend/cpu.hpp"
#include "fugue/nn/activation.hpp"
#include "fugue/nn/attention.hpp"
#include "fugue/nn/batch_norm.hpp"
#include "fugue/nn/conv1d.hpp"
#include "fugue/nn/conv2d.hpp"
#include "fugue/nn/conv_transpose2d.hpp"
#include "fugue/nn/dropout.hpp"
#include "fugue/nn/embedding.hpp"
#include "fugue/nn/gru.hpp"
#include "fugue/nn/layer.hpp"
#include "fugue/nn/layer_norm.hpp"
#include "fugue/nn/linear.hpp"
#include "fugue/nn/lstm.hpp"
#include "fugue/nn/mlp.hpp"
#include "fugue/nn/sequential.hpp"
#include "fugue/nn/transformer.hpp"

using namespace fugue;
using B = cpu::native;

// --- backends ------------------------------------------------------------------------------
static_assert(Backend<cpu::native> && Backend<cpu::scalar>);
static_assert(BackendMemory<B> && BackendElementwise<B> && BackendReductions<B> && BackendGemm<B>);
// Host-only fast paths: present on the CPU backends, named by the optional refinements.
static_assert(BackendPackedGemm<cpu::native> && BackendSimd<cpu::native> && BackendSimd<cpu::scalar>);
// Device-side members the CPU backends do not have (host loops run there instead).
static_assert(!BackendIndexLoops<B> && !BackendFft<B> && !BackendRng<B>);

namespace {
// A backend missing one member fails the layer that names it, and Backend with it.
struct lacks_gemv : cpu::native {
  static void gemv();
};
struct lacks_col_sum : cpu::native {
  static void col_sum();
};
struct lacks_zip3 : cpu::native {
  static void zip3();
};
struct lacks_copy_to_host : cpu::native {
  static void copy_to_host();
};
// Not host-accessible: the library's host loops need generate / for_each / strided_copy.
struct device_without_index_loops : cpu::native {
  static constexpr bool host_accessible = false;
};
}  // namespace
static_assert(!BackendGemm<lacks_gemv> && BackendMemory<lacks_gemv> && !Backend<lacks_gemv>);
static_assert(!BackendReductions<lacks_col_sum> && BackendGemm<lacks_col_sum> && !Backend<lacks_col_sum>);
static_assert(!BackendElementwise<lacks_zip3> && !Backend<lacks_zip3>);
static_assert(!BackendMemory<lacks_copy_to_host> && !Backend<lacks_copy_to_host>);
static_assert(!BackendIndexLoops<device_without_index_loops> && !Backend<device_without_index_loops>);

// --- layers --------------------------------------------------------------------------------
template <class T>
constexpr bool single_input_layers() {
  using nn::Layer;
  return Layer<nn::Linear<T, B, 3, 4>, T, B> && Layer<nn::Linear<T, B>, T, B> && Layer<nn::MLP<T, B, 3, 4, 2>, T, B> &&
         Layer<nn::FcStack<T, B, 3, 4, 2>, T, B> && Layer<nn::Identity, T, B> && Layer<nn::Tanh, T, B> &&
         Layer<nn::Sigmoid, T, B> && Layer<nn::ReLU, T, B> && Layer<nn::LeakyReLU, T, B> &&
         Layer<nn::Conv1d<T, B, 2, 3, 3>, T, B> && Layer<nn::Conv1d<T, B>, T, B> &&
         Layer<nn::Conv2d<T, B, 2, 3>, T, B> && Layer<nn::ConvTranspose2d<T, B, 2, 3>, T, B> &&
         Layer<nn::BatchNorm<T, B, 3>, T, B> && Layer<nn::LayerNorm<T, B, 4>, T, B> && Layer<nn::Dropout<T, B>, T, B> &&
         Layer<nn::LSTM<T, B, 3, 4>, T, B> && Layer<nn::LSTM<T, B, 3, 4, 2, true>, T, B> &&
         Layer<nn::BiLSTM<T, B, 3, 4>, T, B> && Layer<nn::GRU<T, B, 3, 4, 2>, T, B> &&
         Layer<nn::GRU<T, B, 3, 4, 1, true>, T, B> && Layer<nn::LSTMCell<T, B, 3, 4>, T, B> &&
         Layer<nn::GRUCell<T, B, 3, 4>, T, B> && Layer<nn::TransformerEncoderLayer<T, B>, T, B> &&
         Layer<nn::TransformerEncoderLayer<T, B, 8>, T, B> &&
         Layer<nn::MultiheadAttention<T, B>, T, B>;  // as self-attention (memory and mask defaulted)
}
static_assert(single_input_layers<float>() && single_input_layers<double>());

// The static-extent refinement: layers stating input_extent / output_extent_for.
static_assert(nn::StaticExtentLayer<nn::Linear<float, B, 3, 4>, float, B> &&
              nn::StaticExtentLayer<nn::MLP<float, B, 3, 4, 2>, float, B> &&
              nn::StaticExtentLayer<nn::Tanh, float, B> && nn::StaticExtentLayer<nn::LSTM<float, B, 3, 4>, float, B> &&
              nn::StaticExtentLayer<nn::GRU<float, B, 3, 4>, float, B>);
static_assert(nn::output_extent_of<nn::Linear<float, B, 3, 4>> == 4 && nn::output_extent_of<nn::ReLU, 7> == 7 &&
              nn::output_extent_of<nn::BiLSTM<float, B, 3, 4>> == 8);
// Layers without them count as dyn in and out (the trait's default), not as errors.
static_assert(!nn::StaticExtentLayer<nn::Conv1d<float, B, 2, 3, 3>, float, B> &&
              !nn::StaticExtentLayer<nn::BatchNorm<float, B, 3>, float, B> &&
              !nn::StaticExtentLayer<nn::Dropout<float, B>, float, B>);
static_assert(nn::input_extent_of<nn::Conv1d<float, B, 2, 3, 3>> == dyn &&
              nn::output_extent_of<nn::Conv1d<float, B, 2, 3, 3>, 9> == dyn &&
              nn::input_extent_of<nn::LayerNorm<float, B, 4>> == dyn &&
              nn::input_extent_of<nn::LSTMCell<float, B, 3, 4>> == 3);

// Multi-input layers satisfy AttentionLayer; the ids-input Embedding is a LookupLayer.
static_assert(nn::AttentionLayer<nn::MultiheadAttention<float, B>, float, B> &&
              nn::AttentionLayer<nn::TransformerDecoderLayer<float, B>, float, B> &&
              nn::AttentionLayer<nn::MultiheadAttention<double, B, 8, 2>, double, B>);
static_assert(!nn::Layer<nn::TransformerDecoderLayer<float, B>, float, B>);  // memory is not optional
static_assert(!nn::AttentionLayer<nn::TransformerEncoderLayer<float, B>, float, B> &&
              !nn::AttentionLayer<nn::Linear<float, B>, float, B>);
static_assert(nn::LookupLayer<nn::Embedding<float, B, 10, 4>, float, B> &&
              !nn::Layer<nn::Embedding<float, B, 10, 4>, float, B>);
// The wrong scalar or backend is not the layer's.
static_assert(!nn::Layer<nn::Linear<float, B, 3, 4>, double, B> &&
              !nn::Layer<nn::Linear<float, B>, float, cpu::scalar>);

namespace {
struct no_forward {  // a tape call and parameters, but no tape-free forward
  template <class T, class Bk>
  ad::Var<T, Bk> operator()(ad::Tape<T, Bk>&, const ad::Var<T, Bk>& x) {
    return x;
  }
  template <class F>
  void visit_parameters(F&&, std::string_view = {}) {}
};
struct no_parameters {  // calls, but not an nn::Module
  template <class T, class Bk>
  ad::Var<T, Bk> operator()(ad::Tape<T, Bk>&, const ad::Var<T, Bk>& x) {
    return x;
  }
  template <class T, class Bk>
  Tensor<T, Bk> forward(const Tensor<T, Bk>& x) const {
    return x;
  }
};
template <class... Ls>
concept formable = requires { typename nn::Sequential<Ls...>; };
template <class S, class T>
concept tape_callable = requires(S& s, ad::Tape<T, B>& tape, const ad::Var<T, B>& x) { s(tape, x); };
template <class S, class T>
concept const_forwardable = requires(const S& s, const Tensor<T, B>& x) { s.forward(x); };
}  // namespace
static_assert(!nn::Layer<no_forward, float, B> && !nn::Layer<no_parameters, float, B>);
static_assert(!formable<nn::Linear<float, B, 3, 4>, no_parameters>);  // not a Module: no Sequential
// A Sequential of Modules exists, but its calls need every member to be a Layer.
static_assert(formable<nn::Tanh, no_forward> && !tape_callable<nn::Sequential<nn::Tanh, no_forward>, float>);
static_assert(formable<nn::TransformerDecoderLayer<float, B>> &&
              !tape_callable<nn::Sequential<nn::TransformerDecoderLayer<float, B>>, float>);
// Layers without static extents wire as dyn; static ones around them are still checked.
static_assert(
    formable<nn::Linear<float, B, 3, 4>, nn::Dropout<float, B>, nn::Linear<float, B, 4, 6>> &&
    nn::Sequential<nn::Linear<float, B, 3, 4>, nn::Dropout<float, B>, nn::Linear<float, B, 4, 6>>::output_extent == 6);
static_assert(!formable<nn::Linear<float, B, 3, 4>, nn::Tanh, nn::Linear<float, B, 5, 6>>);
static_assert(nn::StaticExtentLayer<nn::Sequential<nn::Linear<float, B, 3, 4>, nn::Tanh>, float, B>);

TEST_CASE("concepts: a Sequential of Conv1d, BatchNorm, ReLU and Linear runs forward and backward", "[concepts]") {
  using T = double;
  using Tn = Tensor<T, B>;
  using Conv = nn::Conv1d<T, B, 2, 3, 3>;
  using Norm = nn::BatchNorm<T, B, 3>;
  using Dense = nn::Linear<T, B, 6, 4>;  // over the last axis: 8 steps - (3 - 1) = 6
  using Net = nn::Sequential<Conv, Norm, nn::ReLU, Dense>;
  static_assert(nn::Layer<Net, T, B> && Net::input_extent == dyn && Net::output_extent == 4);
  static_assert(!const_forwardable<Net, T>);  // BatchNorm's forward is not const
  static_assert(const_forwardable<nn::Sequential<Conv, nn::ReLU>, T>);

  Net net(Conv(nn::Conv1dOptions{}, {1, 0}), Norm(nn::BatchNormOptions{}), nn::ReLU{}, Dense(6, 4, {1, 2}));
  const auto params = nn::named_parameters<T, B>(net);
  std::vector<std::string> names;
  for (const auto& [name, p] : params) names.push_back(name);
  CHECK(names == std::vector<std::string>{"0.weight", "0.bias", "1.weight", "1.bias", "3.weight", "3.bias"});

  const Tn x = Tn::normal({4, 2, 8}, Philox{7, 0});
  const Tn seed = Tn::normal({4, 3, 4}, Philox{7, 1});
  ad::Tape<T, B> tape;
  ad::Var<T, B> xv = tape.input(x, true);
  ad::Var<T, B> y = net(tape, xv);
  REQUIRE(y.shape() == Shape{4, 3, 4});
  const std::vector<T> yt = y.value().to_vector(), yf = net.forward(x).to_vector();
  for (std::size_t i = 0; i < yt.size(); ++i) REQUIRE(std::abs(yt[i] - yf[i]) < 1e-12);
  tape.backward(y, seed);

  // d/dθ sum(net(x) * seed) against central differences through forward() (training-mode
  // batch statistics on both paths).
  auto objective = [&](const Tn& in) {
    const std::vector<T> o = net.forward(in).to_vector(), s = seed.to_vector();
    T acc = 0;
    for (std::size_t i = 0; i < o.size(); ++i) acc += o[i] * s[i];
    return acc;
  };
  auto check = [&](T* value, T analytic, const Tn& in) {
    const T orig = *value, h = 1e-6;
    *value = orig + h;
    const T up = objective(in);
    *value = orig - h;
    const T down = objective(in);
    *value = orig;
    CHECK(std::abs((up - down) / (2 * h) - analytic) < 1e-6 * std::max(T(1), std::abs(analytic)));
  };
  for (const auto& [name, p] : params) {
    INFO(name);
    REQUIRE(p->grad.defined());
    const std::vector<T> g = p->grad.to_vector();
    T norm = 0;
    for (T v : g) norm += v * v;
    CHECK(norm > 0);
    for (index_t i = 0; i < p->numel(); i += 5) check(p->value.data() + i, g[std::size_t(i)], x);
  }
  Tn xp = x.clone();
  const std::vector<T> gx = xv.grad().to_vector();
  for (index_t i = 0; i < xp.numel(); i += 7) check(xp.data() + i, gx[std::size_t(i)], xp);
}
