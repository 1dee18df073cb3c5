#!/usr/bin/env bash
# Transformer encoder layer (d 512, 8 heads, ff 2048, B=8, S=256, float32) forward+backward
# and eval forward: fugue vs PyTorch 1.13 (Debian's /usr/bin/python3).
# Prints "case fugue_ms peer_ms ratio" with ratio = peer_ms / fugue_ms (>= 1.0: fugue is faster).
# Cases: *_2core = fugue 2 threads vs torch 1 thread + OPENBLAS_NUM_THREADS=2 (torch's best
# 2-core setting here); *_1v1 = 1 thread each. Times are the best of the timed iterations.
# Usage: scripts/compare/transformer.sh [build-dir]   (default build/)
set -euo pipefail
cd "$(dirname "$0")/../.."
dir=${1:-build}
if [[ ! -f $dir/CMakeCache.txt ]]; then
  cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
fi
cmake --build "$dir" --target bench_transformer >/dev/null
bench=$dir/benchmarks/transformer/bench_transformer
py=/usr/bin/python3
peer=benchmarks/transformer/torch_transformer.py

# fugue: best of 5 repetitions (min of real time), per benchmark name
fugue_ms() {  # $1 = benchmark regex
  "$bench" --benchmark_filter="$1" --benchmark_repetitions=5 --benchmark_min_time=1 \
    --benchmark_format=csv 2>/dev/null |
    awk -F, '/"BM_/ && !/_mean|_median|_stddev|_cv/ { t=$3+0; if (min=="" || t<min) min=t } END { printf "%.1f", min }'
}
torch_ms() {  # $1 = openblas threads, $2 = torch threads, $3 = case (fwd_bwd|fwd)
  OPENBLAS_NUM_THREADS=$1 OMP_NUM_THREADS=$1 "$py" "$peer" --threads "$2" --min-time 3 | awk -v c="$3" '$1==c {printf "%.1f", $2}'
}

if ! "$py" -c 'import torch' 2>/dev/null; then
  echo "SKIP: $py cannot import torch (apt install python3-torch)" >&2
  exit 0
fi
t2=$(OPENBLAS_NUM_THREADS=2 OMP_NUM_THREADS=2 "$py" "$peer" --threads 1 --min-time 3)
t1=$(OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 "$py" "$peer" --threads 1 --min-time 3)
pick() { awk -v c="$2" '$1==c {printf "%.1f", $2}' <<<"$1"; }

printf '%-22s %10s %10s %7s\n' case fugue_ms peer_ms ratio
row() { printf '%-22s %10s %10s %7.2f\n' "$1" "$2" "$3" "$(awk -v a="$2" -v b="$3" 'BEGIN{print b/a}')"; }
row fwd_bwd_2core "$(fugue_ms 'BM_transformer_encoder_layer/2/')" "$(pick "$t2" fwd_bwd)"
row fwd_bwd_1v1 "$(fugue_ms 'BM_transformer_encoder_layer/1/')" "$(pick "$t1" fwd_bwd)"
row fwd_eval_2core "$(fugue_ms 'BM_transformer_encoder_layer_forward/2/')" "$(pick "$t2" fwd)"
row fwd_eval_1v1 "$(fugue_ms 'BM_transformer_encoder_layer_forward/1/')" "$(pick "$t1" fwd)"
