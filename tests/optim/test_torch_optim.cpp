// Conformance with PyTorch 1.13: the reference files of scripts/prepare_torch_reference.sh
// (layout in tests/nn/README.md), read from $FUGUE_TORCH_REF, else
// ${FUGUE_DATA:-$HOME/.cache/fugue}/torch_ref/. Absent files: one SKIP line, no failure.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "fugue/io/json.hpp"
#include "fugue/io/safetensors.hpp"
#include "fugue/ops/linalg.hpp"
#include "fugue/ops/reduce.hpp"
#include "fugue/optim.hpp"

namespace fs = std::filesystem;
using fugue::Tensor;
using fugue::ad::Parameter;
using fugue::io::SafetensorsFile;
namespace optim = fugue::optim;

namespace {
fs::path reference_dir() {
  if (const char* e = std::getenv("FUGUE_TORCH_REF"); e && *e) return e;
  if (const char* d = std::getenv("FUGUE_DATA"); d && *d) return fs::path(d) / "torch_ref";
  const char* home = std::getenv("HOME");
  return fs::path(home ? home : ".") / ".cache" / "fugue" / "torch_ref";
}

// The reference file of a case, or nullopt after printing one SKIP line for the whole run.
std::optional<SafetensorsFile> open_case(const std::string& name) {
  const fs::path p = reference_dir() / (name + ".safetensors");
  if (fs::exists(p)) return SafetensorsFile::open(p);
  static bool said = false;
  if (!said) {
    std::printf("SKIP: PyTorch reference files not found in %s (run scripts/prepare_torch_reference.sh)\n",
                reference_dir().c_str());
    said = true;
  }
  return std::nullopt;
}

// max |a - b| / max |b|
double rel_error(const Tensor<float>& a, const Tensor<float>& b) {
  REQUIRE(a.shape() == b.shape());
  const auto x = a.to_vector(), y = b.to_vector();
  double diff = 0, scale = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    diff = std::max(diff, std::abs(double(x[i]) - double(y[i])));
    scale = std::max(scale, std::abs(double(y[i])));
  }
  return diff / std::max(scale, 1e-30);
}

fugue::json::Value config_of(const SafetensorsFile& f) { return fugue::json::parse(*f.metadata("config")); }

// Runs an optimizer over the reference's steps and compares every intermediate value.
template <class MakeOpt>
void check_optimizer_case(const std::string& name, MakeOpt make) {
  auto f = open_case(name);
  if (!f) return;
  const auto cfg = config_of(*f);
  const auto& names = *cfg.find("param_names");
  const int steps = int(cfg.find("steps")->as_int());
  std::vector<Parameter<float>> params(names.size());
  optim::NamedParameters<float> named;
  for (std::size_t i = 0; i < names.size(); ++i) {
    params[i].value = f->load<float>("param." + names[i].as_string());
    named.emplace_back(names[i].as_string(), &params[i]);
  }
  auto opt = make(named, cfg);
  for (int s = 1; s <= steps; ++s) {
    for (std::size_t i = 0; i < names.size(); ++i)
      params[i].grad = f->load<float>("grad." + std::to_string(s) + ".param." + names[i].as_string());
    opt.step();
    for (std::size_t i = 0; i < names.size(); ++i) {
      const std::string key = "updated." + std::to_string(s) + ".param." + names[i].as_string();
      INFO(name << ": " << key);
      const auto want = f->load<float>(key);
      // The update itself must match to 1e-4 relative (not just the parameter value).
      const auto before = s == 1
                              ? f->load<float>("param." + names[i].as_string())
                              : f->load<float>("updated." + std::to_string(s - 1) + ".param." + names[i].as_string());
      auto got_delta = params[i].value.clone(), want_delta = want.clone();
      for (fugue::index_t k = 0; k < want.numel(); ++k) {
        got_delta.data()[k] -= before.data()[k];
        want_delta.data()[k] -= before.data()[k];
      }
      CHECK(rel_error(params[i].value, want) <= 1e-5);
      CHECK(rel_error(got_delta, want_delta) <= 1e-4);
    }
  }
  // Final optimizer state, slot by slot.
  const auto sd = opt.state_dict();
  int slots = 0;
  for (const auto& info : f->tensors()) {
    if (info.name.rfind("state.", 0) != 0) continue;
    const std::string key = info.name.substr(6);  // "<slot>.<param>", fugue's naming
    const auto* mine = sd.find(key);
    INFO(name << ": " << info.name);
    REQUIRE(mine != nullptr);
    CHECK(rel_error(*mine, f->load<float>(info.name)) <= 1e-4);
    ++slots;
  }
  CHECK(slots >= 2);
}
}  // namespace

