#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <vector>

#include "fugue/optim.hpp"

using fugue::Shape;
using fugue::Tensor;
using fugue::ad::Parameter;
namespace optim = fugue::optim;
namespace fs = std::filesystem;

namespace {
template <class T>
struct Two {
  Parameter<T> w{Tensor<T>::from(std::vector<T>{T(0.5), T(-1.0), T(2.0), T(0.0)}, {2, 2})};
  Parameter<T> b{Tensor<T>::from(std::vector<T>{T(0.1), T(-0.2)}, {2})};
  optim::NamedParameters<T> named() { return {{"w", &w}, {"b", &b}}; }
  template <class F>
  void visit_parameters(F&& f, std::string_view prefix) {
    const std::string pre = prefix.empty() ? std::string() : std::string(prefix) + ".";
    f(pre + "w", w);
    f(pre + "b", b);
  }
  void set_grads(int step) {
    w.ensure_grad();
    b.ensure_grad();
    for (int i = 0; i < 4; ++i) w.grad.data()[i] = T(0.3 * (i - 1.5) * step + 0.01);
    for (int i = 0; i < 2; ++i) b.grad.data()[i] = T(-0.7 + 0.5 * i * step);
  }
};
template <class T>
bool same_bits(const Tensor<T>& a, const Tensor<T>& b) {
  auto x = a.to_vector(), y = b.to_vector();
  return x.size() == y.size() && std::memcmp(x.data(), y.data(), x.size() * sizeof(T)) == 0;
}
}  // namespace

TEST_CASE("sgd: plain, weight decay, momentum with dampening, nesterov (closed form, double)", "[optim][sgd]") {
  Two<double> m;
  const auto w0 = m.w.value.to_vector();
  SECTION("plain with weight decay") {
    optim::SGD<double> opt(m.named(), {.lr = 0.1, .weight_decay = 0.01});
    m.set_grads(1);
    const auto g = m.w.grad.to_vector();
    opt.step();
    for (int i = 0; i < 4; ++i)
      CHECK(m.w.value.data()[i] == Approx(w0[i] - 0.1 * (g[i] + 0.01 * w0[i])).epsilon(1e-14));
    CHECK(opt.steps() == 1);
  }
  SECTION("momentum and dampening over two steps") {
    optim::SGD<double> opt(m.named(), {.lr = 0.1, .momentum = 0.9, .dampening = 0.25});
    m.set_grads(1);
    const auto g1 = m.w.grad.to_vector();
    opt.step();
    m.set_grads(2);
    const auto g2 = m.w.grad.to_vector();
    opt.step();
    for (int i = 0; i < 4; ++i) {
      const double buf1 = g1[i], w1 = w0[i] - 0.1 * buf1;  // first step: buffer = gradient (no dampening)
      const double buf2 = 0.9 * buf1 + 0.75 * g2[i];
      CHECK(m.w.value.data()[i] == Approx(w1 - 0.1 * buf2).epsilon(1e-14));
    }
  }
  SECTION("nesterov") {
    optim::SGD<double> opt(m.named(), {.lr = 0.1, .momentum = 0.9, .nesterov = true});
    m.set_grads(1);
    const auto g1 = m.w.grad.to_vector();
    opt.step();
    for (int i = 0; i < 4; ++i)
      CHECK(m.w.value.data()[i] == Approx(w0[i] - 0.1 * (g1[i] + 0.9 * g1[i])).epsilon(1e-14));
    CHECK_THROWS_WITH((optim::SGD<double>(m.named(), {.lr = 0.1, .momentum = 0.9, .dampening = 0.1, .nesterov = true})),
                      Catch::Contains("nesterov"));
  }
}

TEST_CASE("adam: the first step is lr * sign-like g / (|g| + eps); later steps follow torch", "[optim][adam]") {
  Two<double> m;
  const auto w0 = m.w.value.to_vector();
  optim::Adam<double> opt(m.named(), {.lr = 0.01, .beta1 = 0.9, .beta2 = 0.99, .eps = 1e-8});
  m.set_grads(1);
  const auto g1 = m.w.grad.to_vector();
  opt.step();
  std::vector<double> mm(4), vv(4), w(4);
  for (int i = 0; i < 4; ++i) {
    CHECK(m.w.value.data()[i] == Approx(w0[i] - 0.01 * g1[i] / (std::abs(g1[i]) + 1e-8)).epsilon(1e-12));
    mm[i] = 0.1 * g1[i];
    vv[i] = 0.01 * g1[i] * g1[i];
    w[i] = m.w.value.data()[i];
  }
  m.set_grads(2);
  const auto g2 = m.w.grad.to_vector();
  opt.step();
  for (int i = 0; i < 4; ++i) {
    mm[i] = 0.9 * mm[i] + 0.1 * g2[i];
    vv[i] = 0.99 * vv[i] + 0.01 * g2[i] * g2[i];
    const double bc1 = 1 - 0.9 * 0.9, bc2 = 1 - 0.99 * 0.99;
    const double expect = w[i] - (0.01 / bc1) * mm[i] / (std::sqrt(vv[i]) / std::sqrt(bc2) + 1e-8);
    CHECK(m.w.value.data()[i] == Approx(expect).epsilon(1e-12));
  }
}

