// Dense and recurrent layers: float64 gradchecks of every fused op and of the stacked /
// bidirectional layers, step() vs sequence, TF / PyTorch layout loaders against
// hand-written reference cells, loader errors, compile-time wiring, parameter names.
#include <catch2/catch.hpp>

#include <cmath>
#include <string>
#include <vector>

#include "fugue/autodiff/gradcheck.hpp"
#include "fugue/autodiff/ops/shape.hpp"
#include "fugue/nn/activation.hpp"
#include "fugue/nn/embedding.hpp"
#include "fugue/nn/gru.hpp"
#include "fugue/nn/linear.hpp"
#include "fugue/nn/lstm.hpp"
#include "fugue/nn/mlp.hpp"
#include "fugue/nn/sequential.hpp"
#include "../scratch_dir.hpp"

using namespace fugue;
using Bk = cpu::native;
using Td = Tensor<double, Bk>;
using Tf = Tensor<float, Bk>;
using Vd = ad::Var<double, Bk>;
using Taped = ad::Tape<double, Bk>;

namespace {

Td rnd(const Shape& s, std::uint64_t stream, double scale = 1.0) {
  return Td::uniform(s, Philox{42, stream}, -scale, scale);
}
Tf rndf(const Shape& s, std::uint64_t stream, float scale = 1.0f) {
  return Tf::uniform(s, Philox{42, stream}, -scale, scale);
}
Vd flat(const Vd& v) { return ad::reshape(v, {-1}); }
Vd cat(std::vector<Vd> vs) {
  for (auto& v : vs) v = flat(v);
  return ad::concat(vs, 0);
}
template <class P>
std::vector<ad::Parameter<double, Bk>*> params_of(P& m) {
  std::vector<ad::Parameter<double, Bk>*> out;
  m.visit_parameters([&](const std::string&, ad::Parameter<double, Bk>& p) { out.push_back(&p); });
  return out;
}
template <class P>
std::vector<std::string> names_of(P& m, std::string_view prefix = {}) {
  std::vector<std::string> out;
  m.visit_parameters([&](const std::string& n, auto&) { out.push_back(n); }, prefix);
  return out;
}

double sig(double x) { return 1 / (1 + std::exp(-x)); }

}  // namespace

