#!/usr/bin/env bash
# Transformer encoder layer (d 512, 8 heads, ff 2048, B=8, S=256, float32) forward+backward
# and eval forward: fugue vs PyTorch (benchmarks/transformer/torch_transformer.py under the peer
# interpreter of common.sh: PyTorch 2.x from the pinned venv of scripts/peer_env.sh by default,
# Debian's 1.13 with FUGUE_PEER=torch113).
# Prints "case fugue_ms peer_ms ratio" with ratio = peer_ms / fugue_ms (>= 1.0: fugue is faster).
# Cases: *_2core = fugue 2 threads vs torch's best 2-core setting (2.x: the faster of 2 and 1
# threads, torch.set_num_threads(n) with OMP_NUM_THREADS=MKL_NUM_THREADS=n; 1.13: 1 torch thread
# + OPENBLAS_NUM_THREADS=2, its best there); *_1v1 = 1 thread each. Times are the best of the
# timed iterations.
# Usage: scripts/compare/transformer.sh [build-dir]   (default: $FUGUE_BUILD_DIR or build/)
# Environment: FUGUE_PEER / FUGUE_PEER_PYTHON (the peer, see common.sh).
set -euo pipefail
cd "$(dirname "$0")/../.."
dir=${1:-${FUGUE_BUILD_DIR:-build}}
# shellcheck source=scripts/compare/common.sh
source scripts/compare/common.sh
peer_init blas2 || exit 0
if [[ ! -f $dir/CMakeCache.txt ]]; then
  cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
fi
cmake --build "$dir" --target bench_transformer >/dev/null
bench=$dir/benchmarks/transformer/bench_transformer
peer=benchmarks/transformer/torch_transformer.py

# fugue: best of 5 repetitions (min of real time), per benchmark name
fugue_ms() {  # $1 = benchmark regex
  "$bench" --benchmark_filter="$1" --benchmark_repetitions=5 --benchmark_min_time=1 \
    --benchmark_format=csv 2>/dev/null |
    awk -F, '/"BM_/ && !/_mean|_median|_stddev|_cv/ { t=$3+0; if (min=="" || t<min) min=t } END { printf "%.1f", min }'
}
# torch: best time of each case (column 2 of torch_transformer.py's lines) per setting
peer_sweep "$peer" --min-time 3
pick() { awk -v v="$(peer_ms "$1" "$2")" 'BEGIN { if (v != "") printf "%.1f", v }'; }

printf '%-22s %10s %10s %7s\n' case fugue_ms peer_ms ratio
row() { printf '%-22s %10s %10s %7.2f\n' "$1" "$2" "$3" "$(awk -v a="$2" -v b="$3" 'BEGIN{print b/a}')"; }
row fwd_bwd_2core "$(fugue_ms 'BM_transformer_encoder_layer/2/')" "$(pick fwd_bwd 2core)"
row fwd_bwd_1v1 "$(fugue_ms 'BM_transformer_encoder_layer/1/')" "$(pick fwd_bwd 1v1)"
row fwd_eval_2core "$(fugue_ms 'BM_transformer_encoder_layer_forward/2/')" "$(pick fwd 2core)"
row fwd_eval_1v1 "$(fugue_ms 'BM_transformer_encoder_layer_forward/1/')" "$(pick fwd 1v1)"
