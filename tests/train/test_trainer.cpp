// The shared trainer on a least-squares objective small enough to check by hand: one Linear
// layer fitted to y = x A + c. Each test can fail: the expected values come from closed forms
// (the first step's lr and clip scale) or from a second, independent run.
#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>
#include <vector>
#include <unistd.h>

#include "fugue/autodiff/ops/loss.hpp"
#include "fugue/nn/linear.hpp"
#include "fugue/train/loop.hpp"
#include "fugue/train/metrics.hpp"
#include "fugue/train/trainer.hpp"

using namespace fugue;
using B = cpu::native;
using Tf = Tensor<float, B>;

namespace {

struct Pair {
  Tf x, y;
};

struct Fit {
  double scaled = 0;  // the loss times 10, to see that metrics pass through
  std::vector<std::pair<std::string, double>> fields() const { return {{"scaled", scaled}}; }
};

struct LinearModel {
  nn::Linear<float, B> layer{3, 2, Philox{11, 0}};
  template <class F>
  void visit_parameters(F&& f, std::string_view prefix = {}) {
    layer.visit_parameters(f, nn::join_name(prefix, "layer"));
  }
};

struct LeastSquares {
  using scalar_type = float;
  using backend_type = B;
  using batch_type = Pair;
  using metrics_type = Fit;
  static constexpr std::string_view family = "least-squares";
  static constexpr std::string_view checkpoint_format = "fugue-test-ls-1";

  LinearModel* net;
  double lr = 0.05;
  train::ClipRule rule = train::ClipRule::none();

