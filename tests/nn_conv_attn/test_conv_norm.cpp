// Conv1d / Conv2d / ConvTranspose2d, BatchNorm, LayerNorm, Dropout: forward against direct
// loops, float64 gradient checks, train/eval semantics, shape errors.
#include "util.hpp"

#include "fugue/nn/batch_norm.hpp"
#include "fugue/nn/conv1d.hpp"
#include "fugue/nn/conv2d.hpp"
#include "fugue/nn/conv_transpose2d.hpp"
#include "fugue/nn/dropout.hpp"
#include "fugue/nn/layer_norm.hpp"

using namespace fugue;
using namespace nntest;
using namespace fugue::nn;

namespace {
// Direct 2-D convolution with per-side padding: the reference for both conv layers.
Td conv2d_naive(const Td& x, const Td& w, const Td* b, index_t sh, index_t sw, index_t pt, index_t pb, index_t pl,
                index_t pr, index_t dh, index_t dw, index_t groups) {
  const index_t N = x.dim(0), C = x.dim(1), H = x.dim(2), W = x.dim(3), O = w.dim(0), kh = w.dim(2), kw = w.dim(3);
  const index_t Ho = (H + pt + pb - dh * (kh - 1) - 1) / sh + 1, Wo = (W + pl + pr - dw * (kw - 1) - 1) / sw + 1;
  const index_t cg = C / groups, og = O / groups;
  Td y({N, O, Ho, Wo});
  for (index_t n = 0; n < N; ++n)
    for (index_t o = 0; o < O; ++o)
      for (index_t i = 0; i < Ho; ++i)
        for (index_t j = 0; j < Wo; ++j) {
          double acc = b ? (*b)(o) : 0.0;
          const index_t g = o / og;
          for (index_t c = 0; c < cg; ++c)
            for (index_t a = 0; a < kh; ++a)
              for (index_t e = 0; e < kw; ++e) {
                const index_t ih = i * sh - pt + a * dh, iw = j * sw - pl + e * dw;
                if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
                acc += x(n, g * cg + c, ih, iw) * w(o, c, a, e);
              }
          y(n, o, i, j) = acc;
        }
  return y;
}
double dot(const Td& a, const Td& b) {
  auto x = a.to_vector(), y = b.to_vector();
  double s = 0;
  for (std::size_t i = 0; i < x.size(); ++i) s += x[i] * y[i];
  return s;
}
}  // namespace

TEST_CASE("Conv1d matches direct convolution (stride, dilation, padding, groups, causal)", "[nn][conv]") {
  struct cfg {
    index_t cin, cout, k, stride, pad, dil, groups;
    bool causal, bias;
  };
  for (cfg c : {cfg{3, 4, 3, 1, 1, 1, 1, false, true}, cfg{4, 6, 3, 2, 0, 2, 2, false, true},
                cfg{2, 3, 5, 1, 0, 1, 1, true, false}, cfg{2, 2, 2, 1, 0, 3, 1, true, true},
                cfg{6, 3, 1, 1, 0, 1, 3, false, true}}) {
    Conv1dOptions o;
    o.in_channels = c.cin;
    o.out_channels = c.cout;
    o.kernel_size = c.k;
    o.stride = c.stride;
    o.padding = c.pad;
    o.dilation = c.dil;
    o.groups = c.groups;
    o.causal = c.causal;
    o.bias = c.bias;
    nn::Conv1d<double> conv(o, {11, std::uint64_t(c.cin)});
    Td x = randn({2, c.cin, 11}, 3);
    Td y = conv.forward(x);
    const index_t pl = c.causal ? c.dil * (c.k - 1) : c.pad, pr = c.causal ? 0 : c.pad;
    Td ref = conv2d_naive(x.reshape({2, c.cin, 1, 11}), conv.weight.value.reshape({c.cout, c.cin / c.groups, 1, c.k}),
                          c.bias ? &conv.bias.value : nullptr, 1, c.stride, 0, 0, pl, pr, 1, c.dil, c.groups);
    REQUIRE(y.shape() == Shape{2, c.cout, conv.output_length(11)});
    REQUIRE(max_abs_diff(y, ref.reshape(y.shape())) < 1e-12);
    if (c.causal) REQUIRE(y.dim(2) == 11);

    Pd px(x);
    gradcheck([&](Taped& t) { return conv(t, t.param(px)); },
              c.bias ? std::vector<check_target>{{"x", &px}, {"weight", &conv.weight}, {"bias", &conv.bias}}
                     : std::vector<check_target>{{"x", &px}, {"weight", &conv.weight}});
  }
}

