// fugue/autodiff/gradcheck.hpp — compare tape gradients with finite differences (float64).
//
// Contract
//  * gradcheck(f, inputs, opts): f is called as f(Tape<double, B>&, std::span<Var<double, B>>)
//    and returns a Var. Each input tensor becomes a grad-requiring leaf. The
//    output is projected onto fixed random weights w (U(-1, 1), opts.seed; w = 1
//    for a single-element output) so that ops whose plain sum is constant
//    (softmax) are still checked. The tape gradient of <w, f> is compared, element
//    by element, with the central difference (g(x + eps) - g(x - eps)) / 2eps.
//  * Inputs may be non-contiguous views (transposes, slices, steps): elements are
//    perturbed through the view, in place, and restored; the view's storage is
//    touched only during the call. Broadcast views (zero strides) are rejected.
//  * gradcheck_params(f, params, opts): the same for Parameters; f is called as
//    f(Tape<double, B>&) and reaches the parameters through tape.param(p).
//    The parameters' .grad is saved and restored around the check.
//  * The Report has the worst absolute and relative errors, the worst element
//    (input, flat row-major index, analytic and numeric values) and
//    ok(rtol, atol): |analytic - numeric| <= atol + rtol |numeric| for every
//    element. report.ok() uses opts.rtol/atol.
//  * Registry side effect: when the check passes with opts' tolerances, every
//    op name whose backward ran is marked checked (fugue/autodiff/registry.hpp);
//    a named op that is not registered makes the report fail (report.problems).
//  * FUGUE_AD_GRADCHECK_CASE(op, "description") { return gradcheck(...); }
//    declares a case; run_gradcheck_cases() runs them all in this process and
//    fails a case whose declared op never ran on the tape.
#pragma once

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "fugue/autodiff/registry.hpp"
#include "fugue/autodiff/tape.hpp"

namespace fugue::ad {

struct GradcheckOptions {
  double eps = 1e-6;
  double rtol = 1e-5;
  double atol = 1e-7;
  std::uint64_t seed = 1234;
};

struct GradcheckReport {
  struct Element {
    int input = -1;
    index_t index = -1;
    double analytic = 0, numeric = 0;
  };
  double max_abs_error = 0;
  double max_rel_error = 0;
  Element worst;                              // element with the largest abs error
  std::vector<std::vector<double>> analytic;  // per input, row-major
  std::vector<std::vector<double>> numeric;
  std::vector<std::string> ops;       // op names whose backward ran
  std::vector<std::string> problems;  // e.g. unregistered op names
  GradcheckOptions options;

  bool ok(double rtol, double atol) const {
    if (!problems.empty()) return false;
    for (std::size_t i = 0; i < analytic.size(); ++i)
      for (std::size_t k = 0; k < analytic[i].size(); ++k) {
        const double a = analytic[i][k], n = numeric[i][k];
        if (!(std::abs(a - n) <= atol + rtol * std::abs(n))) return false;
      }
    return true;
  }
  bool ok() const { return ok(options.rtol, options.atol); }

