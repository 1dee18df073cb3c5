// Attention: the skew op against the spec's pad-reshape-slice and its formula, the fused
// attention core against naive references (incl. relative attention gathered by relative
// index, O(L^2 * L)), masks, gradchecks of every layer, and the registry cases for every
// fused op of this module.
#include "util.hpp"

#include <limits>

#include "fugue/autodiff/gradcheck.hpp"
#include "fugue/nn/attention.hpp"
#include "fugue/nn/batch_norm.hpp"
#include "fugue/nn/conv1d.hpp"
#include "fugue/nn/conv2d.hpp"
#include "fugue/nn/conv_transpose2d.hpp"
#include "fugue/nn/dropout.hpp"
#include "fugue/nn/layer_norm.hpp"
#include "fugue/nn/transformer.hpp"

using namespace fugue;
using namespace fugue::nn;
using namespace nntest;
namespace nd = fugue::nn::detail;

namespace {
// The spec's skew, literally: pad one zero column left -> [L, L+1], reshape [L+1, L], drop row 0.
Td skew_literal(const Td& s) {
  const index_t L = s.dim(0);
  Td padded({L, L + 1});
  padded.slice(1, 1, L + 1).copy_from(s);
  return padded.reshape({L + 1, L}).slice(0, 1, L + 1).contiguous();
}

// Naive multi-head attention over q [N, Lq, H*dk], k, v; relative term gathered by index:
// logit(i, j) += scale * q_i . Erow(j - i + L - 1) for j <= i, Erow(r) = E[h, max_rel - L + r] or 0.
Td attention_naive(const Td& q, const Td& k, const Td& v, index_t H, double scale, bool causal, const Td* kpm,
                   const Td* bias, const Td* rel) {
  const index_t N = q.dim(0), Lq = q.dim(1), Lk = k.dim(1), dk = q.dim(2) / H, dv = v.dim(2) / H;
  Td out({N, Lq, H * dv});
  for (index_t n = 0; n < N; ++n)
    for (index_t h = 0; h < H; ++h)
      for (index_t i = 0; i < Lq; ++i) {
        std::vector<double> s(static_cast<std::size_t>(Lk));
        double m = -std::numeric_limits<double>::infinity();
        for (index_t j = 0; j < Lk; ++j) {
          double a = 0;
          for (index_t d = 0; d < dk; ++d) a += q(n, i, h * dk + d) * k(n, j, h * dk + d);
          a *= scale;
          if (rel && j <= i) {
            const index_t maxr = rel->dim(1), row = maxr - Lq + (j - i + Lq - 1);
            if (row >= 0)
              for (index_t d = 0; d < dk; ++d) a += scale * q(n, i, h * dk + d) * (*rel)(h, row, d);
          }
          if (bias) a += (*bias)(i, j);
          if ((causal && j > i + Lk - Lq) || (kpm && (*kpm)(n, j) != 0)) a = -std::numeric_limits<double>::infinity();
          s[std::size_t(j)] = a;
          m = std::max(m, a);
        }
        double z = 0;
        for (auto& a : s) z += (a = std::exp(a - m));
        for (index_t d = 0; d < dv; ++d) {
          double acc = 0;
          for (index_t j = 0; j < Lk; ++j) acc += s[std::size_t(j)] / z * v(n, j, h * dv + d);
          out(n, i, h * dv + d) = acc;
        }
      }
  return out;
}

Td run_core(const Td& q, const Td& k, const Td& v, index_t H, bool causal, const Td* kpm, const Td* bias, const Td* rel,
            double dropout = 0, Pd* pq = nullptr, Pd* pk = nullptr, Pd* pv = nullptr, Pd* prel = nullptr) {
  Taped tape(5);
  Pd a(q), b(k), c(v), r(rel ? *rel : Td({1}));
  nd::attention_inputs<double, cpu::native> in;
  in.sources = {tape.param(pq ? *pq : a), tape.param(pk ? *pk : b), tape.param(pv ? *pv : c)};
  in.q = {0, 0};
  in.k = {1, 0};
  in.v = {2, 0};
  if (rel) in.rel = tape.param(prel ? *prel : r);
  if (kpm) in.key_padding = *kpm;
  if (bias) in.attn_bias = *bias;
  nd::attention_problem<double> p;
  p.heads = H;
  p.dk = q.dim(2) / H;
  p.dv = v.dim(2) / H;
  p.scale = 1.0 / std::sqrt(double(p.dk));
  p.causal = causal;
  p.dropout = dropout;
  p.rng = {3, 4};
  return nd::attention_op(tape, in, p).value().clone();
}
}  // namespace

