#!/usr/bin/env bash
# Runs one benchmark suite of fugue against its peer library, side by side in one
# run (interleaved repetitions), and prints one line per case:
#     case  fugue_ms  peer_ms  ratio        (ratio = peer_ms / fugue_ms; > 1: fugue faster)
# with medians over the repetitions.
#
# Usage: scripts/compare.sh <suite> [suite args...]
#   suites: one file per suite, scripts/compare/<suite>.sh (gemm, ...); for the
#   sourced kind (gemm) extra args go to the benchmark executable.
# Environment:
#   FUGUE_BUILD_DIR     build directory (default: build); configured like
#                       scripts/build.sh if needed, and only the suite's target is built
#   FUGUE_COMPARE_REPS  repetitions per case (default 7)
#   FUGUE_COMPARE_MIN_TIME  seconds per repetition (default 0.2)
#   FUGUE_COMPARE_FILTER    regex restricting the cases (default: all of the suite)
set -euo pipefail
cd "$(dirname "$0")/.."

available() {
  local f
  for f in scripts/compare/*.sh; do
    [[ $(basename "$f") == common.sh ]] && continue
    basename "$f" .sh
  done | tr '\n' ' '
}

suite=${1:-}
if [[ -z $suite ]]; then
  echo "usage: scripts/compare.sh <suite> [benchmark args...]; suites: $(available)" >&2
  exit 2
fi
if [[ ! $suite =~ ^[a-z0-9_]+$ || $suite == common || ! -f scripts/compare/$suite.sh ]]; then
  echo "compare.sh: unknown suite '$suite'; available suites: $(available)" >&2
  exit 2
fi
shift

# Two kinds of suite files are accepted:
#  - an executable script is a standalone comparison: it is run with the
#    remaining arguments and prints the table itself;
#  - a non-executable file is sourced after scripts/compare/common.sh and must
#    define run_suite, which gets the remaining arguments (see common.sh).
if [[ -x scripts/compare/$suite.sh ]]; then
  exec "scripts/compare/$suite.sh" "$@"
fi
# shellcheck source=compare/common.sh
source scripts/compare/common.sh
# shellcheck disable=SC1090
source "scripts/compare/$suite.sh"
if ! declare -F run_suite >/dev/null; then
  echo "compare.sh: scripts/compare/$suite.sh does not define run_suite" >&2
  exit 2
fi
run_suite "$@"