  std::string summary() const {
    std::ostringstream os;
    os.precision(6);
    os << "max abs error " << max_abs_error << ", max rel error " << max_rel_error;
    if (worst.input >= 0)
      os << "; worst: input " << worst.input << " element " << worst.index << " analytic " << worst.analytic
         << " numeric " << worst.numeric;
    os << "; ops [";
    for (std::size_t i = 0; i < ops.size(); ++i) os << (i ? " " : "") << ops[i];
    os << "]";
    for (const auto& p : problems) os << "; " << p;
    return os.str();
  }
};

namespace detail {

// Calls f(offset) for every element of a view, in row-major order.
template <class F>
void for_each_element(const Shape& s, const Strides& st, F&& f) {
  fugue::detail::for_each_offset2(s, st, st, [&](index_t o, index_t) { f(o); });
}

template <Backend B>
double weighted(const Tensor<double, B>& y, const std::vector<double>& w) {
  const std::vector<double> v = y.to_vector();
  double s = 0;
  for (std::size_t i = 0; i < v.size(); ++i) s += w[i] * v[i];
  return s;
}

inline void finish_report(GradcheckReport& r) {
  for (std::size_t i = 0; i < r.analytic.size(); ++i)
    for (std::size_t k = 0; k < r.analytic[i].size(); ++k) {
      const double a = r.analytic[i][k], n = r.numeric[i][k];
      const double ae = std::abs(a - n);
      const double re = ae / std::max({std::abs(a), std::abs(n), 1e-300});
      if (r.worst.input < 0 || !(ae <= r.max_abs_error)) {  // NaN counts as worst
        r.max_abs_error = ae;
        r.worst = {int(i), index_t(k), a, n};
      }
      if (std::abs(n) > 1e-8 || std::abs(a) > 1e-8) r.max_rel_error = std::max(r.max_rel_error, re);
    }
  for (const auto& name : r.ops)
    if (!registry::is_registered(name))
      r.problems.push_back("op '" + name + "' records a backward but is not registered (FUGUE_AD_OP)");
  if (r.ok())
    for (const auto& name : r.ops) registry::mark_checked(name);
}

inline std::vector<std::string> op_names(const std::vector<const char*>& seen) {
  std::set<std::string> s;
  for (const char* p : seen)
    if (p) s.emplace(p);
  return {s.begin(), s.end()};
}

}  // namespace detail

// Gradcheck over input tensors.
template <Backend B = cpu::native, class F>
  requires B::host_accessible
GradcheckReport gradcheck(F&& f, std::vector<Tensor<double, B>> inputs, GradcheckOptions opts = {}) {
  for (const auto& x : inputs) {
    FUGUE_CHECK(x.defined(), "gradcheck: undefined input");
    for (int d = 0; d < x.rank(); ++d)
      FUGUE_CHECK(x.strides()[d] != 0 || x.dim(d) <= 1, "gradcheck: input of shape ", x.shape().str(),
                  " is a broadcast view; pass a materialised tensor");
  }
  GradcheckReport r;
  r.options = opts;
  Tape<double, B> tape;
  std::vector<Var<double, B>> vars;
  auto run = [&](bool grad) {
    tape.clear();
    tape.seed(opts.seed);  // random ops (dropout) draw the same streams in every evaluation
    vars.clear();
    for (const auto& x : inputs) vars.push_back(tape.input(x, grad));
    return f(tape, std::span<Var<double, B>>(vars.data(), vars.size()));
  };

  // Analytic.
  Var<double, B> out = run(true);
  const index_t n_out = out.numel();
  std::vector<double> w(std::size_t(n_out), 1.0);
  if (n_out != 1) {
    Philox rng{opts.seed, 77};
    for (std::size_t i = 0; i < w.size(); ++i) w[i] = 2.0 * rng.uniform<double>(i) - 1.0;
  }
  std::vector<const char*> seen;
  tape.set_backward_observer(&seen);
  tape.backward(out, Tensor<double, B>::from(w, out.shape()));
  tape.set_backward_observer(nullptr);
  r.ops = detail::op_names(seen);
  for (auto& v : vars) r.analytic.push_back(v.grad().to_vector());

  // Numeric.
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    Tensor<double, B>& x = inputs[i];
    double* base = x.data();
    std::vector<double> num;
    num.reserve(std::size_t(x.numel()));
    detail::for_each_element(x.shape(), x.strides(), [&](index_t o) {
      const double v0 = base[o];
      double fp, fm;
      {
        base[o] = v0 + opts.eps;
        NoGrad<double, B> ng(tape);
        fp = detail::weighted(run(false).value(), w);
      }
      {
        base[o] = v0 - opts.eps;
        NoGrad<double, B> ng(tape);
        fm = detail::weighted(run(false).value(), w);
      }
      base[o] = v0;
      num.push_back((fp - fm) / (2 * opts.eps));
    });
    r.numeric.push_back(std::move(num));
  }
  tape.clear();
  detail::finish_report(r);
  return r;
}

// Gradcheck over parameters reached through tape.param(p) inside f(tape).
template <Backend B = cpu::native, class F>
  requires B::host_accessible