TEST_CASE("causal Conv1d output t ignores inputs after t", "[nn][conv]") {
  Conv1dOptions o;
  o.in_channels = 2;
  o.out_channels = 3;
  o.kernel_size = 3;
  o.dilation = 2;
  o.causal = true;
  nn::Conv1d<double, cpu::native, 2, 3, 3> conv(o);
  Td x = randn({1, 2, 12}, 5);
  Td y0 = conv.forward(x);
  Td x2 = x.clone();
  for (index_t c = 0; c < 2; ++c) x2(0, c, 7) += 1.0;
  Td y1 = conv.forward(x2);
  for (index_t t = 0; t < 12; ++t)
    for (index_t c = 0; c < 3; ++c) {
      if (t < 7) REQUIRE(y0(0, c, t) == y1(0, c, t));
    }
  REQUIRE(std::abs(y0(0, 0, 7) - y1(0, 0, 7)) > 0);
}

TEST_CASE("Conv2d matches direct convolution and gradchecks", "[nn][conv]") {
  struct cfg {
    index_t cin, cout, kh, kw, sh, sw, ph, pw, dh, dw, groups;
  };
  for (cfg c : {cfg{3, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1}, cfg{4, 4, 3, 2, 2, 1, 0, 1, 1, 2, 2},
                cfg{2, 3, 1, 1, 1, 1, 0, 0, 1, 1, 1}, cfg{2, 2, 2, 3, 2, 2, 1, 0, 2, 1, 1}}) {
    Conv2dOptions o;
    o.in_channels = c.cin;
    o.out_channels = c.cout;
    o.kernel_h = c.kh;
    o.kernel_w = c.kw;
    o.stride_h = c.sh;
    o.stride_w = c.sw;
    o.padding_h = c.ph;
    o.padding_w = c.pw;
    o.dilation_h = c.dh;
    o.dilation_w = c.dw;
    o.groups = c.groups;
    nn::Conv2d<double> conv(o, {21, std::uint64_t(c.cin)});
    Td x = randn({2, c.cin, 6, 7}, 8);
    Td ref =
        conv2d_naive(x, conv.weight.value, &conv.bias.value, c.sh, c.sw, c.ph, c.ph, c.pw, c.pw, c.dh, c.dw, c.groups);
    Td y = conv.forward(x);
    REQUIRE(max_abs_diff(y, ref) < 1e-12);
    Pd px(x);
    gradcheck([&](Taped& t) { return conv(t, t.param(px)); },
              {{"x", &px}, {"weight", &conv.weight}, {"bias", &conv.bias}});
  }
  SECTION("TF SAME padding keeps the size (even kernel pads bottom/right)") {
    Conv2dOptions o;
    o.in_channels = 1;
    o.out_channels = 2;
    o.kernel_h = 2;
    o.kernel_w = 3;
    o.same = true;
    o.bias = false;
    nn::Conv2d<double> conv(o);
    Td x = randn({1, 1, 5, 4}, 9);
    Td y = conv.forward(x);
    REQUIRE(y.shape() == Shape{1, 2, 5, 4});
    REQUIRE(max_abs_diff(y, conv2d_naive(x, conv.weight.value, nullptr, 1, 1, 0, 1, 1, 1, 1, 1, 1)) < 1e-12);
  }
}

TEST_CASE("ConvTranspose2d is the adjoint of Conv2d, has torch's output size and gradchecks", "[nn][conv]") {
  struct cfg {
    index_t cin, cout, kh, kw, s, p, op, d, groups;
  };
  for (cfg c : {cfg{3, 2, 3, 3, 2, 1, 1, 1, 1}, cfg{2, 4, 2, 2, 2, 0, 0, 1, 2}, cfg{2, 3, 3, 2, 1, 1, 0, 2, 1},
                cfg{4, 2, 4, 3, 3, 1, 2, 1, 1}}) {
    ConvTranspose2dOptions o;
    o.in_channels = c.cin;
    o.out_channels = c.cout;
    o.kernel_h = c.kh;
    o.kernel_w = c.kw;
    o.stride_h = o.stride_w = c.s;
    o.padding_h = o.padding_w = c.p;
    o.output_padding_h = o.output_padding_w = c.op;
    o.dilation_h = o.dilation_w = c.d;
    o.groups = c.groups;
    nn::ConvTranspose2d<double> ct(o, {31, std::uint64_t(c.cin)});
    const index_t H = 4, W = 5;
    Td x = randn({2, c.cin, H, W}, 12);
    Td y = ct.forward(x);
    const index_t Ho = (H - 1) * c.s - 2 * c.p + c.d * (c.kh - 1) + c.op + 1;
    const index_t Wo = (W - 1) * c.s - 2 * c.p + c.d * (c.kw - 1) + c.op + 1;
    REQUIRE(y.shape() == Shape{2, c.cout, Ho, Wo});
    // <convT(x) - b, z> == <x, conv(z)> with the same weight, for random z
    Td z = randn(y.shape(), 13);
    Td cz = conv2d_naive(z, ct.weight.value, nullptr, c.s, c.s, c.p, c.p, c.p, c.p, c.d, c.d, c.groups);
    REQUIRE(cz.shape() == x.shape());
    double bias_term = 0;
    for (index_t n = 0; n < 2; ++n)
      for (index_t co = 0; co < c.cout; ++co)
        for (index_t i = 0; i < Ho; ++i)
          for (index_t j = 0; j < Wo; ++j) bias_term += ct.bias.value(co) * z(n, co, i, j);
    REQUIRE(std::abs(dot(y, z) - bias_term - dot(x, cz)) < 1e-9);
    Pd px(x);
    gradcheck([&](Taped& t) { return ct(t, t.param(px)); }, {{"x", &px}, {"weight", &ct.weight}, {"bias", &ct.bias}});
  }
}

