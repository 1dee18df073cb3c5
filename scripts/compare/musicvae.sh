#!/usr/bin/env bash
# MusicVAE suite (benchmarks/music_vae/bench_music_vae.cpp) vs PyTorch
# (benchmarks/music_vae/torch_music_vae.py under the peer interpreter of common.sh: PyTorch 2.x from the
# pinned venv of scripts/peer_env.sh by default, Debian's 1.13 with FUGUE_PEER=torch113), float32, config
# cat-mel_2bar_small (fugue::models::music_vae::configs::cat_mel_2bar_small<float>: bi-LSTM 512
# encoder, z 256, 2-layer LSTM 256 decoder, 90 classes, 2 bars = 32 steps).
# Prints "case fugue_ms peer_ms ratio" with ratio = peer_ms / fugue_ms (> 1: fugue faster).
# Cases:
#   train_step_b64  one full training step, batch 64, 32 steps (fugue: Trainer::step(batch); torch:
#                   the same architecture, autograd, clip_grad_norm_(1.0), torch.optim.Adam). Both
#                   sides run WITHOUT scheduled sampling (fugue sets hp.sampling = {} on the config's
#                   hparams, torch always teacher-forces), so they do the same work; with the
#                   config's inverse_sigmoid schedule fugue would add a no-grad decoder pre-pass.
#                   Fixed random melody batch (class ids in [0, 90)).
#   sample_b1_32    one 32-step sampling pass at batch 1 from a fixed z, temperature 0.5 (fugue:
#                   model.decode(z, 32, 0.5, rng); torch: two nn.LSTMCell per step, softmax /
#                   temperature, torch.multinomial, one-hot of the token concatenated with z).
# Suffixes: _2core = each side's best 2-core setting (fugue: the faster of 1 and 2 threads; torch 2.x: the
# faster of 2 and 1 threads, torch.set_num_threads(n) with OMP_NUM_THREADS=MKL_NUM_THREADS=n; torch 1.13:
# the faster of 1 torch thread and 2 torch threads, both with OPENBLAS_NUM_THREADS=OMP_NUM_THREADS=2);
# _1v1 = one thread each.
# Times are MEDIANS over the repetitions on both sides (this machine is noisy): fugue = Google Benchmark's
# median aggregate of FUGUE_COMPARE_REPS repetitions of >= FUGUE_COMPARE_MIN_TIME s each (randomly
# interleaved); torch = the median over as many repetitions of the mean time per call within one
# repetition of >= FUGUE_COMPARE_MIN_TIME s.
# Usage: scripts/compare/musicvae.sh [build-dir]   (default: $FUGUE_BUILD_DIR or build/)
# Environment: FUGUE_COMPARE_REPS (default 7), FUGUE_COMPARE_MIN_TIME (default 0.5 here),
#              FUGUE_COMPARE_FILTER (regex on the case names, default all),
#              FUGUE_PEER / FUGUE_PEER_PYTHON (the peer, see common.sh).
set -euo pipefail
cd "$(dirname "$0")/../.."
dir=${1:-${FUGUE_BUILD_DIR:-build}}
reps=${FUGUE_COMPARE_REPS:-7}
min_time=${FUGUE_COMPARE_MIN_TIME:-0.5}
filter=${FUGUE_COMPARE_FILTER:-.}
peer=benchmarks/music_vae/torch_music_vae.py
# shellcheck source=scripts/compare/common.sh
source scripts/compare/common.sh
peer_init blas2 blas2x2 || exit 0

cases=()
for c in train_step_b64 sample_b1_32; do
  [[ $c =~ $filter ]] && cases+=("$c")
done
if ((${#cases[@]} == 0)); then
  echo "musicvae.sh: no case matches FUGUE_COMPARE_FILTER='$filter'" >&2
  exit 2
fi

if [[ ! -f $dir/CMakeCache.txt ]]; then
  launcher=()
  command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=Release "${launcher[@]}" >/dev/null
fi
cmake --build "$dir" --target bench_music_vae >/dev/null
bench=$dir/benchmarks/music_vae/bench_music_vae

list=$(IFS=,; echo "${cases[*]}")
regex="^BM_($(IFS='|'; echo "${cases[*]}"))/[12]/real_time\$"

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
line() { awk -v c="$1" -v f="$2" -v p="$3" 'BEGIN { printf "%-22s %10.4f %10.4f %7.2f\n", c, f, p, p / f }'; }

echo "case fugue_ms peer_ms ratio"
for c in "${cases[@]}"; do
  f1=$(fpick "$c" 1)
  f2=$(fpick "$c" 2)
  line "${c}_2core" "$(minof "$f1" "$f2")" "$(peer_ms "$c" 2core)"
  line "${c}_1v1" "$f1" "$(peer_ms "$c" 1v1)"
done
