// fugue/train/loop.hpp — the training loop around Trainer::step: time budget, step limit,
// periodic atomic checkpoints, progress lines and a per-step metrics log.
//
// Contract
//  * run(trainer, next_batch, options[, on_step]) calls trainer.step(next_batch()) until the time
//    budget (options.seconds, wall clock from the call) is spent or trainer.steps() reaches
//    options.max_steps (either may be off: 0 s / -1 steps; with both off it refuses to start).
//    on_step(result) runs after every step (the caller's own bookkeeping).
//  * With options.checkpoint set, the trainer is saved there every checkpoint_every_s seconds and
//    once more at the end (Trainer::save is atomic: a crash keeps the previous file).
//  * With options.metrics_csv set, one CSV row per step is appended: step, seconds (since the
//    call), loss, grad_norm, lr, zeroed, then the metrics' fields() when the metrics type has
//    them (a header row first when the file is new or empty).
//  * Progress: a line on options.progress (stderr by default; nullptr: silent) for the first
//    step and then every progress_every_s seconds: step, loss (and its moving average),
//    gradient norm, lr, the metrics' fields() and steps per second.
//  * Returns a RunSummary: steps done in this call, wall seconds, the last result and the
//    exponential moving average of the loss (weight 0.05).
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "fugue/core/error.hpp"

namespace fugue::train {

struct RunOptions {
  double seconds = 0;                // wall-clock budget; 0: none
  std::int64_t max_steps = -1;       // stop when trainer.steps() reaches it; -1: none
  std::filesystem::path checkpoint;  // empty: no checkpoints
  double checkpoint_every_s = 60;
  std::filesystem::path metrics_csv;  // empty: no metrics log
  std::FILE* progress = stderr;       // nullptr: no progress lines
  double progress_every_s = 2;
  std::string label;  // printed in front of each progress line
};

template <class Result>
struct RunSummary {
  std::int64_t steps = 0;  // steps taken in this run
  double seconds = 0;
  double loss_average = 0;  // exponential moving average of the loss (weight 0.05)
  Result last{};
};

namespace detail {
template <class M>
std::vector<std::pair<std::string, double>> metric_fields(const M& m) {
  if constexpr (requires { m.fields(); })
    return m.fields();
  else
    return {};
}

struct ignore_step {
  void operator()(const auto&) const noexcept {}
};
}  // namespace detail

template <class Trainer, class NextBatch, class OnStep = detail::ignore_step>
auto run(Trainer& trainer, NextBatch&& next_batch, const RunOptions& o, OnStep&& on_step = {}) {
  using Result = typename Trainer::result_type;
  using Clock = std::chrono::steady_clock;
  FUGUE_CHECK(o.seconds > 0 || o.max_steps >= 0, "train::run: give a time budget (seconds > 0) or a step limit");
  const auto t0 = Clock::now();
  auto since = [](Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); };
  std::ofstream csv;
  if (!o.metrics_csv.empty()) {
    const bool fresh = !std::filesystem::exists(o.metrics_csv) || std::filesystem::file_size(o.metrics_csv) == 0;
    csv.open(o.metrics_csv, std::ios::app);
    FUGUE_CHECK(csv.good(), "train::run: cannot open the metrics log ", o.metrics_csv.string());
    if (fresh) {
      csv << "step,seconds,loss,grad_norm,lr,zeroed";
      for (const auto& [k, v] : detail::metric_fields(Result{})) csv << ',' << k;
      csv << '\n';
    }
  }
  RunSummary<Result> sum;
  auto last_checkpoint = t0, last_print = t0;
  while (true) {
    if (o.max_steps >= 0 && trainer.steps() >= o.max_steps) break;
    if (o.seconds > 0 && since(t0) >= o.seconds) break;
    const Result r = trainer.step(next_batch());
    ++sum.steps;
    sum.last = r;
    sum.loss_average = sum.steps == 1 ? r.loss : 0.95 * sum.loss_average + 0.05 * r.loss;
    on_step(r);
    const double el = since(t0);
    const auto fields = detail::metric_fields(r);
    if (csv.is_open()) {
      csv << r.step << ',' << el << ',' << r.loss << ',' << r.grad_norm << ',' << r.lr << ',' << int(r.zeroed);
      for (const auto& [k, v] : fields) csv << ',' << v;
      csv << '\n';
      csv.flush();
    }
    if (o.progress && (sum.steps == 1 || since(last_print) >= o.progress_every_s)) {
      std::string extra;
      for (const auto& [k, v] : fields) extra += "  " + k + " " + std::to_string(v);
      std::fprintf(o.progress, "%s%sstep %lld  loss %.4f (avg %.4f)  |g| %.3f  lr %.2e%s  %.2f steps/s  %.0f s\n",
                   o.label.c_str(), o.label.empty() ? "" : " ", (long long)r.step, r.loss, sum.loss_average,
                   r.grad_norm, r.lr, extra.c_str(), double(sum.steps) / std::max(el, 1e-9), el);
      std::fflush(o.progress);
      last_print = Clock::now();
    }
    if (!o.checkpoint.empty() && since(last_checkpoint) >= o.checkpoint_every_s) {
      trainer.save(o.checkpoint);
      last_checkpoint = Clock::now();
    }
  }
  if (!o.checkpoint.empty()) trainer.save(o.checkpoint);
  sum.seconds = since(t0);
  return sum;
}

}  // namespace fugue::train
