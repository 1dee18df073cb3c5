// fugue/autodiff/registry.hpp — which differentiable ops exist, and which were gradchecked.
//
// The rule: every op that records a backward closure has a finite-difference
// check in float64, and forgetting the check fails a test. The mechanism has
// three parts, so it holds across test executables:
//
//  1. Registration, in the op's header, at namespace scope, once per op name:
//         FUGUE_AD_OP(lstm_cell)
//     and the op passes the same name to Tape::record(value, inputs, bw, "lstm_cell").
//     Registration is a static object with internal linkage: every translation
//     unit that includes the header registers the name (deduplicated), with the
//     header's path. Two headers registering one name is reported as a conflict.
//
//  2. Checking, at run time, in the test executable that includes the header:
//     ad::gradcheck() (fugue/autodiff/gradcheck.hpp) watches the tape during its
//     backward pass and, when the check passes, marks every op name whose
//     backward ran as checked. A named op that is not registered makes the check
//     fail. Tests declare their checks as cases, which a single test case runs
//     in one process (ctest runs each Catch test case in its own process, so
//     marks made by separate test cases would not meet):
//         FUGUE_AD_GRADCHECK_CASE(lstm_cell, "batch 3, hidden 5") {
//           return ad::gradcheck(f, {x, h, c});
//         }
//         TEST_CASE("nn: every op gradchecks") {
//           for (auto& r : ad::run_gradcheck_cases()) { INFO(r.summary()); CHECK(r.ok); }
//           CHECK(ad::registry::unchecked("fugue/nn/").empty());   // this module's ops
//         }
//     run_gradcheck_cases() also fails a case whose declared op never ran.
//     unchecked(path_part) lists the registered ops whose header path contains
//     path_part and that no passing gradcheck in this process exercised: each
//     module's test names its own header folder, so a test executable that also
//     includes other modules' headers is not blamed for their ops.
//
//  3. A source scan, cross-executable: tests/autodiff registers a ctest test
//     (autodiff_registry_scan) that reads every header under include/ for
//     FUGUE_AD_OP(name) and every test source under tests/ for
//     FUGUE_AD_GRADCHECK_CASE(name, ...). An op name without a case anywhere
//     fails it, even if its module has no coverage test of its own.
//
// Names are C identifiers (they become part of a variable name). Everything
// here is plain standard C++; no test framework is needed.
#pragma once

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace fugue::ad::registry {

struct State {
  std::map<std::string, std::string, std::less<>> ops;  // name -> registering file
  std::vector<std::string> conflicts;                   // "name: file1 vs file2"
  std::set<std::string, std::less<>> checked;
};

inline State& state() {
  static State s;
  return s;
}

inline std::string normalise_path(std::string_view file) {
  std::string f(file);
  if (auto pos = f.rfind("fugue/"); pos != std::string::npos) f = f.substr(pos);
  return f;
}

inline void register_op(std::string_view name, std::string_view file) {
  State& s = state();
  const std::string f = normalise_path(file);
  auto it = s.ops.find(name);
  if (it == s.ops.end()) {
    s.ops.emplace(std::string(name), f);
  } else if (it->second != f) {
    s.conflicts.push_back(std::string(name) + ": " + it->second + " vs " + f);
  }
}

struct op_registrar {
  op_registrar(const char* name, const char* file) { register_op(name, file); }
};

inline bool is_registered(std::string_view name) { return state().ops.count(name) != 0; }
inline void mark_checked(std::string_view name) { state().checked.emplace(name); }
inline bool is_checked(std::string_view name) { return state().checked.count(name) != 0; }

// All registered op names (with their headers), sorted by name.
inline std::vector<std::pair<std::string, std::string>> registered() {
  return {state().ops.begin(), state().ops.end()};
}

// Registered ops whose header path contains path_part and that no passing
// gradcheck in this process has exercised.
inline std::vector<std::string> unchecked(std::string_view path_part = {}) {
  std::vector<std::string> out;
  for (const auto& [name, file] : state().ops)
    if (file.find(path_part) != std::string::npos && !is_checked(name)) out.push_back(name);
  return out;
}

inline const std::vector<std::string>& conflicts() { return state().conflicts; }

}  // namespace fugue::ad::registry

// Registers a differentiable op name; use once per op, at namespace scope in its header.
#define FUGUE_AD_OP(name) \
  [[maybe_unused]] static const ::fugue::ad::registry::op_registrar fugue_ad_op_registrar_##name{#name, __FILE__};