TEST_CASE("skew equals the spec's pad-reshape-slice and R[i,j] = Q_i . E[j - i + L - 1]", "[nn][attention][skew]") {
  const index_t L = 5, d = 3;
  Td Q = randn({L, d}, 1), E = randn({L, d}, 2);
  Td S = ops::matmul(Q, E.t());
  Td sk = nd::skew_tensor(S);
  REQUIRE(max_abs_diff(sk, skew_literal(S)) == 0);
  for (index_t i = 0; i < L; ++i)
    for (index_t j = 0; j <= i; ++j) {
      double r = 0;
      for (index_t c = 0; c < d; ++c) r += Q(i, c) * E(j - i + L - 1, c);
      REQUIRE(std::abs(sk(i, j) - r) < 1e-12);
    }
  Pd ps(randn({2, 4, 4}, 3));
  gradcheck([&](Taped& t) { return nd::skew_op(t, t.param(ps)); }, {{"s", &ps}});
}

TEST_CASE("fused attention matches the naive formula (masks, bias, cross lengths)", "[nn][attention]") {
  const index_t N = 2, H = 2, dk = 3, dv = 2;
  Td q = randn({N, 4, H * dk}, 10), k = randn({N, 6, H * dk}, 11), v = randn({N, 6, H * dv}, 12);
  Td kpm({N, 6});
  kpm(0, 5) = 1;
  kpm(1, 0) = 1;
  kpm(1, 2) = 1;
  Td bias = randn({4, 6}, 13);
  for (bool causal : {false, true})
    for (bool use_kpm : {false, true})
      for (bool use_bias : {false, true}) {
        Td got = run_core(q, k, v, H, causal, use_kpm ? &kpm : nullptr, use_bias ? &bias : nullptr, nullptr);
        Td ref = attention_naive(q, k, v, H, 1 / std::sqrt(3.0), causal, use_kpm ? &kpm : nullptr,
                                 use_bias ? &bias : nullptr, nullptr);
        REQUIRE(max_abs_diff(got, ref) < 1e-12);
      }
  SECTION("a row whose keys are all masked gives zeros, not NaN") {
    Td all = Td::ones({N, 6});
    Td got = run_core(q, k, v, H, false, &all, nullptr, nullptr);
    for (double x : got.to_vector()) REQUIRE(x == 0.0);
  }
}

TEST_CASE("relative attention matches the gather-by-relative-index reference", "[nn][attention][relative]") {
  const index_t N = 2, H = 2, dk = 3, L = 6;
  Td q = randn({N, L, H * dk}, 20), k = randn({N, L, H * dk}, 21), v = randn({N, L, H * dk}, 22);
  for (index_t max_rel : {index_t(4), index_t(6), index_t(9)}) {  // L > max_rel pads zero rows
    Td rel = randn({H, max_rel, dk}, 23);
    Td got = run_core(q, k, v, H, true, nullptr, nullptr, &rel);
    Td ref = attention_naive(q, k, v, H, 1 / std::sqrt(3.0), true, nullptr, nullptr, &rel);
    REQUIRE(max_abs_diff(got, ref) < 1e-12);
  }
  SECTION("max_rel 1024, L 10: only rows 1014..1023 of the table get gradient") {
    Pd pq(randn({1, 10, 4}, 30)), pk(randn({1, 10, 4}, 31)), pv(randn({1, 10, 4}, 32)),
        pr(randn({1, 1024, 4}, 33, 0.1));
    Taped tape;
    nd::attention_inputs<double, cpu::native> in;
    in.sources = {tape.param(pq), tape.param(pk), tape.param(pv)};
    in.q = {0, 0};
    in.k = {1, 0};
    in.v = {2, 0};
    in.rel = tape.param(pr);
    nd::attention_problem<double> p;
    p.heads = 1;
    p.dk = p.dv = 4;
    p.scale = 0.5;
    p.causal = true;
    auto out = nd::attention_op(tape, in, p);
    tape.backward(out, randn(out.shape(), 34));
    for (index_t r = 0; r < 1024; ++r) {
      double a = 0;
      for (index_t c = 0; c < 4; ++c) a += std::abs(pr.grad(0, r, c));
      if (r < 1014)
        REQUIRE(a == 0.0);
      else
        REQUIRE(a > 0.0);
    }
  }
}

