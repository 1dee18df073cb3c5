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
#   OPENBLAS_CORETYPE   the peer OpenBLAS's kernels (default: its own detection, SkylakeX on
#                       AMD AVX-512 CPUs, see below)
#   FUGUE_PEER_PYTHON   the PyTorch peer's interpreter, for every suite with a
#                       benchmarks/*/torch_*.py peer (ddsp, dsp, layers, musicvae, transformer, and
#                       gemm's MKL column). Default: PyTorch 2.x, the venv of scripts/peer_env.sh
#                       (torch and numpy pinned in scripts/peer_requirements.txt, from PyPI, built in
#                       ~/.cache/fugue/peer-venv on first use: several GB of downloads, ~5.4 GB on disk;
#                       never by CI or scripts/test.sh).
#   FUGUE_PEER          torch113: Debian's /usr/bin/python3 with python3-torch 1.13 (OpenBLAS) instead,
#                       the peer of the older tables in docs/benchmarks.md.
# Thread settings of the PyTorch peer (scripts/compare/common.sh): torch 2.x runs with
# torch.set_num_threads(n) and OMP_NUM_THREADS = MKL_NUM_THREADS = n, its "_2core" figure being the
# faster of n = 2 and n = 1 (as fugue's is the faster of 2 and 1 threads); torch 1.13 keeps the
# OpenBLAS settings its tables were measured with (OPENBLAS_NUM_THREADS=2 with 1 or 2 torch threads).
# Each suite logs the peer it ran against ("compare: peer PyTorch <version> (BLAS ...) via <python>").
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

# The peer at its best. Debian bookworm's OpenBLAS (0.3.21) does not recognise AMD Zen 4 / Zen 5
# and runs its AVX2 "Haswell" kernels there: half the speed of its own AVX-512 "SkylakeX" kernels
# on the same CPU (measured on an EPYC family 26: sgemm 2048 143 vs 78 ms). torch 1.13's matmuls
# (FUGUE_PEER=torch113) go through the same OpenBLAS; PyTorch 2.x uses its own MKL and oneDNN, which
# this does not affect. So unless the caller chose a core type, an AMD CPU with the AVX-512
# subsets those kernels use gets OPENBLAS_CORETYPE=SkylakeX (Intel AVX-512 CPUs are detected by
# OpenBLAS itself and keep its choice).
if [[ -z ${OPENBLAS_CORETYPE:-} ]] && [[ -r /proc/cpuinfo ]]; then
  flags=$(grep -m1 '^flags' /proc/cpuinfo || true)
  vendor=$(grep -m1 '^vendor_id' /proc/cpuinfo || true)
  if [[ $vendor == *AuthenticAMD* && " $flags " == *" avx512f "* && " $flags " == *" avx512bw "* &&
        " $flags " == *" avx512vl "* && " $flags " == *" avx512dq "* ]]; then
    export OPENBLAS_CORETYPE=SkylakeX
    echo "compare.sh: AMD AVX-512 CPU: the peer's OpenBLAS runs its SkylakeX kernels (OPENBLAS_CORETYPE=SkylakeX; set OPENBLAS_CORETYPE to override)" >&2
  fi
fi

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