// ------------------------------------------------------------------------------------
// Gradcheck cases (float64): fused ops
// ------------------------------------------------------------------------------------
FUGUE_AD_GRADCHECK_CASE(nn_lstm_seq, "B 2, T 3, In 3, H 4, h0 + c0, outputs y|h|c") {
  const index_t H = 4;
  return ad::gradcheck(
      [](Taped& t, std::span<Vd> v) {
        auto r = nn::detail::lstm_seq_op(t, v[0], v[1], v[2], 1.0, &v[3], &v[4], false);
        return cat({r.y, r.h, r.c});
      },
      {rnd({2, 3, 3}, 1), rnd({3 + H, 4 * H}, 2, 0.5), rnd({4 * H}, 3, 0.5), rnd({2, H}, 4), rnd({2, H}, 5)});
}
FUGUE_AD_GRADCHECK_CASE(nn_lstm_seq, "reverse direction, B 2, T 4, In 2, H 3") {
  const index_t H = 3;
  return ad::gradcheck(
      [](Taped& t, std::span<Vd> v) {
        auto r = nn::detail::lstm_seq_op(t, v[0], v[1], v[2], 0.5, &v[3], &v[4], true);
        return cat({r.y, r.h, r.c});
      },
      {rnd({2, 4, 2}, 6), rnd({2 + H, 4 * H}, 7, 0.5), rnd({4 * H}, 8, 0.5), rnd({2, H}, 9), rnd({2, H}, 10)});
}
FUGUE_AD_GRADCHECK_CASE(nn_lstm_seq, "zero initial state, B 1, T 5, In 2, H 3, final c only") {
  const index_t H = 3;
  return ad::gradcheck(
      [](Taped& t, std::span<Vd> v) {
        auto r = nn::detail::lstm_seq_op(t, v[0], v[1], v[2], 1.0, nullptr, nullptr, false);
        return r.c;
      },
      {rnd({1, 5, 2}, 11), rnd({2 + H, 4 * H}, 12, 0.5), rnd({4 * H}, 13, 0.5)});
}
FUGUE_AD_GRADCHECK_CASE(nn_gru_seq, "B 2, T 3, In 3, H 4, h0, outputs y|h") {
  const index_t H = 4;
  return ad::gradcheck(
      [](Taped& t, std::span<Vd> v) {
        auto r = nn::detail::gru_seq_op(t, v[0], v[1], v[2], v[3], &v[4], false);
        return cat({r.y, r.h});
      },
      {rnd({2, 3, 3}, 21), rnd({3, 3 * H}, 22, 0.5), rnd({H, 3 * H}, 23, 0.5), rnd({2, 3 * H}, 24, 0.5),
       rnd({2, H}, 25)});
}
FUGUE_AD_GRADCHECK_CASE(nn_gru_seq, "reverse, zero initial state, B 3, T 4, In 2, H 3") {
  const index_t H = 3;
  return ad::gradcheck(
      [](Taped& t, std::span<Vd> v) {
        auto r = nn::detail::gru_seq_op(t, v[0], v[1], v[2], v[3], nullptr, true);
        return cat({r.y, r.h});
      },
      {rnd({3, 4, 2}, 26), rnd({2, 3 * H}, 27, 0.5), rnd({H, 3 * H}, 28, 0.5), rnd({2, 3 * H}, 29, 0.5)});
}
FUGUE_AD_GRADCHECK_CASE(nn_rnn_view, "flat sub-range viewed as [2, 3]") {
  return ad::gradcheck(
      [](Taped& t, std::span<Vd> v) {
        return nn::detail::flat_view_op(t, v[0], 4, Shape{2, 3});
      },
      {rnd({11}, 31)});
}
FUGUE_AD_GRADCHECK_CASE(nn_rnn_concat, "[2, 3, 2] ++ [2, 3, 4]") {
  return ad::gradcheck([](Taped& t, std::span<Vd> v) { return nn::detail::concat_last_op(t, v[0], v[1]); },
                       {rnd({2, 3, 2}, 32), rnd({2, 3, 4}, 33)});
}
FUGUE_AD_GRADCHECK_CASE(nn_linear, "x [2, 3, 4] -> 5, with bias") {
  return ad::gradcheck([](Taped& t, std::span<Vd> v) { return nn::linear_op(t, v[0], v[1], &v[2]); },
                       {rnd({2, 3, 4}, 41), rnd({5, 4}, 42), rnd({5}, 43)});
}
FUGUE_AD_GRADCHECK_CASE(nn_linear, "x [3, 4] -> 2, no bias") {
  return ad::gradcheck([](Taped& t, std::span<Vd> v) { return nn::linear_op(t, v[0], v[1]); },
                       {rnd({3, 4}, 44), rnd({2, 4}, 45)});
}
FUGUE_AD_GRADCHECK_CASE(nn_embedding, "ids [2, 3] (repeats) of 5 x 4") {
  static nn::Embedding<double, Bk, 5, 4> emb;
  const std::vector<index_t> ids{0, 3, 3, 4, 1, 3};
  return ad::gradcheck_params([&](Taped& t) { return emb(t, ids, Shape{2, 3}); }, {&emb.weight});
}
// Inputs are kept away from 0 (|x| >= 0.1) so the kinks of relu / leaky relu are not straddled.
static Td away_from_zero(std::uint64_t s) {
  Td x = rnd({3, 5}, s);
  for (auto* p = x.data(); p != x.data() + x.numel(); ++p) *p += *p >= 0 ? 0.1 : -0.1;
  return x;
}
FUGUE_AD_GRADCHECK_CASE(nn_identity, "[3, 5]") {
  return ad::gradcheck([](Taped& t, std::span<Vd> v) { return nn::activation_op<nn::act::Identity>(t, v[0]); },
                       {away_from_zero(51)});
}
FUGUE_AD_GRADCHECK_CASE(nn_tanh, "[3, 5]") {
  return ad::gradcheck([](Taped& t, std::span<Vd> v) { return nn::activation_op<nn::act::Tanh>(t, v[0]); },
                       {away_from_zero(52)});
}
FUGUE_AD_GRADCHECK_CASE(nn_sigmoid, "[3, 5]") {
  return ad::gradcheck([](Taped& t, std::span<Vd> v) { return nn::activation_op<nn::act::Sigmoid>(t, v[0]); },
                       {away_from_zero(53)});
}
FUGUE_AD_GRADCHECK_CASE(nn_relu, "[3, 5]") {
  return ad::gradcheck([](Taped& t, std::span<Vd> v) { return nn::activation_op<nn::act::ReLU>(t, v[0]); },
                       {away_from_zero(54)});
}
FUGUE_AD_GRADCHECK_CASE(nn_leaky_relu, "[3, 5], slope 0.2") {
  return ad::gradcheck([](Taped& t, std::span<Vd> v) { return nn::activation_op<nn::act::LeakyReLU>(t, v[0]); },
                       {away_from_zero(55)});
}