TEST_CASE("fused attention gradchecks (masks, relative, dropout, packed sources)", "[nn][attention]") {
  const index_t N = 2, H = 2, dk = 2, L = 5;
  Pd pq(randn({N, L, H * dk}, 40)), pk(randn({N, L, H * dk}, 41)), pv(randn({N, L, H * 3}, 42)),
      pr(randn({H, 3, dk}, 43));
  Td kpm({N, L});
  kpm(1, 4) = 1;
  Td bias = randn({L, L}, 44);
  for (double drop : {0.0, 0.3})
    for (bool rel : {false, true})
      gradcheck(
          [&](Taped& t) {
            nd::attention_inputs<double, cpu::native> in;
            in.sources = {t.param(pq), t.param(pk), t.param(pv)};
            in.q = {0, 0};
            in.k = {1, 0};
            in.v = {2, 0};
            if (rel) in.rel = t.param(pr);
            in.key_padding = kpm;
            in.attn_bias = bias;
            nd::attention_problem<double> p;
            p.heads = H;
            p.dk = dk;
            p.dv = 3;
            p.scale = 0.7;
            p.causal = rel;
            p.dropout = drop;
            p.rng = {9, 9};
            return nd::attention_op(t, in, p);
          },
          rel ? std::vector<check_target>{{"q", &pq}, {"k", &pk}, {"v", &pv}, {"rel", &pr}}
              : std::vector<check_target>{{"q", &pq}, {"k", &pk}, {"v", &pv}});
}

TEST_CASE("MultiheadAttention: torch parameter layout, self/cross/separate weights gradcheck", "[nn][attention]") {
  MultiheadAttentionOptions o;
  o.embed_dim = 6;
  o.num_heads = 2;
  MultiheadAttention<double> mha(o, {1, 0});
  std::vector<std::string> names;
  mha.visit_parameters([&](const std::string& n, auto& p) { names.push_back(n + p.shape().str()); }, "self_attn");
  REQUIRE(names == std::vector<std::string>{"self_attn.in_proj_weight[18, 6]", "self_attn.in_proj_bias[18]",
                                            "self_attn.out_proj.weight[6, 6]", "self_attn.out_proj.bias[6]"});
  mha.in_proj_bias.value = randn({18}, 50, 0.1);
  mha.out_proj_bias.value = randn({6}, 51, 0.1);
  Pd px(randn({2, 4, 6}, 52)), pm(randn({2, 3, 6}, 53));
  Td kpm({2, 4});
  kpm(0, 3) = 1;
  auto all = [&](auto& m, bool mem) {
    std::vector<check_target> t{{"x", &px}};
    if (mem) t.push_back({"memory", &pm});
    m.visit_parameters([&](const std::string& n, Pd& p) { t.push_back({n, &p}); }, "");
    return t;
  };
  AttentionMask<double> mask;
  mask.causal = true;
  mask.key_padding = kpm;
  gradcheck([&](Taped& t) { return mha(t, t.param(px), nullptr, mask); }, all(mha, false));
  gradcheck(
      [&](Taped& t) {
        Vd m = t.param(pm);
        return mha(t, t.param(px), &m);
      },
      all(mha, true));
  // forward() agrees with the tape path
  {
    Taped t;
    Vd y = mha(t, t.param(px), nullptr, mask);
    REQUIRE(max_abs_diff(y.value(), mha.forward(px.value, nullptr, mask)) < 1e-12);
  }
  SECTION("t2t style: key depth != hidden, no biases, relative keys") {
    MultiheadAttentionOptions o2;
    o2.embed_dim = 6;
    o2.num_heads = 2;
    o2.key_dim = 8;
    o2.bias = false;
    o2.relative = true;
    o2.max_relative_position = 3;
    MultiheadAttention<double> rel(o2, {2, 0});
    REQUIRE_FALSE(rel.packed());
    std::vector<std::string> n2;
    rel.visit_parameters([&](const std::string& n, auto& p) { n2.push_back(n + p.shape().str()); }, "");
    REQUIRE(n2 == std::vector<std::string>{"q_proj_weight[8, 6]", "k_proj_weight[8, 6]", "v_proj_weight[6, 6]",
                                           "out_proj.weight[6, 6]", "relative_key_table[2, 3, 4]"});
    AttentionMask<double> causal;
    causal.causal = true;
    gradcheck([&](Taped& t) { return rel(t, t.param(px), nullptr, causal); }, all(rel, false));
  }
  SECTION("separate weights with biases (kdim != embed_dim cross-attention)") {
    MultiheadAttentionOptions o3;
    o3.embed_dim = 6;
    o3.num_heads = 3;
    o3.kv_dim = 4;
    MultiheadAttention<double> cross(o3, {3, 0});
    cross.in_proj_bias.value = randn({18}, 54, 0.1);
    Pd pm4(randn({2, 5, 4}, 55));
    std::vector<check_target> t{{"x", &px}, {"memory", &pm4}};
    cross.visit_parameters([&](const std::string& n, Pd& p) { t.push_back({n, &p}); }, "");
    gradcheck(
        [&](Taped& tp) {
          Vd m = tp.param(pm4);
          return cross(tp, tp.param(px), &m);
        },
        t);
  }
  SECTION("shape errors") {
    REQUIRE_THROWS_AS(mha.forward(Td({2, 4, 5})), fugue::error);
    Td m({3, 4, 6});
    REQUIRE_THROWS_AS(mha.forward(Td({2, 4, 6}), &m), fugue::error);
    AttentionMask<double> bad;
    bad.key_padding = Td({2, 5});
    REQUIRE_THROWS_AS(mha.forward(Td({2, 4, 6}), nullptr, bad), fugue::error);
    o.num_heads = 4;
    REQUIRE_THROWS_AS(MultiheadAttention<double>(o), fugue::error);
  }
}