TEST_CASE("adam: L2 weight decay vs AdamW decoupled decay vs TF epsilon vs amsgrad", "[optim][adam]") {
  const double lr = 0.01, wd = 0.1;
  SECTION("Adam adds wd * p to the gradient") {
    Two<double> m;
    const auto w0 = m.w.value.to_vector();
    optim::Adam<double> opt(m.named(), {.lr = lr, .weight_decay = wd});
    m.set_grads(1);
    const auto g = m.w.grad.to_vector();
    opt.step();
    for (int i = 0; i < 4; ++i) {
      const double ge = g[i] + wd * w0[i];
      CHECK(m.w.value.data()[i] == Approx(w0[i] - lr * ge / (std::abs(ge) + 1e-8)).epsilon(1e-12));
    }
  }
  SECTION("AdamW scales p by 1 - lr * wd first (default wd 1e-2)") {
    Two<double> m;
    const auto w0 = m.w.value.to_vector();
    optim::AdamW<double> opt(m.named(), {.lr = lr});
    CHECK(opt.options().weight_decay == 0.01);
    m.set_grads(1);
    const auto g = m.w.grad.to_vector();
    opt.step();
    for (int i = 0; i < 4; ++i)
      CHECK(m.w.value.data()[i] ==
            Approx(w0[i] * (1 - lr * 0.01) - lr * g[i] / (std::abs(g[i]) + 1e-8)).epsilon(1e-12));
  }
  SECTION("TF epsilon: lr_t = lr sqrt(1 - b2^t) / (1 - b1^t); p -= lr_t m / (sqrt(v) + eps)") {
    Two<double> m;
    const auto w0 = m.w.value.to_vector();
    optim::Adam<double> opt(m.named(), {.lr = lr, .eps = 0.1, .tf_epsilon = true});
    m.set_grads(1);
    const auto g = m.w.grad.to_vector();
    opt.step();
    for (int i = 0; i < 4; ++i) {
      const double lr_t = lr * std::sqrt(1 - 0.999) / (1 - 0.9);
      const double expect = w0[i] - lr_t * (0.1 * g[i]) / (std::sqrt(0.001 * g[i] * g[i]) + 0.1);
      CHECK(m.w.value.data()[i] == Approx(expect).epsilon(1e-12));
    }
  }
  SECTION("amsgrad keeps the running maximum of v") {
    Two<double> m;
    optim::Adam<double> opt(m.named(), {.lr = lr, .amsgrad = true});
    m.set_grads(3);
    opt.step();
    m.set_grads(1);  // smaller gradients: v drops, vmax does not
    opt.step();
    auto sd = opt.state_dict();
    const auto* v = sd.find("exp_avg_sq.w");
    const auto* vmax = sd.find("max_exp_avg_sq.w");
    REQUIRE(v);
    REQUIRE(vmax);
    for (int i = 0; i < 4; ++i) CHECK(vmax->data()[i] >= v->data()[i]);
  }
}

TEST_CASE("optimizers skip parameters without gradients, as torch does", "[optim]") {
  Two<float> m;
  optim::Adam<float> opt(m.named());
  m.w.ensure_grad().fill(1.0f);  // b has no grad
  const auto b0 = m.b.value.clone();
  opt.step();
  CHECK(same_bits(m.b.value, b0));
  auto sd = opt.state_dict();
  CHECK(sd.find("exp_avg.w") != nullptr);
  CHECK(sd.find("exp_avg.b") == nullptr);
  CHECK(sd.metadata.at("step.w") == "1");
  CHECK(sd.metadata.count("step.b") == 0);
  opt.zero_grad();
  CHECK(m.w.grad.to_vector() == std::vector<float>(4, 0.0f));
}

TEST_CASE("optimizer construction errors", "[optim]") {
  Two<float> m;
  CHECK_THROWS_WITH((optim::Adam<float>(optim::NamedParameters<float>{{"w", &m.w}, {"w", &m.b}})),
                    Catch::Contains("duplicate parameter name 'w'"));
  CHECK_THROWS_WITH((optim::Adam<float>(optim::NamedParameters<float>{{"w", &m.w}, {"v", &m.w}})),
                    Catch::Contains("listed twice"));
  CHECK_THROWS_WITH((optim::Adam<float>(optim::NamedParameters<float>{{"w", nullptr}})), Catch::Contains("null"));
  CHECK_THROWS_WITH((optim::Adam<float>(m.named(), {.beta1 = 1.0})), Catch::Contains("betas"));
  optim::SGD<float> by_index(std::vector<Parameter<float>*>{&m.w, &m.b});
  CHECK(by_index.parameters()[1].first == "1");
}