// ------------------------------------------------------------------------------------
// Gradcheck cases: whole layers (parameters and inputs / initial states)
// ------------------------------------------------------------------------------------
FUGUE_AD_GRADCHECK_CASE(nn_lstm_seq, "LSTM 2 layers bidirectional: all parameters, y|last_h|final c") {
  static nn::LSTM<double, Bk, 3, 3, 2, true> lstm(3, 3, Philox{7, 0});
  static const Td x = rnd({2, 3, 3}, 61);
  return ad::gradcheck_params(
      [&](Taped& t) {
        auto o = lstm(t, t.input(x));
        return cat({o.y, o.last_h, o.final.c[0], o.final.c[3]});
      },
      params_of(lstm));
}
FUGUE_AD_GRADCHECK_CASE(nn_lstm_seq, "LSTM 2 layers bidirectional: input and all initial states") {
  static nn::LSTM<double, Bk, 3, 2, 2, true> lstm(3, 2, Philox{8, 0});
  std::vector<Td> in{rnd({2, 3, 3}, 62)};
  for (int i = 0; i < 8; ++i) in.push_back(rnd({2, 2}, 63 + std::uint64_t(i)));
  return ad::gradcheck(
      [&](Taped& t, std::span<Vd> v) {
        typename decltype(lstm)::StateVars s;
        for (int i = 0; i < 4; ++i) {
          s.h.push_back(v[std::size_t(1 + i)]);
          s.c.push_back(v[std::size_t(5 + i)]);
        }
        auto o = lstm(t, v[0], &s);
        return cat({o.y, o.final.h[0], o.final.c[1], o.final.c[2], o.final.c[3]});
      },
      in);
}
FUGUE_AD_GRADCHECK_CASE(nn_lstm_seq, "LSTM 3 layers stacked unidirectional: parameters") {
  static nn::LSTM<double, Bk, 2, 3, 3> lstm(2, 3, Philox{9, 0});
  static const Td x = rnd({2, 4, 2}, 71);
  return ad::gradcheck_params([&](Taped& t) { return lstm(t, t.input(x)).y; }, params_of(lstm));
}
FUGUE_AD_GRADCHECK_CASE(nn_gru_seq, "GRU 2 layers bidirectional: parameters") {
  static nn::GRU<double, Bk, 3, 3, 2, true> gru(3, 3, Philox{10, 0});
  static bool init = [] {
    gru.visit_parameters([](const std::string& n, ad::Parameter<double, Bk>& p) {
      if (n.find("bias") != std::string::npos) p.value = rnd(p.shape(), 72, 0.3);
    });
    return true;
  }();
  (void)init;
  static const Td x = rnd({2, 3, 3}, 73);
  return ad::gradcheck_params(
      [&](Taped& t) {
        auto o = gru(t, t.input(x));
        return cat({o.y, o.last_h});
      },
      params_of(gru));
}
FUGUE_AD_GRADCHECK_CASE(nn_gru_seq, "GRU 2 layers: input and initial states") {
  static nn::GRU<double, Bk, 2, 3, 2> gru(2, 3, Philox{11, 0});
  return ad::gradcheck(
      [&](Taped& t, std::span<Vd> v) {
        std::vector<Vd> h0{v[1], v[2]};
        auto o = gru(t, v[0], &h0);
        return cat({o.y, o.final[0]});
      },
      {rnd({2, 4, 2}, 74), rnd({2, 3}, 75), rnd({2, 3}, 76)});
}
FUGUE_AD_GRADCHECK_CASE(nn_linear, "MLP 2 blocks (Linear, LayerNorm, leaky ReLU): parameters") {
  static nn::MLP<double, Bk, 3, 4, 2> mlp(3, 4, Philox{12, 0});
  static const Td x = rnd({5, 3}, 81);
  return ad::gradcheck_params([&](Taped& t) { return mlp(t, t.input(x)); }, params_of(mlp));
}

