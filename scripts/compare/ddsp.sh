#!/usr/bin/env bash
# DDSP model suite (benchmarks/ddsp_model/bench_ddsp_model.cpp) vs PyTorch
# (benchmarks/ddsp_model/torch_ddsp_model.py under the peer interpreter of common.sh: PyTorch 2.x from the
# pinned venv of scripts/peer_env.sh by default, Debian's 1.13 with FUGUE_PEER=torch113), float32, DDSP's
# "solo_instrument" model (spec /work/shared/specs/ddsp.md §3-§6: RnnFcDecoder with FcStacks 3 x 512 and a
# GRU 512, 4,801,150 decoder parameters; harmonic synth with 60 harmonics + filtered noise with 65 bands,
# trainable 48000-tap reverb; multi-scale spectral loss 2048..64; Adam lr 3e-4, eps 1e-7, global-norm
# clipping 3.0), 16 kHz, 4-s examples (64000 samples, 1000 frames).
# Prints "case fugue_ms peer_ms ratio" with ratio = peer_ms / fugue_ms (> 1: fugue faster), then one line
# "stream_rtf_<block> <rtf>" per streaming block size (fugue only, no peer).
# Cases:
#   train_step_b8   one full training step at batch 8 (fugue: BM_train_step_b8/<threads>; torch: the same
#                   model, autograd, clip_grad_norm_(3.0), torch.optim.Adam), fixed random batches
#                   (f0 200..800 Hz, loudness -60..-10 dB; fugue draws them i.i.d. per frame with white-noise
#                   target audio, torch smooth curves with a sum of sines: the content does not change
#                   the work either side does).
#   stream_rtf      real-time factor of streaming synthesis (ddsp::Streamer on configs::vst_16k) on 1
#                   thread, blocks of 64, 128, 512, 2048 samples: the `rtf` counter (seconds of audio per
#                   second of wall time) of the median aggregate of BM_stream_rtf/<block>/real_time;
#                   stream_rtf_f16 the same with binary16 GRU weights (BM_stream_rtf_f16).
# Suffixes (train_step_b8): _2core = each side's best 2-core setting (fugue: the faster of 1 and 2 threads;
# torch 2.x: the faster of 2 and 1 threads, torch.set_num_threads(n) with OMP_NUM_THREADS=MKL_NUM_THREADS=n;
# torch 1.13: the faster of 1 torch thread and 2 torch threads, both with OPENBLAS_NUM_THREADS=OMP_NUM_THREADS=2);
# _1v1 = one thread each.
# Times are MEDIANS over the repetitions on both sides (this machine is noisy): fugue = Google Benchmark's
# median aggregate of FUGUE_COMPARE_REPS repetitions of >= FUGUE_COMPARE_MIN_TIME s each (randomly
# interleaved; at min time 0 one step per repetition); torch = the median over as many repetitions of the
# mean time per call within one repetition of >= FUGUE_COMPARE_MIN_TIME s (after one warm-up step).
# One torch step takes seconds (~7 s on 1 thread here with 1.13): at the defaults the torch runs (6 steps each;
# two settings with 2.x, three with 1.13) take minutes on a quiet machine; torch's 2-thread run (OpenMP threads
# on 2 cores) slows down several-fold when other work shares the cores. FUGUE_COMPARE_REPS=1 also works (Google
# Benchmark then reports the single run instead of aggregates).
# The train-step and the streaming cases run as two separate invocations of bench_ddsp_model (Google
# Benchmark's CSV reporter requires every run to have the counters of the first one it printed).
# Usage: scripts/compare/ddsp.sh [build-dir]   (default: $FUGUE_BUILD_DIR or build/)
# Environment: FUGUE_COMPARE_REPS (default 5 here), FUGUE_COMPARE_MIN_TIME (default 0 here: one training
#              step per repetition), FUGUE_COMPARE_STREAM_MIN_TIME (seconds per repetition of the streaming
#              cases, default 0.5), FUGUE_COMPARE_FILTER (regex on the case names train_step_b8,
#              stream_rtf_64, stream_rtf_128, stream_rtf_512, stream_rtf_2048; default all),
#              FUGUE_PEER / FUGUE_PEER_PYTHON (the peer, see common.sh).
set -euo pipefail
cd "$(dirname "$0")/../.."
dir=${1:-${FUGUE_BUILD_DIR:-build}}
reps=${FUGUE_COMPARE_REPS:-5}
min_time=${FUGUE_COMPARE_MIN_TIME:-0}
stream_min_time=${FUGUE_COMPARE_STREAM_MIN_TIME:-0.5}
filter=${FUGUE_COMPARE_FILTER:-.}
# shellcheck source=scripts/compare/common.sh
source scripts/compare/common.sh
peer=benchmarks/ddsp_model/torch_ddsp_model.py
target=bench_ddsp_model

cases=()
[[ train_step_b8 =~ $filter ]] && cases+=(train_step_b8)
blocks=()
for b in 64 128 512 2048; do
  [[ stream_rtf_$b =~ $filter ]] && blocks+=("$b")