TEST_CASE("Transformer encoder (post/pre-norm, relu/gelu) and decoder layers gradcheck", "[nn][transformer]") {
  Pd px(randn({2, 4, 6}, 60)), pm(randn({2, 3, 6}, 61));
  for (bool pre : {false, true}) {
    TransformerLayerOptions o;
    o.d_model = 6;
    o.nhead = 2;
    o.dim_feedforward = 5;
    o.dropout = 0.2;
    o.norm_first = pre;
    o.activation = pre ? DenseActivation::gelu : DenseActivation::relu;
    o.relative = pre;
    o.max_relative_position = 3;
    TransformerEncoderLayer<double> enc(o);
    std::vector<check_target> t{{"x", &px}};
    enc.visit_parameters([&](const std::string& n, Pd& p) { t.push_back({n, &p}); }, "");
    REQUIRE(t[1].name == "self_attn.in_proj_weight");
    REQUIRE(t.back().name == "norm2.bias");
    AttentionMask<double> mask;
    mask.causal = pre;  // relative attention is written for masked attention
    gradcheck([&](Taped& tp) { return enc(tp, tp.param(px), mask); }, t, 1e-6, 20);
    enc.eval();
    Taped tp;
    REQUIRE(max_abs_diff(enc(tp, tp.param(px), mask).value(), enc.forward(px.value, mask)) < 1e-12);
  }
  TransformerLayerOptions o;
  o.d_model = 6;
  o.nhead = 3;
  o.dim_feedforward = 4;
  o.dropout = 0.1;
  TransformerDecoderLayer<double> dec(o);
  std::vector<check_target> t{{"x", &px}, {"memory", &pm}};
  dec.visit_parameters([&](const std::string& n, Pd& p) { t.push_back({n, &p}); }, "");
  REQUIRE(t[2 + 4].name == "multihead_attn.in_proj_weight");
  gradcheck(
      [&](Taped& tp) {
        Vd m = tp.param(pm);
        return dec(tp, tp.param(px), &m);
      },
      t, 1e-6, 20);
}

// --- registry cases: every fused op of fugue/nn/ declared in this module -------------------
namespace {
ad::GradcheckOptions gopts() {
  ad::GradcheckOptions g;
  g.rtol = 1e-5;
  g.atol = 1e-7;
  return g;
}
}  // namespace