TEST_CASE("nn_recurrent: every fused op gradchecks in float64") {
  for (auto& r : ad::run_gradcheck_cases()) {
    INFO(r.summary());
    CHECK(r.ok);
  }
  std::vector<const char*> mine(nn::detail::recurrent_op_names.begin(), nn::detail::recurrent_op_names.end());
  mine.insert(mine.end(), nn::activation_op_names.begin(), nn::activation_op_names.end());
  mine.push_back(nn::linear_op_name);
  mine.push_back(nn::embedding_op_name);
  for (const char* op : mine) {
    INFO(op);
    CHECK(ad::registry::is_registered(op));
    CHECK(ad::registry::is_checked(op));
  }
  CHECK(ad::registry::conflicts().empty());
}

// ------------------------------------------------------------------------------------
// Forward semantics
// ------------------------------------------------------------------------------------
TEST_CASE("nn_recurrent: LSTM step() reproduces the sequence forward") {
  nn::LSTM<float, Bk, 5, 8, 2> lstm(5, 8, Philox{3, 0});
  for (index_t batch : {1, 3}) {
    const Tf x = rndf({batch, 6, 5}, 90);
    auto init = lstm.make_state(batch);
    init.h[0] = rndf({batch, 8}, 91);
    init.c[1] = rndf({batch, 8}, 92);
    typename decltype(lstm)::State fin;
    const Tf y = lstm.forward(x, &init, &fin);
    auto s = init;
    for (auto& t : s.h) t = t.clone();
    for (auto& t : s.c) t = t.clone();
    for (index_t t = 0; t < 6; ++t) {
      const Tf xt = x.select(1, t).contiguous();
      const Tf& h = lstm.step(xt, s);
      const auto hv = h.to_vector(), yv = y.select(1, t).to_vector();
      for (std::size_t i = 0; i < hv.size(); ++i) REQUIRE(hv[i] == Approx(yv[i]).margin(1e-6));
    }
    for (int l = 0; l < 2; ++l) {
      const auto a = s.c[std::size_t(l)].to_vector(), b = fin.c[std::size_t(l)].to_vector();
      for (std::size_t i = 0; i < a.size(); ++i) REQUIRE(a[i] == Approx(b[i]).margin(1e-6));
    }
  }
}

TEST_CASE("nn_recurrent: GRU step() reproduces the sequence forward") {
  nn::GRU<float, Bk, 4, 7, 2> gru(4, 7, Philox{4, 0});
  gru.cell(0).bias.value = rndf({2, 21}, 93, 0.5f);
  for (index_t batch : {1, 2}) {
    const Tf x = rndf({batch, 5, 4}, 94);
    auto init = gru.make_state(batch);
    init.h[1] = rndf({batch, 7}, 95);
    const Tf y = gru.forward(x, &init);
    auto s = init;
    for (auto& t : s.h) t = t.clone();
    for (index_t t = 0; t < 5; ++t) {
      const Tf& h = gru.step(x.select(1, t).contiguous(), s);
      const auto hv = h.to_vector(), yv = y.select(1, t).to_vector();
      for (std::size_t i = 0; i < hv.size(); ++i) REQUIRE(hv[i] == Approx(yv[i]).margin(1e-6));
    }
  }
}

TEST_CASE("nn_recurrent: the multi-threaded batch-1 GRU step equals the sequence forward") {
  // H 200 is not a multiple of the 64-unit slices (the last slice takes the rest), 512 is.
  for (index_t H : {200, 512}) {
    nn::GRU<float, Bk> gru(48, H, Philox{6, 0});
    gru.cell(0).bias.value = rndf({2, 3 * H}, 97, 0.5f);
    const Tf x = rndf({1, 6, 48}, 98);
    const Tf y = gru.forward(x);
    cpu::set_num_threads(2);
    auto s = gru.make_state(1);
    for (index_t t = 0; t < 6; ++t) {
      const Tf& h = gru.step(x.select(1, t).contiguous(), s);
      const auto hv = h.to_vector(), yv = y.select(1, t).to_vector();
      for (std::size_t i = 0; i < hv.size(); ++i) REQUIRE(hv[i] == Approx(yv[i]).margin(1e-6));
    }
    cpu::set_num_threads(1);
  }
}

