# Helpers shared by the scripts/compare/<suite>.sh files (sourced by compare.sh).
# A suite file defines run_suite "$@", typically:
#     run_suite() { compare_build bench_x; compare_run "$(compare_bin benchmarks/x/bench_x)" fugue peer "$@"; }
# Benchmarks name their cases "<case>/<impl>" (e.g. sgemm_nn_512_t1/fugue and
# sgemm_nn_512_t1/openblas); compare_run pairs them by <case>.

FUGUE_BUILD_DIR=${FUGUE_BUILD_DIR:-build}
FUGUE_COMPARE_REPS=${FUGUE_COMPARE_REPS:-7}
FUGUE_COMPARE_MIN_TIME=${FUGUE_COMPARE_MIN_TIME:-0.2}

# Configures the build directory the way scripts/build.sh does (Ninja, Release,
# ccache when present) when it has no cache yet, then builds only the targets.
compare_build() {
  local launcher=()
  command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  if [[ ! -f $FUGUE_BUILD_DIR/CMakeCache.txt ]]; then
    cmake -S . -B "$FUGUE_BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release "${launcher[@]}" >&2
  fi
  cmake --build "$FUGUE_BUILD_DIR" --target "$@" >&2
}

compare_bin() { echo "$FUGUE_BUILD_DIR/$1"; }

# compare_run BINARY FUGUE_IMPL PEER_IMPL [extra benchmark args...]
# Runs every case of BINARY (or those matching FUGUE_COMPARE_FILTER) with
# randomly interleaved repetitions and prints the table of medians.
compare_run() {
  local bin=$1 ours=$2 peer=$3
  shift 3
  local tmp
  tmp=$(mktemp -d)
  local filter=()
  [[ -n ${FUGUE_COMPARE_FILTER:-} ]] && filter=(--benchmark_filter="$FUGUE_COMPARE_FILTER")
  "$bin" "${filter[@]}" --benchmark_list_tests=true >"$tmp/order"
  if ! "$bin" "${filter[@]}" \
    --benchmark_repetitions="$FUGUE_COMPARE_REPS" \
    --benchmark_enable_random_interleaving=true \
    --benchmark_min_time="$FUGUE_COMPARE_MIN_TIME" \
    --benchmark_report_aggregates_only=true \
    --benchmark_out="$tmp/out.json" --benchmark_out_format=json \
    "$@" >"$tmp/log" 2>&1; then
    cat "$tmp/log" >&2
    rm -rf "$tmp"
    return 1
  fi
  compare_table "$tmp/out.json" "$ours" "$peer" "$tmp/order"
  rm -rf "$tmp"
}

# compare_table JSON FUGUE_IMPL PEER_IMPL [ORDER_FILE]: medians of real time, in
# ms, cases in the order of ORDER_FILE (the binary's --benchmark_list_tests).
compare_table() {
  python3 - "$@" <<'PY'
import json, sys
path, ours, peer = sys.argv[1:4]
listed = []
if len(sys.argv) > 4:
    for line in open(sys.argv[4]):
        c = line.strip().split("/")[0]
        if c and c not in listed:
            listed.append(c)
scale = {"ns": 1e-6, "us": 1e-3, "ms": 1.0, "s": 1e3}
med, order = {}, []
for b in json.load(open(path))["benchmarks"]:
    if b.get("run_type") != "aggregate" or b.get("aggregate_name") != "median":
        continue
    parts = b["run_name"].split("/")
    case, impl = parts[0], parts[1]
    if case not in med:
        med[case] = {}
        order.append(case)
    med[case][impl] = b["real_time"] * scale[b["time_unit"]]
order.sort(key=lambda c: listed.index(c) if c in listed else len(listed))
print(f"{'case':<28} {ours + '_ms':>12} {peer + '_ms':>12} {'ratio':>7}")
for case in order:
    f, p = med[case].get(ours), med[case].get(peer)
    fs = f"{f:12.4f}" if f is not None else f"{'n/a':>12}"
    ps = f"{p:12.4f}" if p is not None else f"{'n/a':>12}"
    rs = f"{p / f:7.3f}" if f and p else f"{'n/a':>7}"
    print(f"{case:<28} {fs} {ps} {rs}")
PY
}