TEST_CASE("torch conformance: Adam (L2 weight decay), 3 steps", "[optim][torch]") {
  check_optimizer_case("adam_step", [](const optim::NamedParameters<float>& p, const fugue::json::Value& c) {
    CHECK(c.find("optimizer")->as_string() == "Adam");
    return optim::Adam<float>(p, {.lr = c.find("lr")->as_double(),
                                  .beta1 = (*c.find("betas"))[0].as_double(),
                                  .beta2 = (*c.find("betas"))[1].as_double(),
                                  .eps = c.find("eps")->as_double(),
                                  .weight_decay = c.find("weight_decay")->as_double(),
                                  .amsgrad = c.find("amsgrad")->as_bool()});
  });
}

TEST_CASE("torch conformance: AdamW, 3 steps", "[optim][torch]") {
  check_optimizer_case("adamw_step", [](const optim::NamedParameters<float>& p, const fugue::json::Value& c) {
    CHECK(c.find("optimizer")->as_string() == "AdamW");
    return optim::AdamW<float>(p, {.lr = c.find("lr")->as_double(),
                                   .beta1 = (*c.find("betas"))[0].as_double(),
                                   .beta2 = (*c.find("betas"))[1].as_double(),
                                   .eps = c.find("eps")->as_double(),
                                   .weight_decay = c.find("weight_decay")->as_double(),
                                   .amsgrad = c.find("amsgrad")->as_bool()});
  });
}

TEST_CASE("torch conformance: SGD with momentum, dampening, weight decay; and nesterov", "[optim][torch]") {
  auto make = [](const optim::NamedParameters<float>& p, const fugue::json::Value& c) {
    CHECK(c.find("optimizer")->as_string() == "SGD");
    return optim::SGD<float>(p, {.lr = c.find("lr")->as_double(),
                                 .momentum = c.find("momentum")->as_double(),
                                 .dampening = c.find("dampening")->as_double(),
                                 .weight_decay = c.find("weight_decay")->as_double(),
                                 .nesterov = c.find("nesterov")->as_bool()});
  };
  check_optimizer_case("sgd_momentum_step", make);
  check_optimizer_case("sgd_nesterov_step", make);
}

TEST_CASE("torch conformance: linear forward with ops::linear, and its gradients", "[optim][torch]") {
  auto f = open_case("linear");
  if (!f) return;
  const auto w = f->load<float>("param.weight"), b = f->load<float>("param.bias");
  const auto x = f->load<float>("input.x");
  const auto y = fugue::ops::linear(x, w, &b);
  CHECK(rel_error(y, f->load<float>("output.y")) <= 1e-5);
  // loss = sum(y * seedgrad): dL/dy = seedgrad; dx = g W; dW = g^T x; db = sum over rows of g.
  const auto g = f->load<float>("seedgrad.y");
  const auto g2 = g.reshape({-1, w.dim(0)}), x2 = x.reshape({-1, w.dim(1)});
  CHECK(rel_error(fugue::ops::matmul(g2, w).reshape(x.shape()), f->load<float>("grad.input.x")) <= 1e-4);
  CHECK(rel_error(fugue::ops::matmul(g2.t(), x2), f->load<float>("grad.param.weight")) <= 1e-4);
  auto db = Tensor<float>::zeros({w.dim(0)});
  for (fugue::index_t r = 0; r < g2.dim(0); ++r)
    for (fugue::index_t c = 0; c < g2.dim(1); ++c) db(c) += g2(r, c);
  CHECK(rel_error(db, f->load<float>("grad.param.bias")) <= 1e-4);
  const auto cfg = config_of(*f);
  CHECK(cfg.find("in_features")->as_int() == w.dim(1));
  CHECK(f->metadata("format") == "fugue-torch-ref-1");
}

TEST_CASE("torch reference files: every case is present and well-formed", "[optim][torch]") {
  const char* cases[] = {"linear",           "lstm_stacked",    "lstm_bidirectional",  "gru",
                         "conv1d",           "conv2d",          "conv_transpose2d",    "layer_norm",
                         "batch_norm_train", "batch_norm_eval", "multihead_attention", "transformer_encoder_layer",
                         "adam_step",        "adamw_step",      "sgd_momentum_step"};
  for (const char* c : cases) {
    auto f = open_case(c);
    if (!f) return;
    INFO(c);
    CHECK(f->metadata("case") == c);
    CHECK(config_of(*f).is_object());
    for (const auto& t : f->tensors()) CHECK(t.dtype == fugue::io::Dtype::F32);
    // Layer cases: every output has a seedgrad (except the documented no-loss outputs), every
    // param a grad.
    for (const auto& t : f->tensors()) {
      if (t.name.rfind("param.", 0) == 0 && !config_of(*f).find("optimizer")) CHECK(f->contains("grad." + t.name));
    }
  }
}