TEST_CASE("nn_recurrent: tape forward equals inference forward (bidirectional stacked)") {
  nn::LSTM<float, Bk, 3, 4, 2, true> lstm(3, 4, Philox{5, 0});
  const Tf x = rndf({2, 5, 3}, 96);
  ad::Tape<float, Bk> tape;
  auto o = lstm(tape, tape.input(x));
  const Tf y = lstm.forward(x);
  REQUIRE(o.y.shape() == Shape{2, 5, 8});
  const auto a = o.y.value().to_vector(), b = y.to_vector();
  for (std::size_t i = 0; i < a.size(); ++i) REQUIRE(a[i] == Approx(b[i]).margin(1e-6));
  // last_h = [fw h at t = T-1 | bw h at t = 0]
  const auto lh = o.last_h.value().to_vector();
  for (index_t bb = 0; bb < 2; ++bb)
    for (index_t k = 0; k < 4; ++k) {
      CHECK(lh[std::size_t(bb * 8 + k)] == Approx(y(bb, 4, k)).margin(1e-6));
      CHECK(lh[std::size_t(bb * 8 + 4 + k)] == Approx(y(bb, 0, 4 + k)).margin(1e-6));
    }
}

TEST_CASE("nn_recurrent: TF LSTMBlockCell layout gives TF's numbers (hand-computed step)") {
  // In 1, H 2; kernel [(1+2), 8] columns [i0 i1 | j0 j1 | f0 f1 | o0 o1].
  nn::LSTMCell<double, Bk, 1, 2> cell;
  std::vector<double> k(24), b(8);
  for (int i = 0; i < 24; ++i) k[std::size_t(i)] = 0.05 * (i % 7) - 0.1;
  for (int i = 0; i < 8; ++i) b[std::size_t(i)] = 0.02 * i - 0.05;
  cell.load_tensorflow(Td::from(k, {3, 8}), Td::from(b, {8}));
  CHECK(cell.forget_bias() == 1.0);
  const double x = 0.7, h[2] = {0.3, -0.2}, c[2] = {0.5, -0.4};
  double hn[2], cn[2];
  for (int u = 0; u < 2; ++u) {
    auto pre = [&](int gate) {
      const int col = gate * 2 + u;
      return x * k[std::size_t(col)] + h[0] * k[std::size_t(8 + col)] + h[1] * k[std::size_t(16 + col)] +
             b[std::size_t(col)];
    };
    cn[u] = sig(pre(2) + 1.0) * c[u] + sig(pre(0)) * std::tanh(pre(1));
    hn[u] = sig(pre(3)) * std::tanh(cn[u]);
  }
  Td xt = Td::from({x}, {1, 1}), ht = Td::from({h[0], h[1]}, {1, 2}), ct = Td::from({c[0], c[1]}, {1, 2});
  auto scratch = cell.make_scratch(1);
  cell.step(xt, ht, ct, scratch);
  for (int u = 0; u < 2; ++u) {
    CHECK(ht(0, u) == Approx(hn[u]).epsilon(1e-12));
    CHECK(ct(0, u) == Approx(cn[u]).epsilon(1e-12));
  }
  // Sequence path agrees with the step path.
  Td h0 = Td::from({h[0], h[1]}, {1, 2}), c0 = Td::from({c[0], c[1]}, {1, 2});
  auto seq = cell.forward(Td::from({x}, {1, 1, 1}), &h0, &c0);
  CHECK(seq.h(0, 0) == Approx(hn[0]).epsilon(1e-12));
  CHECK(seq.c(0, 1) == Approx(cn[1]).epsilon(1e-12));
}