  LinearModel& model() { return *net; }
  double learning_rate(std::int64_t step) const { return lr / (1.0 + 0.01 * double(step)); }
  train::ClipRule clip() const { return rule; }
  optim::AdamOptions optimizer_options() const { return {}; }
  train::Loss<float, B, Fit> loss(ad::Tape<float, B>& tape, const Pair& b, const train::StepContext&) {
    auto l = ad::mse(net->layer(tape, tape.constant(b.x)), tape.constant(b.y));
    return {l, Fit{10.0 * double(l.value().item())}};
  }
};
static_assert(train::Objective<LeastSquares>);

Pair make_batch(std::uint64_t stream) {
  const auto x = Tf::normal({16, 3}, Philox{3, stream});
  const auto a = Tf::from(std::vector<float>{1, -2, 0.5f, 3, 0.25f, -1}, {3, 2});
  return {x, ops::add_scalar(ops::matmul(x, a), 0.5f)};
}

std::vector<std::vector<float>> weights(LinearModel& m) {
  std::vector<std::vector<float>> v;
  m.visit_parameters([&](const std::string&, ad::Parameter<float, B>& p) { v.push_back(p.value.to_vector()); });
  return v;
}

struct TempDir {
  std::filesystem::path path;
  TempDir() : path(std::filesystem::temp_directory_path() / ("fugue_train_" + std::to_string(::getpid()))) {
    std::filesystem::create_directories(path);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
};

}  // namespace

TEST_CASE("train::Trainer: the loss falls, metrics and schedule pass through", "[train]") {
  LinearModel m;
  train::Trainer<LeastSquares> tr(LeastSquares{&m}, 3);
  const auto b = make_batch(0);
  const auto first = tr.step(b);
  CHECK(first.step == 1);
  CHECK(first.lr == Approx(0.05));
  CHECK(first.scaled == Approx(10 * first.loss));
  train::StepResult<Fit> last;
  for (int i = 0; i < 200; ++i) last = tr.step(b);
  CHECK(tr.steps() == 201);
  CHECK(tr.batches() == 201);
  CHECK(last.lr == Approx(0.05 / (1 + 0.01 * 200)));
  CHECK(last.loss < 0.1 * first.loss);
}

TEST_CASE("train::Trainer: clip rules scale or zero the gradients", "[train]") {
  const auto b = make_batch(1);
  // The gradient norm the first step sees, without clipping.
  LinearModel m0;
  train::Trainer<LeastSquares> t0(LeastSquares{&m0}, 3);
  const double norm = t0.step(b).grad_norm;
  REQUIRE(norm > 0.5);

  // Zeroing: with a threshold below the norm every gradient becomes 0 before the step, so Adam's
  // first step (moments of a zero gradient) leaves the parameters where they were.
  LinearModel m1;
  const auto before = weights(m1);
  LeastSquares zero{&m1};
  zero.rule = train::ClipRule::tf_global_norm_or_zero(1.0, norm / 2);
  train::Trainer<LeastSquares> t1(zero, 3);
  const auto r = t1.step(b);
  CHECK(r.zeroed);
  CHECK(r.grad_norm == Approx(norm));
  CHECK(weights(m1) == before);

  // Clipping: the step still reports the norm before clipping, and the update differs from the
  // unclipped one.
  LinearModel m2;
  LeastSquares clip{&m2};
  clip.rule = train::ClipRule::torch_global_norm(norm / 4);
  train::Trainer<LeastSquares> t2(clip, 3);
  const auto r2 = t2.step(b);
  CHECK_FALSE(r2.zeroed);
  CHECK(r2.grad_norm == Approx(norm));
  CHECK(weights(m2) != before);
}

TEST_CASE("train::Trainer: divergence and a bad learning rate change nothing", "[train]") {
  LinearModel m;
  LeastSquares obj{&m};
  train::Trainer<LeastSquares> tr(obj, 3);
  tr.step(make_batch(0));
  const auto w = weights(m);
  const auto moments = tr.optimizer().state_dict().tensors.size();

  auto bad = make_batch(0);
  bad.y.data()[5] = std::numeric_limits<float>::quiet_NaN();
  CHECK_THROWS_WITH(tr.step(bad), Catch::Contains("training diverged at step 1") && Catch::Contains("the loss is"));
  CHECK(weights(m) == w);
  CHECK(tr.steps() == 1);

  tr.objective().lr = std::numeric_limits<double>::infinity();
  const double lr_before = tr.optimizer().lr();
  CHECK_THROWS_WITH(tr.step(make_batch(0)), Catch::Contains("learning rate at step 1 is inf"));
  CHECK(weights(m) == w);
  CHECK(tr.optimizer().lr() == lr_before);
  CHECK(tr.optimizer().state_dict().tensors.size() == moments);
  CHECK(tr.steps() == 1);
}

TEST_CASE("train::run: step limit, metrics log, checkpoint and bit-exact resume", "[train]") {
  TempDir d;
  auto next = [](auto& trainer) { return [&trainer] { return make_batch(std::uint64_t(trainer.batches())); }; };

  // Reference: 12 uninterrupted steps.
  LinearModel ref;
  train::Trainer<LeastSquares> tref(LeastSquares{&ref}, 5);
  train::RunOptions quiet;
  quiet.progress = nullptr;
  quiet.max_steps = 12;
  const auto all = train::run(tref, next(tref), quiet);
  CHECK(all.steps == 12);
  CHECK(tref.steps() == 12);

  // 7 steps with a checkpoint and a metrics log, then a fresh model resumes to 12.
  train::RunOptions o = quiet;
  o.max_steps = 7;
  o.checkpoint = d.path / "ck.safetensors";
  o.metrics_csv = d.path / "metrics.csv";
  int seen = 0;
  {
    LinearModel a;
    train::Trainer<LeastSquares> ta(LeastSquares{&a}, 5);
    train::run(ta, next(ta), o, [&](const auto& r) { seen = int(r.step); });
  }
  CHECK(seen == 7);
  LinearModel b;
  train::Trainer<LeastSquares> tb(LeastSquares{&b}, 99);
  tb.load(o.checkpoint);
  CHECK(tb.steps() == 7);
  CHECK(tb.batches() == 7);
  CHECK(tb.seed() == 5);
  o.max_steps = 12;
  const auto rest = train::run(tb, next(tb), o);
  CHECK(rest.steps == 5);
  CHECK(weights(b) == weights(ref));

  std::ifstream csv(o.metrics_csv);
  std::string line;
  std::getline(csv, line);
  CHECK(line == "step,seconds,loss,grad_norm,lr,zeroed,scaled");
  int rows = 0;
  while (std::getline(csv, line)) ++rows;
  CHECK(rows == 12);  // appended across both runs, one header

  train::RunOptions none;
  none.progress = nullptr;
  CHECK_THROWS_WITH(train::run(tb, next(tb), none), Catch::Contains("time budget"));
}

TEST_CASE("train: argmax_hits counts rows whose first largest logit is the target", "[train][metrics]") {
  // Rows: clear winner at 2; a tie between 0 and 3 (the first, 0, counts); NaN never wins.
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const auto logits = Tensor<float>::from({0.f, 1.f, 5.f, 2.f,  //
                                           3.f, 1.f, 0.f, 3.f,  //
                                           nan, 4.f, 1.f, nan},
                                          {3, 4});
  CHECK(ops::row_argmax(logits.data() + 8, index_t(4)) == 1);
  const float all_nan[3] = {nan, nan, nan};
  CHECK(ops::row_argmax(all_nan, index_t(3)) == 0);
  const std::vector<int> right{2, 0, 1}, tie_second{2, 3, 1}, wrong{1, 1, 0};
  CHECK(train::argmax_hits(logits, right) == 3);
  CHECK(train::argmax_hits(logits, tie_second) == 2);
  CHECK(train::argmax_hits(logits, wrong) == 0);
  CHECK_THROWS_WITH(train::argmax_hits(logits, std::vector<int>{1, 2}), Catch::Contains("2 targets for 3 rows"));
}