TEST_CASE("conv shape errors throw fugue::error", "[nn][conv][errors]") {
  Conv1dOptions o;
  o.in_channels = 3;
  o.out_channels = 4;
  o.kernel_size = 5;
  nn::Conv1d<float> c1(o);
  REQUIRE_THROWS_AS(c1.forward(Tensor<float>({2, 2, 10})), fugue::error);  // channels
  REQUIRE_THROWS_AS(c1.forward(Tensor<float>({2, 3, 3})), fugue::error);   // too short
  REQUIRE_THROWS_AS(c1.forward(Tensor<float>({3, 10})), fugue::error);     // rank
  o.groups = 2;
  REQUIRE_THROWS_AS(nn::Conv1d<float>(o), fugue::error);
  using Static = nn::Conv1d<float, cpu::native, 3, 4, 5>;
  Conv1dOptions o2;
  o2.in_channels = 2;
  REQUIRE_THROWS_AS(Static(o2), fugue::error);
  REQUIRE_NOTHROW(Static(Conv1dOptions{}));
  Conv2dOptions c2o;
  c2o.in_channels = 2;
  c2o.out_channels = 2;
  c2o.kernel_h = c2o.kernel_w = 3;
  nn::Conv2d<float> c2(c2o);
  REQUIRE_THROWS_AS(c2.forward(Tensor<float>({1, 3, 5, 5})), fugue::error);
  REQUIRE_THROWS_AS(c2.forward(Tensor<float>({1, 2, 2, 5})), fugue::error);
  ConvTranspose2dOptions cto;
  cto.in_channels = 2;
  cto.out_channels = 2;
  cto.stride_h = cto.stride_w = 2;
  cto.output_padding_h = 2;
  REQUIRE_THROWS_AS(nn::ConvTranspose2d<float>(cto), fugue::error);
}

TEST_CASE("BatchNorm train mode: batch statistics, torch's running-stat update, gradcheck", "[nn][batchnorm]") {
  for (Shape s : {Shape{6, 3}, Shape{3, 3, 5}, Shape{2, 3, 3, 4}}) {
    BatchNormOptions o;
    o.num_features = 3;
    o.momentum = 0.2;
    nn::BatchNorm<double> bn(o);
    bn.weight.value = randn({3}, 40);
    bn.bias.value = randn({3}, 41);
    Td x = ops::add_scalar(randn(s, 42, 2.0), 0.5);
    Td y = bn.forward(x);
    const index_t n = s[0];
    index_t sp = 1;
    for (int i = 2; i < s.rank(); ++i) sp *= s[i];
    Td x3 = x.reshape({n, 3, sp}), y3 = y.reshape({n, 3, sp});
    for (index_t c = 0; c < 3; ++c) {
      double m = 0, v = 0;
      for (index_t i = 0; i < n; ++i)
        for (index_t k = 0; k < sp; ++k) m += x3(i, c, k);
      m /= double(n * sp);
      for (index_t i = 0; i < n; ++i)
        for (index_t k = 0; k < sp; ++k) v += (x3(i, c, k) - m) * (x3(i, c, k) - m);
      const double var_b = v / double(n * sp), var_u = v / double(n * sp - 1);
      for (index_t i = 0; i < n; ++i)
        for (index_t k = 0; k < sp; ++k)
          REQUIRE(std::abs(y3(i, c, k) - ((x3(i, c, k) - m) / std::sqrt(var_b + 1e-5) * bn.weight.value(c) +
                                          bn.bias.value(c))) < 1e-12);
      REQUIRE(std::abs(bn.running_mean(c) - 0.2 * m) < 1e-12);
      REQUIRE(std::abs(bn.running_var(c) - (0.8 + 0.2 * var_u)) < 1e-12);
    }
    REQUIRE(bn.num_batches_tracked.item() == 1.0);
    Pd px(x);
    gradcheck([&](Taped& t) { return bn(t, t.param(px)); }, {{"x", &px}, {"weight", &bn.weight}, {"bias", &bn.bias}});
  }
}