TEST_CASE("nn_recurrent: PyTorch layouts load into the reference torch cells") {
  const index_t In = 3, H = 4;
  SECTION("LSTM (gates i, f, g, o; two biases)") {
    const Td wi = rnd({4 * H, In}, 100), wh = rnd({4 * H, H}, 101), bi = rnd({4 * H}, 102), bh = rnd({4 * H}, 103);
    nn::LSTMCell<double, Bk, In, H> cell;
    cell.load_pytorch(wi, wh, bi, bh);
    CHECK(cell.forget_bias() == 0.0);
    const Td x = rnd({2, In}, 104);
    Td h = rnd({2, H}, 105), c = rnd({2, H}, 106);
    const Td h_in = h.clone(), c_in = c.clone();
    auto scratch = cell.make_scratch(2);
    cell.step(x, h, c, scratch);
    for (index_t b = 0; b < 2; ++b)
      for (index_t u = 0; u < H; ++u) {
        auto pre = [&](index_t g) {
          double s = bi(g * H + u) + bh(g * H + u);
          for (index_t i = 0; i < In; ++i) s += wi(g * H + u, i) * x(b, i);
          for (index_t j = 0; j < H; ++j) s += wh(g * H + u, j) * h_in(b, j);
          return s;
        };
        const double cc = sig(pre(1)) * c_in(b, u) + sig(pre(0)) * std::tanh(pre(2));
        CHECK(c(b, u) == Approx(cc).epsilon(1e-12));
        CHECK(h(b, u) == Approx(sig(pre(3)) * std::tanh(cc)).epsilon(1e-12));
      }
    auto back = cell.to_pytorch(cell.kernel.value, cell.bias.value);
    CHECK(back.weight_ih.to_vector() == wi.to_vector());
    CHECK(back.weight_hh.to_vector() == wh.to_vector());
  }
  SECTION("GRU (gates r, z, n; reset after the hidden matmul)") {
    const Td wi = rnd({3 * H, In}, 110), wh = rnd({3 * H, H}, 111), bi = rnd({3 * H}, 112), bh = rnd({3 * H}, 113);
    nn::GRUCell<double, Bk, In, H> cell;
    cell.load_pytorch(wi, wh, bi, bh);
    const Td x = rnd({2, In}, 114);
    Td h = rnd({2, H}, 115);
    const Td h_in = h.clone();
    auto scratch = cell.make_scratch(2);
    cell.step(x, h, scratch);
    for (index_t b = 0; b < 2; ++b)
      for (index_t u = 0; u < H; ++u) {
        auto gi = [&](index_t g) {
          double s = bi(g * H + u);
          for (index_t i = 0; i < In; ++i) s += wi(g * H + u, i) * x(b, i);
          return s;
        };
        auto gh = [&](index_t g) {
          double s = bh(g * H + u);
          for (index_t j = 0; j < H; ++j) s += wh(g * H + u, j) * h_in(b, j);
          return s;
        };
        const double r = sig(gi(0) + gh(0)), z = sig(gi(1) + gh(1)), n = std::tanh(gi(2) + r * gh(2));
        CHECK(h(b, u) == Approx((1 - z) * n + z * h_in(b, u)).epsilon(1e-12));
      }
    auto back = cell.to_pytorch(cell.kernel.value, cell.recurrent_kernel.value, cell.bias.value);
    CHECK(back.weight_ih.to_vector() == wi.to_vector());
    CHECK(back.bias_hh.to_vector() == bh.to_vector());
  }
}

TEST_CASE("nn_recurrent: loaders fail loudly, naming the parameter") {
  nn::LSTM<float, Bk, 3, 4, 2> lstm;
  nn::detail::NamedTensors<float, Bk> sd;
  for (int l = 0; l < 2; ++l) {
    const std::string s = "_l" + std::to_string(l);
    sd["rnn.weight_ih" + s] = Tf::zeros({16, l == 0 ? 3 : 4});
    sd["rnn.weight_hh" + s] = Tf::zeros({16, 4});
    sd["rnn.bias_ih" + s] = Tf::zeros({16});
    sd["rnn.bias_hh" + s] = Tf::zeros({16});
  }
  CHECK_NOTHROW(lstm.load_pytorch(sd, "rnn."));
  auto bad = sd;
  bad["rnn.weight_hh_l1"] = Tf::zeros({16, 5});
  CHECK_THROWS_WITH(lstm.load_pytorch(bad, "rnn."), Catch::Contains("weight_hh_l1") && Catch::Contains("[16, 5]"));
  bad = sd;
  bad.erase("rnn.bias_hh_l1");
  CHECK_THROWS_WITH(lstm.load_pytorch(bad, "rnn."), Catch::Contains("rnn.bias_hh_l1"));
  bad = sd;
  bad["rnn.weight_ih_l2"] = Tf::zeros({16, 4});
  CHECK_THROWS_WITH(lstm.load_pytorch(bad, "rnn."), Catch::Contains("more than 2"));
  bad = sd;
  bad["rnn.weight_ih_l0_reverse"] = Tf::zeros({16, 3});
  CHECK_THROWS_WITH(lstm.load_pytorch(bad, "rnn."), Catch::Contains("bidirectional"));

  nn::LSTMCell<float, Bk, 3, 4> cell;
  CHECK_THROWS_WITH(cell.load_tensorflow(Tf::zeros({7, 12}), Tf::zeros({16}), 1.0f, "enc/lstm_cell"),
                    Catch::Contains("enc/lstm_cell/kernel"));
  nn::GRUCell<float, Bk, 3, 4> gru;
  CHECK_THROWS_WITH(gru.load_keras(Tf::zeros({3, 12}), Tf::zeros({4, 12}), Tf::zeros({12})),
                    Catch::Contains("reset_after=False"));
  CHECK_NOTHROW(gru.load_keras(Tf::zeros({3, 12}), Tf::zeros({4, 12}), Tf::zeros({2, 12})));
  nn::Linear<float, Bk, 3, 2> lin;
  CHECK_THROWS_WITH(lin.load_tensorflow(Tf::zeros({2, 3}), Tf::zeros({2}), "proj"), Catch::Contains("proj/kernel"));
  const Tf k = rndf({3, 2}, 120);
  lin.load_tensorflow(k, Tf::zeros({2}));
  CHECK(lin.weight.value(1, 2) == k(2, 1));
}