// Train n steps; returns the final parameter values.
template <class Opt>
void run_steps(Opt& opt, Two<float>& m, int from, int to) {
  for (int s = from; s < to; ++s) {
    m.set_grads(s + 1);
    opt.step();
  }
}

TEMPLATE_TEST_CASE("optimizer state resumes bit-exactly through a safetensors checkpoint", "[optim][state]",
                   optim::SGD<float>, optim::Adam<float>, optim::AdamW<float>) {
  auto make = [](Two<float>& m) {
    if constexpr (std::is_same_v<TestType, optim::SGD<float>>)
      return TestType(m.named(), {.lr = 0.05, .momentum = 0.9, .dampening = 0.1, .weight_decay = 1e-3});
    else
      return TestType(m.named(), {.lr = 3e-3, .amsgrad = true});
  };
  // Straight run of 5 steps with a changing lr.
  Two<float> a;
  auto oa = make(a);
  for (int s = 0; s < 5; ++s) {
    oa.set_lr(1e-2 / (s + 1));
    a.set_grads(s + 1);
    oa.step();
  }
  // 3 steps, checkpoint model + optimizer in one file, resume into fresh objects for 2 more.
  const fs::path dir = fs::temp_directory_path() / ("fugue_test_optim_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const fs::path ckpt = dir / "ckpt.safetensors";
  {
    Two<float> b;
    auto ob = make(b);
    for (int s = 0; s < 3; ++s) {
      ob.set_lr(1e-2 / (s + 1));
      b.set_grads(s + 1);
      ob.step();
    }
    fugue::io::SafetensorsWriter w;
    fugue::io::add_parameters(w, b, "model");
    optim::add_state(w, ob, "optim");
    w.save(ckpt);
  }
  Two<float> c;
  c.w.value.fill(0);
  auto oc = make(c);
  const auto file = fugue::io::SafetensorsFile::open(ckpt);
  fugue::io::LoadOptions lo;
  lo.prefix = "model";
  fugue::io::load_parameters(c, file, lo);
  optim::load_state(oc, file, "optim");
  CHECK(oc.steps() == 3);
  CHECK(oc.lr() == 1e-2 / 3);
  for (int s = 3; s < 5; ++s) {
    oc.set_lr(1e-2 / (s + 1));
    c.set_grads(s + 1);
    oc.step();
  }
  CHECK(same_bits(c.w.value, a.w.value));
  CHECK(same_bits(c.b.value, a.b.value));
  fs::remove_all(dir);
}

TEST_CASE("optimizer state: load errors name the entry and leave the state unchanged", "[optim][state]") {
  Two<float> m;
  optim::Adam<float> opt(m.named());
  m.set_grads(1);
  opt.step();
  const auto good = opt.state_dict();
  SECTION("kind") {
    optim::SGD<float> sgd(m.named(), {.lr = 0.1, .momentum = 0.9});
    CHECK_THROWS_WITH(sgd.load_state_dict(good), Catch::Contains("saved by optimizer 'adam'"));
  }
  SECTION("missing tensor") {
    auto sd = good;
    sd.tensors.erase(sd.tensors.begin());
    CHECK_THROWS_WITH(opt.load_state_dict(sd), Catch::Contains("missing tensor 'exp_avg.w'"));
  }
  SECTION("shape") {
    auto sd = good;
    sd.tensors[0].second = Tensor<float>::zeros({3});
    CHECK_THROWS_WITH(opt.load_state_dict(sd), Catch::Contains("tensor 'exp_avg.w' has shape [3]"));
  }
  SECTION("extra tensor") {
    auto sd = good;
    sd.tensors.emplace_back("exp_avg.nope", Tensor<float>::zeros({1}));
    CHECK_THROWS_WITH(opt.load_state_dict(sd), Catch::Contains("unexpected tensor 'exp_avg.nope'"));
  }
  SECTION("bad metadata") {
    auto sd = good;
    sd.metadata["steps"] = "-1";
    CHECK_THROWS_WITH(opt.load_state_dict(sd), Catch::Contains("steps = '-1'"));
  }
  CHECK(opt.steps() == 1);
  auto now = opt.state_dict();
  REQUIRE(now.tensors.size() == good.tensors.size());
  for (std::size_t i = 0; i < now.tensors.size(); ++i) CHECK(same_bits(now.tensors[i].second, good.tensors[i].second));
}