TEST_CASE("BatchNorm eval mode uses running statistics; buffers are visited separately", "[nn][batchnorm]") {
  BatchNormOptions o;
  o.num_features = 2;
  o.eps = 1e-3;
  o.scale = false;  // TF-slim center=True, scale=False (Onsets and Frames)
  nn::BatchNorm<double, cpu::native, 2> bn(o);
  bn.running_mean = Td::from({0.5, -1.0}, {2});
  bn.running_var = Td::from({4.0, 0.25}, {2});
  bn.bias.value = Td::from({0.1, 0.2}, {2});
  bn.eval();
  Td x = randn({3, 2, 4}, 50);
  Td y = bn.forward(x);
  for (index_t i = 0; i < 3; ++i)
    for (index_t k = 0; k < 4; ++k) {
      REQUIRE(std::abs(y(i, 0, k) - ((x(i, 0, k) - 0.5) / std::sqrt(4.001) + 0.1)) < 1e-12);
      REQUIRE(std::abs(y(i, 1, k) - ((x(i, 1, k) + 1.0) / std::sqrt(0.251) + 0.2)) < 1e-12);
    }
  REQUIRE(bn.running_mean(0) == 0.5);  // unchanged in eval
  std::vector<std::string> params, buffers;
  bn.visit_parameters([&](const std::string& n, auto&) { params.push_back(n); }, "bn");
  bn.visit_buffers([&](const std::string& n, auto&) { buffers.push_back(n); }, "bn");
  REQUIRE(params == std::vector<std::string>{"bn.bias"});
  REQUIRE(buffers == std::vector<std::string>{"bn.running_mean", "bn.running_var", "bn.num_batches_tracked"});
  Pd px(x);
  gradcheck([&](Taped& t) { return bn(t, t.param(px)); }, {{"x", &px}, {"bias", &bn.bias}});
  REQUIRE_THROWS_AS(bn.forward(Td({3, 3, 4})), fugue::error);
  bn.train();
  REQUIRE_THROWS_AS(bn.forward(Td({1, 2})), fugue::error);  // one value per channel
}

TEST_CASE("LayerNorm matches the definition and gradchecks", "[nn][layernorm]") {
  nn::LayerNorm<double, cpu::native, 6> ln({6, 1e-6});
  ln.weight.value = randn({6}, 60);
  ln.bias.value = randn({6}, 61);
  Td x = randn({2, 3, 6}, 62);
  Td y = ln.forward(x);
  for (index_t a = 0; a < 2; ++a)
    for (index_t b = 0; b < 3; ++b) {
      double m = 0, v = 0;
      for (index_t k = 0; k < 6; ++k) m += x(a, b, k) / 6;
      for (index_t k = 0; k < 6; ++k) v += (x(a, b, k) - m) * (x(a, b, k) - m) / 6;
      for (index_t k = 0; k < 6; ++k)
        REQUIRE(std::abs(y(a, b, k) -
                         ((x(a, b, k) - m) / std::sqrt(v + 1e-6) * ln.weight.value(k) + ln.bias.value(k))) < 1e-12);
    }
  Pd px(x);
  gradcheck([&](Taped& t) { return ln(t, t.param(px)); }, {{"x", &px}, {"weight", &ln.weight}, {"bias", &ln.bias}});
  nn::LayerNorm<double> plain({6, 1e-5, false});
  gradcheck([&](Taped& t) { return plain(t, t.param(px)); }, {{"x", &px}});
  REQUIRE_THROWS_AS(ln.forward(Td({2, 5})), fugue::error);
}

TEST_CASE("Dropout: eval is identity, train masks with the Philox stream and gradchecks", "[nn][dropout]") {
  nn::Dropout<double> drop(0.25);
  Td x = Td::ones({4000});
  Td y = drop.forward(x);
  index_t zeros = 0;
  for (double v : y.to_vector()) {
    REQUIRE((v == 0.0 || std::abs(v - 1.0 / 0.75) < 1e-12));
    zeros += v == 0.0;
  }
  REQUIRE(zeros > 850);
  REQUIRE(zeros < 1150);
  REQUIRE(max_abs_diff(drop.forward(x), y) > 0);  // a fresh mask per call
  drop.eval();
  REQUIRE(max_abs_diff(drop.forward(x), x) == 0);
  drop.train();
  Pd px(randn({3, 7}, 70));
  gradcheck([&](Taped& t) { return drop(t, t.param(px)); }, {{"x", &px}});
  {
    Taped t;
    t.set_training(false);
    Vd v = t.param(px);
    REQUIRE(drop(t, v).id() == v.id());  // tape in eval mode: no node
  }
  REQUIRE_THROWS_AS(nn::Dropout<double>(1.0), fugue::error);
}