// ------------------------------------------------------------------------------------
// Composition and naming
// ------------------------------------------------------------------------------------
template <class... Ls>
concept formable = requires { typename nn::Sequential<Ls...>; };

TEST_CASE("nn_recurrent: Sequential checks static wiring at compile time") {
  using L34 = nn::Linear<float, Bk, 3, 4>;
  using L46 = nn::Linear<float, Bk, 4, 6>;
  using L56 = nn::Linear<float, Bk, 5, 6>;
  using Ld6 = nn::Linear<float, Bk, dyn, 6>;
  static_assert(formable<L34, nn::Tanh, L46>);
  static_assert(!formable<L34, L56>);            // 4 != 5: does not compile
  static_assert(!formable<L34, nn::ReLU, L56>);  // activations pass the size through
  static_assert(formable<L34, Ld6>);             // dyn accepts anything (run-time check)
  static_assert(!formable<nn::LSTM<float, Bk, 90, 512, 1, true>, nn::Linear<float, Bk, 512, 256>>);  // 2H = 1024
  static_assert(formable<nn::LSTM<float, Bk, 90, 512, 1, true>, nn::Linear<float, Bk, 1024, 256>>);
  static_assert(nn::Sequential<L34, nn::Tanh, L46>::output_extent == 6);

  nn::Sequential<L34, nn::Tanh, L46> seq;
  CHECK(names_of(seq, "head") ==
        std::vector<std::string>{"head.0.weight", "head.0.bias", "head.2.weight", "head.2.bias"});
  const Tf x = rndf({2, 3}, 130);
  const Tf y = seq.forward(x);
  ad::Tape<float, Bk> tape;
  const auto yt = seq(tape, tape.input(x)).value().to_vector();
  const auto yv = y.to_vector();
  REQUIRE(y.shape() == Shape{2, 6});
  for (std::size_t i = 0; i < yv.size(); ++i) CHECK(yt[i] == Approx(yv[i]));
  nn::Sequential<L34, Ld6> dyn_seq(L34{}, Ld6(4, 6));
  CHECK_THROWS_WITH(nn::Sequential<Ld6>(Ld6(5, 6)).forward(x), Catch::Contains("expected [..., 5]"));
  (void)dyn_seq;
}

TEST_CASE("nn_recurrent: parameter names and counts") {
  nn::BiLSTM<float, Bk, 90, 512> enc;  // MusicVAE cat-mel_2bar_small encoder
  CHECK(nn::count_parameters(enc) == 2469888);
  CHECK(names_of(enc, "encoder.lstm") == std::vector<std::string>{"encoder.lstm.0.fw.kernel", "encoder.lstm.0.fw.bias",
                                                                  "encoder.lstm.0.bw.kernel",
                                                                  "encoder.lstm.0.bw.bias"});
  nn::LSTM<float, Bk, 4, 3, 2> dec;
  CHECK(names_of(dec) == std::vector<std::string>{"0.kernel", "0.bias", "1.kernel", "1.bias"});
  CHECK(dec.cell(1).kernel.shape() == Shape{6, 12});
  nn::GRU<float, Bk, 1024, 512> gru;  // DDSP decoder GRU over two 512 fc stacks (reset_after=True): 2,362,368
  CHECK(nn::count_parameters(gru) == 2362368);
  CHECK(names_of(gru) == std::vector<std::string>{"0.kernel", "0.recurrent_kernel", "0.bias"});
  nn::FcStack<float, Bk, 1, 512, 3> fc;
  CHECK(names_of(fc).size() == 12);
  CHECK(names_of(fc)[2] == "0.norm.weight");
  nn::Embedding<float, Bk, 10, 3> emb;
  CHECK_THROWS_WITH(emb.forward(std::vector<index_t>{1, 10}, Shape{2}), Catch::Contains("id 10"));
}