done
if ((${#cases[@]} + ${#blocks[@]} == 0)); then
  echo "ddsp.sh: no case matches FUGUE_COMPARE_FILTER='$filter'" >&2
  exit 2
fi
if ((${#cases[@]} > 0)) && ! peer_init blas2 blas2x2; then
  echo "SKIP: ${cases[*]} (no torch peer)" >&2
  cases=()
  ((${#blocks[@]} > 0)) || exit 0
fi

if [[ ! -f $dir/CMakeCache.txt ]]; then
  launcher=()
  command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=Release "${launcher[@]}" >/dev/null
fi
if ! log=$(cmake --build "$dir" --target "$target" 2>&1); then
  if grep -qE "unknown target|No rule to make target" <<<"$log"; then
    echo "ddsp.sh: build target '$target' does not exist in $dir (benchmarks/ddsp_model/bench_ddsp_model.cpp" \
      "and its fugue_add_benchmark entry are missing?)" >&2
  else
    tail -n 40 <<<"$log" >&2
    echo "ddsp.sh: building '$target' in $dir failed (log tail above)" >&2
  fi
  exit 1
fi
bench=$dir/benchmarks/ddsp_model/$target
if [[ ! -x $bench ]]; then
  echo "ddsp.sh: $bench does not exist after building '$target'" >&2
  exit 1
fi

# Google Benchmark CSV (median aggregates; with a single repetition Google Benchmark reports no aggregates,
# then the plain runs) -> "case arg ms rtf" lines; columns are found by the header's names (user counters
# are extra columns named after the counter, quoted); rtf is "-" without that column.
parse_csv() {
  awk -F, -v reps="$reps" '
    $1 == "name" { for (i = 1; i <= NF; i++) { h = $i; gsub(/"/, "", h); col[h] = i }; next }
    /^"BM_.*_median"/ || (reps + 0 <= 1 && /^"BM_.*\/real_time"/) {
      n = $1; gsub(/"/, "", n); sub(/^BM_/, "", n); sub(/_median$/, "", n); split(n, p, "/")
      t = $col["real_time"] + 0; u = $col["time_unit"]; gsub(/"/, "", u)
      if (u == "us") t /= 1000; else if (u == "ns") t /= 1e6; else if (u == "s") t *= 1000
      r = ("rtf" in col && $col["rtf"] != "") ? $col["rtf"] : "-"
      printf "%s %s %.4f %s\n", p[1], p[2], t, r }'
}
run_fugue() {  # $1 filter regex, $2 min time -> "case arg ms rtf" lines
  local err out
  err=$(mktemp)
  if ! out=$("$bench" --benchmark_filter="$1" --benchmark_repetitions="$reps" \
    --benchmark_enable_random_interleaving=true --benchmark_min_time="$2" \
    --benchmark_report_aggregates_only=true --benchmark_format=csv 2>"$err"); then
    tail -n 20 "$err" >&2
    rm -f "$err"
    echo "ddsp.sh: $bench failed (filter $1)" >&2
    return 1
  fi
  rm -f "$err"
  parse_csv <<<"$out"
}
need() {  # $1 what, $2 value: fail clearly on a missing measurement
  if [[ -z $2 ]]; then
    echo "ddsp.sh: no result for $1 (does $target define it?)" >&2
    exit 1
  fi
}

if ((${#cases[@]} > 0)); then
  list=$(IFS=,; echo "${cases[*]}")
  fugue=$(run_fugue "^BM_($(IFS='|'; echo "${cases[*]}"))/[12]/real_time\$" "$min_time")
  peer_sweep "$peer" --reps "$reps" --min-time "$min_time" --cases "$list"
  fpick() { awk -v c="$1" -v t="$2" '$1 == c && $2 == t { print $3 }' <<<"$fugue"; }
  minof() { awk -v a="$1" -v b="$2" 'BEGIN { print (a < b ? a : b) }'; }
  line() { awk -v c="$1" -v f="$2" -v p="$3" 'BEGIN { printf "%-22s %10.4f %10.4f %7.2f\n", c, f, p, p / f }'; }

  echo "case fugue_ms peer_ms ratio"
  for c in "${cases[@]}"; do
    f1=$(fpick "$c" 1)
    f2=$(fpick "$c" 2)
    p2=$(peer_ms "$c" 2core)
    p1=$(peer_ms "$c" 1v1)
    need "BM_$c/1/real_time" "$f1"
    need "BM_$c/2/real_time" "$f2"
    need "torch $c (2-core settings: ${PEER_2CORE[*]})" "$p2"
    need "torch $c (1 thread)" "$p1"
    line "${c}_2core" "$(minof "$f1" "$f2")" "$p2"
    line "${c}_1v1" "$f1" "$p1"
  done
fi

if ((${#blocks[@]} > 0)); then
  stream=$(run_fugue "^BM_stream_rtf(_f16)?/($(IFS='|'; echo "${blocks[*]}"))/real_time\$" "$stream_min_time")
  for kind in stream_rtf stream_rtf_f16; do
    for b in "${blocks[@]}"; do
      r=$(awk -v k="$kind" -v b="$b" '$1 == k && $2 == b { print $4 }' <<<"$stream")
      need "BM_$kind/$b/real_time" "$r"
      if [[ $r == - ]]; then
        echo "ddsp.sh: BM_$kind/$b/real_time reports no 'rtf' counter column" >&2
        exit 1
      fi
      awk -v c="${kind}_$b" -v r="$r" 'BEGIN { printf "%-22s %10.2f\n", c, r }'
    done
  done
fi
