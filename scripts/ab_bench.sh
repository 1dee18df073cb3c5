#!/usr/bin/env bash
# Old against new: one Google Benchmark binary built from two revisions, run alternately
# (old, new, old, new, ...) so that both see the same machine noise, one repetition per run.
# Prints, per case, the median real time of each side, new/old - 1 (positive: new is slower)
# and each side's spread (min .. max), over the runs.
#
# Usage: scripts/ab_bench.sh OLD_BINARY NEW_BINARY [runs=7] [filter regex] [min_time s=0.3]
# Building the old side: git worktree add /tmp/old REV, then configure and build the same target
# there (scripts/build.sh /tmp/old/build, or cmake + ninja TARGET).
set -euo pipefail
old=$1 new=$2 runs=${3:-7} filter=${4:-.} min_time=${5:-0.3}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for ((i = 0; i < runs; ++i)); do
  for side in old new; do
    bin=$old
    [[ $side == new ]] && bin=$new
    "$bin" --benchmark_filter="$filter" --benchmark_min_time="$min_time" \
      --benchmark_out="$tmp/$side.$i.json" --benchmark_out_format=json >/dev/null 2>"$tmp/err" ||
      { cat "$tmp/err" >&2; exit 1; }
  done
done
python3 - "$tmp" "$runs" <<'PY'
import json, statistics, sys, glob, os
tmp, runs = sys.argv[1], int(sys.argv[2])
times = {"old": {}, "new": {}}
order = []
for side in ("old", "new"):
    for i in range(runs):
        for b in json.load(open(os.path.join(tmp, f"{side}.{i}.json")))["benchmarks"]:
            if b.get("run_type", "iteration") != "iteration":
                continue
            name = b["name"]
            if name not in order:
                order.append(name)
            scale = {"ns": 1e-6, "us": 1e-3, "ms": 1.0, "s": 1e3}[b["time_unit"]]
            times[side].setdefault(name, []).append(b["real_time"] * scale)
w = max(len(n) for n in order)
print(f"{'case':<{w}}  {'old_ms':>10}  {'new_ms':>10}  {'new/old-1':>9}  old spread           new spread")
for n in order:
    o, m = times["old"].get(n, []), times["new"].get(n, [])
    if not o or not m:
        continue
    mo, mn = statistics.median(o), statistics.median(m)
    print(f"{n:<{w}}  {mo:10.4f}  {mn:10.4f}  {100 * (mn / mo - 1):+8.1f}%  "
          f"{min(o):8.4f}..{max(o):<8.4f}  {min(m):8.4f}..{max(m):<8.4f}")
PY
