#!/usr/bin/env bash
# Layers suite: LSTM / GRU (benchmarks/layers/bench_layers.cpp) vs PyTorch
# (benchmarks/layers/torch_layers.py under the peer interpreter of common.sh: PyTorch 2.x from the pinned
# venv of scripts/peer_env.sh by default, Debian's 1.13 with FUGUE_PEER=torch113), float32.
# Prints "case fugue_ms peer_ms ratio" with ratio = peer_ms / fugue_ms (> 1: fugue faster).
# Cases:
#   lstm_fwd_b1      LSTM(90 -> 512, 2 layers) inference forward, B 1, T 32
#   lstm_fwdbwd_b64  the same, forward + backward (BPTT), B 64, T 32
#   lstm_step_b1     one step() of that stack, B 1
#   gru_step_b1      GRU(512 -> 512) one step(), B 1
# Suffixes: _2core = each side's best 2-core setting (fugue: the faster of 1 and 2
# threads; torch 2.x: the faster of 2 and 1 threads, torch.set_num_threads(n) with
# OMP_NUM_THREADS=MKL_NUM_THREADS=n; torch 1.13: 1 torch thread + OPENBLAS_NUM_THREADS=2,
# its best there); _1v1 = one thread each. Times are the best of the timed runs on both sides.
# Usage: scripts/compare/layers.sh [build-dir]   (default: $FUGUE_BUILD_DIR or build/)
# Environment: FUGUE_COMPARE_REPS (default 5), FUGUE_PEER / FUGUE_PEER_PYTHON (the peer, see common.sh).
set -euo pipefail
cd "$(dirname "$0")/../.."
dir=${1:-${FUGUE_BUILD_DIR:-build}}
reps=${FUGUE_COMPARE_REPS:-5}
# shellcheck source=scripts/compare/common.sh
source scripts/compare/common.sh
peer_init blas2 || exit 0
if [[ ! -f $dir/CMakeCache.txt ]]; then
  launcher=()
  command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=Release "${launcher[@]}" >/dev/null
fi
cmake --build "$dir" --target bench_layers >/dev/null
bench=$dir/benchmarks/layers/bench_layers
peer=benchmarks/layers/torch_layers.py

# fugue: best real time (ms) of the repetitions of BM_<case>/<threads>
fugue_ms() {  # $1 case, $2 threads
  "$bench" --benchmark_filter="^BM_$1/$2(/|\$)" --benchmark_repetitions="$reps" --benchmark_min_time=0.5 \
    --benchmark_format=csv 2>/dev/null |
    awk -F, '/"BM_/ && !/_mean|_median|_stddev|_cv/ {
      t = $3 + 0; u = $5; gsub(/"/, "", u)
      if (u == "us") t /= 1000; else if (u == "ns") t /= 1e6; else if (u == "s") t *= 1000
      if (min == "" || t < min) min = t } END { printf "%.4f", min }'
}
line() { awk -v c="$1" -v f="$2" -v p="$3" 'BEGIN { printf "%-22s %10.4f %10.4f %7.2f\n", c, f, p, p / f }'; }

peer_sweep "$peer" --min-time 2
echo "case fugue_ms peer_ms ratio"
for c in lstm_fwd_b1 lstm_fwdbwd_b64 lstm_step_b1 gru_step_b1; do
  f1=$(fugue_ms "$c" 1)
  f2=$(fugue_ms "$c" 2)
  best=$(awk -v a="$f1" -v b="$f2" 'BEGIN { print (a < b ? a : b) }')
  line "${c}_2core" "$best" "$(peer_ms "$c" 2core)"
  line "${c}_1v1" "$f1" "$(peer_ms "$c" 1v1)"
done
