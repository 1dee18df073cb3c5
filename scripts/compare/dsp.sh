#!/usr/bin/env bash
# Differentiable DSP suite (benchmarks/dsp/bench_dsp.cpp) vs PyTorch (benchmarks/dsp/torch_dsp.py under the
# peer interpreter of common.sh: PyTorch 2.x from the pinned venv of scripts/peer_env.sh by default, Debian's
# 1.13 with FUGUE_PEER=torch113), float32, 4 s of audio at 16 kHz (N 64000), batch 1.
# Prints "case fugue_ms peer_ms ratio" with ratio = peer_ms / fugue_ms (> 1: fugue faster).
# Cases (the ops through ad::Tape<float> as a training step uses them; torch: the same algorithm, autograd):
#   spectral_loss_fwdbwd   multi-scale spectral loss (FFT 2048..64, 75% overlap, L1 on |S| and log|S|),
#                          forward + backward w.r.t. the predicted signal
#   harmonic_fwd           harmonic synth, 64 harmonics, 1000 frames -> 64000 samples, inference
#   harmonic_fwdbwd        the same, forward + backward w.r.t. amplitudes and distribution
#   filtered_noise_fwd     filtered noise, 65 bands, 1000 frames -> 64000 samples, inference
#   filtered_noise_fwdbwd  the same, forward + backward w.r.t. the magnitudes
# Suffixes: _2core = each side's best 2-core setting (fugue: the faster of 1 and 2 threads; torch 2.x: the
# faster of 2 and 1 threads, torch.set_num_threads(n) with OMP_NUM_THREADS=MKL_NUM_THREADS=n; torch 1.13:
# the faster of 1 torch thread and 2 torch threads, both with OPENBLAS_NUM_THREADS=OMP_NUM_THREADS=2; the
# FFT-heavy ops gain little from torch threads, the [N, K] elementwise work of the harmonic synth can);
# _1v1 = one thread each.
# Times are MEDIANS over the repetitions on both sides (this machine is noisy): fugue = Google Benchmark's
# median aggregate of FUGUE_COMPARE_REPS repetitions of >= FUGUE_COMPARE_MIN_TIME s each (randomly
# interleaved); torch = the median over as many repetitions of the mean time per call within one
# repetition of >= FUGUE_COMPARE_MIN_TIME s.
# Usage: scripts/compare/dsp.sh [build-dir]   (default: $FUGUE_BUILD_DIR or build/)
# Environment: FUGUE_COMPARE_REPS (default 7), FUGUE_COMPARE_MIN_TIME (default 0.5 here),
#              FUGUE_COMPARE_FILTER (regex on the case names, default all),
#              FUGUE_PEER / FUGUE_PEER_PYTHON (the peer, see common.sh).
set -euo pipefail
cd "$(dirname "$0")/../.."
dir=${1:-${FUGUE_BUILD_DIR:-build}}
reps=${FUGUE_COMPARE_REPS:-7}
min_time=${FUGUE_COMPARE_MIN_TIME:-0.5}
filter=${FUGUE_COMPARE_FILTER:-.}
# shellcheck source=scripts/compare/common.sh
source scripts/compare/common.sh
peer_init blas2 blas2x2 || exit 0
if [[ ! -f $dir/CMakeCache.txt ]]; then
  launcher=()
  command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=Release "${launcher[@]}" >/dev/null
fi
cmake --build "$dir" --target bench_dsp >/dev/null
bench=$dir/benchmarks/dsp/bench_dsp
peer=benchmarks/dsp/torch_dsp.py

cases=()
for c in spectral_loss_fwdbwd harmonic_fwd harmonic_fwdbwd filtered_noise_fwd filtered_noise_fwdbwd; do
  [[ $c =~ $filter ]] && cases+=("$c")
done
if ((${#cases[@]} == 0)); then
  echo "dsp.sh: no case matches FUGUE_COMPARE_FILTER='$filter'" >&2
  exit 2
fi
list=$(IFS=,; echo "${cases[*]}")
regex="^BM_($(IFS='|'; echo "${cases[*]}"))/[12]\$"

# fugue: "case threads ms" lines, the median aggregate of the repetitions
fugue=$("$bench" --benchmark_filter="$regex" --benchmark_repetitions="$reps" \
  --benchmark_enable_random_interleaving=true --benchmark_min_time="$min_time" \
  --benchmark_report_aggregates_only=true --benchmark_format=csv 2>/dev/null |
  awk -F, '/"BM_.*_median"/ {
    n = $1; gsub(/"/, "", n); sub(/^BM_/, "", n); sub(/_median$/, "", n); split(n, p, "/")
    t = $3 + 0; u = $5; gsub(/"/, "", u)
    if (u == "us") t /= 1000; else if (u == "ns") t /= 1e6; else if (u == "s") t *= 1000
    printf "%s %s %.4f\n", p[1], p[2], t }')
peer_sweep "$peer" --reps "$reps" --min-time "$min_time" --cases "$list"
fpick() { awk -v c="$1" -v t="$2" '$1 == c && $2 == t { print $3 }' <<<"$fugue"; }
minof() { awk -v a="$1" -v b="$2" 'BEGIN { print (a < b ? a : b) }'; }
line() { awk -v c="$1" -v f="$2" -v p="$3" 'BEGIN { printf "%-28s %10.4f %10.4f %7.2f\n", c, f, p, p / f }'; }

echo "case fugue_ms peer_ms ratio"
for c in "${cases[@]}"; do
  f1=$(fpick "$c" 1)
  f2=$(fpick "$c" 2)
  line "${c}_2core" "$(minof "$f1" "$f2")" "$(peer_ms "$c" 2core)"
  line "${c}_1v1" "$f1" "$(peer_ms "$c" 1v1)"
done