GradcheckReport gradcheck_params(F&& f, std::vector<Parameter<double, B>*> params, GradcheckOptions opts = {}) {
  GradcheckReport r;
  r.options = opts;
  Tape<double, B> tape;
  std::vector<Tensor<double, B>> saved;
  for (auto* p : params) {
    FUGUE_CHECK(p && p->value.defined(), "gradcheck_params: parameter without a value");
    saved.push_back(p->grad);
    p->grad = Tensor<double, B>();
  }
  tape.seed(opts.seed);
  Var<double, B> out = f(tape);
  const index_t n_out = out.numel();
  std::vector<double> w(std::size_t(n_out), 1.0);
  if (n_out != 1) {
    Philox rng{opts.seed, 77};
    for (std::size_t i = 0; i < w.size(); ++i) w[i] = 2.0 * rng.uniform<double>(i) - 1.0;
  }
  std::vector<const char*> seen;
  tape.set_backward_observer(&seen);
  tape.backward(out, Tensor<double, B>::from(w, out.shape()));
  tape.set_backward_observer(nullptr);
  r.ops = detail::op_names(seen);
  for (auto* p : params)
    r.analytic.push_back(p->grad.defined() ? p->grad.to_vector() : std::vector<double>(std::size_t(p->numel()), 0.0));
  for (auto* p : params) {
    Tensor<double, B>& x = p->value;
    double* base = x.data();
    std::vector<double> num;
    detail::for_each_element(x.shape(), x.strides(), [&](index_t o) {
      const double v0 = base[o];
      double fp, fm;
      base[o] = v0 + opts.eps;
      {
        tape.clear();
        tape.seed(opts.seed);
        NoGrad<double, B> ng(tape);
        fp = detail::weighted(f(tape).value(), w);
      }
      base[o] = v0 - opts.eps;
      {
        tape.clear();
        tape.seed(opts.seed);
        NoGrad<double, B> ng(tape);
        fm = detail::weighted(f(tape).value(), w);
      }
      base[o] = v0;
      num.push_back((fp - fm) / (2 * opts.eps));
    });
    r.numeric.push_back(std::move(num));
  }
  tape.clear();
  for (std::size_t i = 0; i < params.size(); ++i) params[i]->grad = saved[i];
  detail::finish_report(r);
  return r;
}

// --- declared cases -----------------------------------------------------------------
struct GradcheckCase {
  std::string op;
  std::string description;
  const char* file;
  int line;
  GradcheckReport (*fn)();
};

struct GradcheckCaseResult {
  std::string op, description, location;
  bool ok = false;
  GradcheckReport report;
  std::string summary() const {
    return op + " (" + description + ") at " + location + ": " + (ok ? "ok" : "FAILED") + "; " + report.summary();
  }
};

inline std::vector<GradcheckCase>& gradcheck_cases() {
  static std::vector<GradcheckCase> cases;
  return cases;
}

struct gradcheck_case_registrar {
  gradcheck_case_registrar(const char* op, const char* description, const char* file, int line,
                           GradcheckReport (*fn)()) {
    gradcheck_cases().push_back({op, description, file, line, fn});
  }
};

// Runs every declared case in this process (marking checked ops in the registry).
inline std::vector<GradcheckCaseResult> run_gradcheck_cases() {
  std::vector<GradcheckCaseResult> out;
  for (const auto& c : gradcheck_cases()) {
    GradcheckCaseResult res;
    res.op = c.op;
    res.description = c.description;
    res.location = registry::normalise_path(c.file) + ":" + std::to_string(c.line);
    try {
      res.report = c.fn();
      res.ok = res.report.ok();
      if (std::find(res.report.ops.begin(), res.report.ops.end(), c.op) == res.report.ops.end()) {
        res.ok = false;
        res.report.problems.push_back("declared op '" + c.op + "' never ran a backward in this case");
      }
    } catch (const std::exception& e) {
      res.ok = false;
      res.report.problems.push_back(std::string("threw: ") + e.what());
    }
    out.push_back(std::move(res));
  }
  return out;
}

}  // namespace fugue::ad

#define FUGUE_AD_CAT_IMPL(a, b) a##b
#define FUGUE_AD_CAT(a, b) FUGUE_AD_CAT_IMPL(a, b)
// Declares a gradcheck case for op `name`; the body returns a GradcheckReport.
#define FUGUE_AD_GRADCHECK_CASE(name, description)                                                              \
  static ::fugue::ad::GradcheckReport FUGUE_AD_CAT(fugue_ad_gc_fn_, __LINE__)();                                \
  [[maybe_unused]] static const ::fugue::ad::gradcheck_case_registrar FUGUE_AD_CAT(fugue_ad_gc_reg_, __LINE__){ \
      #name, description, __FILE__, __LINE__, &FUGUE_AD_CAT(fugue_ad_gc_fn_, __LINE__)};                        \
  static ::fugue::ad::GradcheckReport FUGUE_AD_CAT(fugue_ad_gc_fn_, __LINE__)()