TEST_CASE("nn_recurrent: load_pytorch from a safetensors file equals loading the map") {
  fugue_test::ScratchDir scratch("recurrent_safetensors");
  // A torch-style state dict for a 2-layer bidirectional LSTM and a 2-layer GRU, side by side in
  // one file under two prefixes (as a module's state_dict() holds its submodules).
  nn::NamedTensors<double, Bk> sd;
  std::uint64_t stream = 100;
  for (int l = 0; l < 2; ++l)
    for (const char* dir : {"", "_reverse"}) {
      const std::string s = "_l" + std::to_string(l) + dir;
      sd["enc.lstm.weight_ih" + s] = rnd({16, l == 0 ? 3 : 8}, stream++, 0.5);
      sd["enc.lstm.weight_hh" + s] = rnd({16, 4}, stream++, 0.5);
      sd["enc.lstm.bias_ih" + s] = rnd({16}, stream++, 0.5);
      sd["enc.lstm.bias_hh" + s] = rnd({16}, stream++, 0.5);
    }
  for (int l = 0; l < 2; ++l) {
    const std::string s = "_l" + std::to_string(l);
    sd["dec.gru.weight_ih" + s] = rnd({15, l == 0 ? 3 : 5}, stream++, 0.5);
    sd["dec.gru.weight_hh" + s] = rnd({15, 5}, stream++, 0.5);
    sd["dec.gru.bias_ih" + s] = rnd({15}, stream++, 0.5);
    sd["dec.gru.bias_hh" + s] = rnd({15}, stream++, 0.5);
  }
  const auto path = scratch.dir / "state_dict.safetensors";
  io::save_safetensors(path, std::map<std::string, Td>(sd.begin(), sd.end()));

  const Td x = rnd({2, 6, 3}, 7);
  nn::LSTM<double, Bk, 3, 4, 2, true> from_map, from_file, from_path;
  from_map.load_pytorch(sd, "enc.lstm.");
  from_file.load_pytorch(io::SafetensorsFile::open(path), "enc.lstm.");
  from_path.load_pytorch(path, "enc.lstm.");
  const auto want = from_map.forward(x).to_vector();
  CHECK(from_file.forward(x).to_vector() == want);
  CHECK(from_path.forward(x).to_vector() == want);
  // Randomly initialised layers differ from the loaded one (the load did something).
  CHECK(nn::LSTM<double, Bk, 3, 4, 2, true>{}.forward(x).to_vector() != want);

  nn::GRU<double, Bk, 3, 5, 2> gru_map, gru_path;
  gru_map.load_pytorch(sd, "dec.gru.");
  gru_path.load_pytorch(path, "dec.gru.");
  CHECK(gru_path.forward(x).to_vector() == gru_map.forward(x).to_vector());

  // A float model from the float64 file: each weight rounded once, outputs within float precision.
  nn::GRU<float, Bk, 3, 5, 2> gru_float;
  gru_float.load_pytorch(path, "dec.gru.");
  const auto xv = x.to_vector();
  const auto yf = gru_float.forward(Tf::from(std::vector<float>(xv.begin(), xv.end()), {2, 6, 3})).to_vector();
  const auto yd = gru_map.forward(x).to_vector();
  REQUIRE(yf.size() == yd.size());
  for (std::size_t i = 0; i < yd.size(); ++i) CHECK(yf[i] == Approx(yd[i]).margin(1e-5));

  // Wrong prefix: the error names the tensor it looked for; a missing file names the path.
  nn::GRU<double, Bk, 3, 5, 2> gru;
  CHECK_THROWS_WITH(gru.load_pytorch(path, "decoder.gru."),
                    Catch::Contains("'decoder.gru.'") && Catch::Contains("dec.gru.weight_ih_l0"));
  auto partial = sd;
  partial.erase("dec.gru.bias_ih_l1");
  io::save_safetensors(path, std::map<std::string, Td>(partial.begin(), partial.end()));
  CHECK_THROWS_WITH(gru.load_pytorch(path, "dec.gru."), Catch::Contains("dec.gru.bias_ih_l1"));
  CHECK_THROWS_WITH(gru.load_pytorch(scratch.dir / "absent.safetensors", "dec.gru."),
                    Catch::Contains("absent.safetensors"));
}