FUGUE_AD_GRADCHECK_CASE(nn_conv, "conv1d causal dilated, bias") {
  Conv1dOptions o;
  o.in_channels = 2;
  o.out_channels = 3;
  o.kernel_size = 3;
  o.dilation = 2;
  o.causal = true;
  static Conv1d<double> c(o);
  return ad::gradcheck([](Taped& t, std::span<Vd> in) { return c(t, in[0]); }, {randn({2, 2, 7}, 1)}, gopts());
}
FUGUE_AD_GRADCHECK_CASE(nn_conv_transpose, "stride 2, padding 1, output_padding 1") {
  ConvTranspose2dOptions o;
  o.in_channels = 2;
  o.out_channels = 3;
  o.kernel_h = o.kernel_w = 3;
  o.stride_h = o.stride_w = 2;
  o.padding_h = o.padding_w = 1;
  o.output_padding_h = o.output_padding_w = 1;
  static ConvTranspose2d<double> c(o);
  return ad::gradcheck([](Taped& t, std::span<Vd> in) { return c(t, in[0]); }, {randn({1, 2, 3, 3}, 2)}, gopts());
}
FUGUE_AD_GRADCHECK_CASE(nn_batch_norm, "train mode [B, C, H, W]") {
  static BatchNorm<double> bn(BatchNormOptions{3});
  return ad::gradcheck([](Taped& t, std::span<Vd> in) { return bn(t, in[0]); }, {randn({2, 3, 2, 2}, 3)}, gopts());
}
FUGUE_AD_GRADCHECK_CASE(nn_layer_norm, "[2, 3, 5]") {
  static LayerNorm<double> ln(LayerNormOptions{5});
  return ad::gradcheck_params([](Taped& t) { return ln(t, t.param(ln.weight)); }, {&ln.weight}, gopts());
}
FUGUE_AD_GRADCHECK_CASE(nn_dropout, "p 0.4") {
  return ad::gradcheck(
      [](Taped& t, std::span<Vd> in) {
        return dropout_op(t, in[0], 0.4, Philox{1, 2});
      },
      {randn({3, 5}, 4)}, gopts());
}
FUGUE_AD_GRADCHECK_CASE(nn_skew, "[2, 4, 4]") {
  return ad::gradcheck([](Taped& t, std::span<Vd> in) { return nd::skew_op(t, in[0]); }, {randn({2, 4, 4}, 5)},
                       gopts());
}
FUGUE_AD_GRADCHECK_CASE(nn_dense, "gelu, packed rows 2..5") {
  return ad::gradcheck(
      [](Taped& t, std::span<Vd> in) {
        return nd::dense_op(t, in[0], in[1], std::optional<Vd>(in[2]), 2, 5, DenseActivation::gelu);
      },
      {randn({2, 3, 4}, 6), randn({6, 4}, 7), randn({6}, 8)}, gopts());
}
FUGUE_AD_GRADCHECK_CASE(nn_residual_add, "[2, 3]") {
  return ad::gradcheck([](Taped& t, std::span<Vd> in) { return nd::add_op(t, in[0], in[1]); },
                       {randn({2, 3}, 9), randn({2, 3}, 10)}, gopts());
}
FUGUE_AD_GRADCHECK_CASE(nn_attention, "packed self-attention, causal, relative, dropout") {
  return ad::gradcheck(
      [](Taped& t, std::span<Vd> in) {
        nd::attention_inputs<double, cpu::native> a;
        a.sources = {in[0]};
        a.q = {0, 0};
        a.k = {0, 4};
        a.v = {0, 8};
        a.rel = in[1];
        nd::attention_problem<double> p;
        p.heads = 2;
        p.dk = p.dv = 2;
        p.scale = 0.6;
        p.causal = true;
        p.dropout = 0.25;
        p.rng = {4, 4};
        return nd::attention_op(t, a, p);
      },
      {randn({2, 5, 12}, 11), randn({2, 3, 2}, 12)}, gopts());
}
FUGUE_AD_GRADCHECK_CASE(nn_bias_window, "separate q/k/v weights with in_proj_bias") {
  MultiheadAttentionOptions o;
  o.embed_dim = 4;
  o.num_heads = 2;
  o.key_dim = 6;
  static MultiheadAttention<double> m(o);
  m.in_proj_bias.value = randn({16}, 13, 0.1);
  static const Td x = randn({1, 3, 4}, 14);
  return ad::gradcheck_params([](Taped& t) { return m(t, t.input(x)); }, {&m.in_proj_bias}, gopts());
}

TEST_CASE("nn conv/attention: every registered fused op gradchecks (registry)", "[nn][registry]") {
  for (auto& r : ad::run_gradcheck_cases()) {
    INFO(r.summary());
    CHECK(r.ok);
  }
  const auto missing = ad::registry::unchecked("fugue/nn/");
  std::vector<std::string> mine;
  for (const auto& n : missing)
    if (n.rfind("nn_lstm", 0) != 0 && n.rfind("nn_gru", 0) != 0 && n.rfind("nn_rnn", 0) != 0) mine.push_back(n);
  INFO("unchecked: " << [&] {
    std::string s;
    for (auto& n : mine) s += n + " ";
    return s;
  }());
  CHECK(mine.empty());
}
