#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <vector>

#include "fugue/optim.hpp"

using fugue::Tensor;
using fugue::ad::Parameter;
namespace optim = fugue::optim;

TEST_CASE("schedules: MusicVAE exponential decay, Transformer warmup-rsqrt, constant", "[optim][schedule]") {
  optim::ExponentialDecayLR musicvae;  // defaults: 1e-3, 0.9999, 1e-5 (musicvae.md §5)
  CHECK(musicvae(0) == Approx(1e-3));
  CHECK(musicvae(10000) == Approx(3.742e-4).epsilon(1e-3));  // musicvae.md §8 check 6
  CHECK(musicvae(60000) < 1.3e-5);                           // near the floor after ~60k steps
  CHECK(musicvae(100000) == Approx(1e-5).epsilon(0.01));
  CHECK(musicvae(1000000) >= 1e-5);

  optim::WarmupRsqrtLR t2t{.constant = 2.0, .warmup_steps = 8000, .hidden_size = 384};
  CHECK(t2t(0) == 0.0);
  CHECK(t2t(8000) == Approx(1.141e-3).epsilon(1e-3));  // transformer_ae.md §4
  CHECK(t2t(4000) == Approx(t2t(8000) / 2));
  CHECK(t2t(32000) == Approx(t2t(8000) / 2));
  CHECK(optim::WarmupRsqrtLR{}(8000) == Approx(9.88e-4).epsilon(1e-3));
  optim::WarmupRsqrtLR tpu{.constant = 1.0, .warmup_steps = 10000, .hidden_size = 0, .linear_warmup = false};
  CHECK(tpu(0) == Approx(0.01));
  CHECK(tpu(40000) == Approx(0.005));

  CHECK(optim::ConstantLR{0.5}(123) == 0.5);

  Parameter<float> p(Tensor<float>::zeros({2}));
  optim::Adam<float> opt(optim::NamedParameters<float>{{"p", &p}});
  CHECK(optim::set_lr(opt, musicvae) == Approx(1e-3));
  CHECK(opt.lr() == musicvae(0));
}

namespace {
struct Grads {
  Parameter<float> a{Tensor<float>::zeros({2})};
  Parameter<float> b{Tensor<float>::zeros({1})};
  Parameter<float> none{Tensor<float>::zeros({3})};  // no gradient: ignored
  Grads(float x, float y, float z) {
    a.ensure_grad();
    b.ensure_grad();
    a.grad.data()[0] = x;
    a.grad.data()[1] = y;
    b.grad.data()[0] = z;
  }
  optim::NamedParameters<float> named() { return {{"a", &a}, {"b", &b}, {"none", &none}}; }
};
}  // namespace

TEST_CASE("clipping: global norm, torch and TF rules", "[optim][clip]") {
  SECTION("norm") {
    Grads g(3, 4, 12);
    CHECK(optim::grad_global_norm(g.named()) == 13.0);
    CHECK(optim::grad_global_norm(std::vector<Parameter<float>*>{&g.a}) == 5.0);
  }
  SECTION("torch: max_norm / (norm + 1e-6)") {
    Grads g(3, 4, 12);
    CHECK(optim::clip_grad_norm(g.named(), 1.3) == 13.0);
    const double s = 1.3 / (13.0 + 1e-6);
    CHECK(g.a.grad.data()[0] == Approx(3 * s));
    CHECK(g.b.grad.data()[0] == Approx(12 * s));
    Grads small(0.3f, 0.4f, 0);
    optim::clip_grad_norm(small.named(), 1.0);
    CHECK(small.a.grad.data()[0] == 0.3f);  // untouched below the threshold
  }
  SECTION("torch: non-finite norms") {
    Grads g(std::numeric_limits<float>::infinity(), 1, 1);
    CHECK_THROWS_WITH(optim::clip_grad_norm(g.named(), 1.0, /*error_if_nonfinite=*/true),
                      Catch::Contains("norm is inf"));
  }
  SECTION("tf: clip_norm * min(1/norm, 1/clip_norm)") {
    Grads g(3, 4, 12);
    auto r = optim::clip_grad_norm_tf(g.named(), 1.0);
    CHECK(r.norm == 13.0);
    CHECK(r.scale == Approx(1.0 / 13));
    CHECK(optim::grad_global_norm(g.named()) == Approx(1.0));
  }
}

TEST_CASE("clipping: MusicVAE's clip-or-zero rule", "[optim][clip]") {
  SECTION("below the threshold: clipped to the global norm") {
    Grads g(30, 40, 120);
    auto r = optim::clip_grad_norm_or_zero(g.named(), 1.0, 10000.0);
    CHECK_FALSE(r.zeroed);
    CHECK(r.norm == 130.0);
    CHECK(optim::grad_global_norm(g.named()) == Approx(1.0));
  }
  SECTION("at or above the threshold: all gradients zeroed") {
    Grads g(6000, 8000, 0);  // norm exactly 10000
    auto r = optim::clip_grad_norm_or_zero(g.named(), 1.0, 10000.0);
    CHECK(r.zeroed);
    CHECK(r.scale == 0.0);
    CHECK(g.a.grad.to_vector() == std::vector<float>{0, 0});
    CHECK(g.b.grad.to_vector() == std::vector<float>{0});
  }
  SECTION("NaN and inf norms: zeroed") {
    for (float bad : {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity()}) {
      Grads g(bad, 1, 1);
      auto r = optim::clip_grad_norm_or_zero(g.named(), 1.0, 10000.0);
      CHECK(r.zeroed);
      CHECK(g.a.grad.to_vector() == std::vector<float>{0, 0});
    }
  }
  SECTION("zeroed gradients still let Adam move by its first moment (as TF)") {
    Grads g(1, 1, 1);
    optim::Adam<float> opt(g.named(), {.tf_epsilon = true});
    opt.step();
    const float after1 = g.a.value.data()[0];
    g.a.grad.fill(std::numeric_limits<float>::quiet_NaN());
    optim::clip_grad_norm_or_zero(g.named(), 1.0, 10000.0);
    opt.step();
    CHECK(std::isfinite(g.a.value.data()[0]));
    CHECK(g.a.value.data()[0] < after1);
  }
}
