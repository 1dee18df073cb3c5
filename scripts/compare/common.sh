# Helpers shared by the scripts/compare/<suite>.sh files (sourced by compare.sh).
# A suite file defines run_suite "$@", typically:
#     run_suite() { compare_build bench_x; compare_run "$(compare_bin benchmarks/x/bench_x)" fugue peer "$@"; }
# Benchmarks name their cases "<case>/<impl>" (e.g. sgemm_nn_512_t1/fugue and
# sgemm_nn_512_t1/openblas); compare_run pairs them by <case>.

FUGUE_BUILD_DIR=${FUGUE_BUILD_DIR:-build}
FUGUE_COMPARE_REPS=${FUGUE_COMPARE_REPS:-7}
FUGUE_COMPARE_MIN_TIME=${FUGUE_COMPARE_MIN_TIME:-0.2}
COMPARE_EXTRA=()

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
# COMPARE_EXTRA (array of NAME=FILE, default empty): more peers measured outside
# BINARY, FILE holding "<case> <ms>" lines; each adds the columns NAME_ms and
# NAME_ratio (= NAME_ms / fugue_ms) after the first four.
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
  local e extra=()
  for e in "${COMPARE_EXTRA[@]}"; do extra+=(--extra "$e"); done
  compare_table "$tmp/out.json" "$ours" "$peer" "$tmp/order" "${extra[@]}"
  rm -rf "$tmp"
}

# compare_table JSON FUGUE_IMPL PEER_IMPL [ORDER_FILE] [--extra NAME=FILE]...: medians
# of real time, in ms, cases in the order of ORDER_FILE (the binary's
# --benchmark_list_tests); each --extra adds NAME_ms / NAME_ratio columns from FILE's
# "<case> <ms>" lines.
compare_table() {
  python3 - "$@" <<'PY'
import json, sys
args = sys.argv[1:]
extras = []
while "--extra" in args:
    i = args.index("--extra")
    name, _, f = args[i + 1].partition("=")
    extras.append((name, {l.split()[0]: float(l.split()[1]) for l in open(f) if len(l.split()) >= 2}))
    del args[i:i + 2]
path, ours, peer = args[:3]
listed = []
if len(args) > 3:
    for line in open(args[3]):
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
head = f"{'case':<28} {ours + '_ms':>12} {peer + '_ms':>12} {'ratio':>7}"
for name, _ in extras:
    head += f" {name + '_ms':>12} {name + '_ratio':>{max(7, len(name) + 6)}}"
print(head)
for case in order:
    f, p = med[case].get(ours), med[case].get(peer)
    fs = f"{f:12.4f}" if f is not None else f"{'n/a':>12}"
    ps = f"{p:12.4f}" if p is not None else f"{'n/a':>12}"
    rs = f"{p / f:7.3f}" if f and p else f"{'n/a':>7}"
    row = f"{case:<28} {fs} {ps} {rs}"
    for name, vals in extras:
        w = max(7, len(name) + 6)
        x = vals.get(case)
        row += f" {x:12.4f}" if x is not None else f" {'n/a':>12}"
        row += f" {x / f:{w}.3f}" if f and x else f" {'n/a':>{w}}"
    print(row)
PY
}

# ---------------------------------------------------------------------------------------------------
# The PyTorch peer (the suites with a benchmarks/*/torch_*.py script; the executable suites source this
# file too). One setting picks it:
#   FUGUE_PEER_PYTHON   the peer interpreter. Default: the pinned PyTorch 2.x venv,
#                       `scripts/peer_env.sh --python` (built on first use: several GB from PyPI);
#                       with FUGUE_PEER=torch113: Debian's /usr/bin/python3 (python3-torch 1.13, OpenBLAS),
#                       kept for the history of docs/benchmarks.md.
# The thread settings follow the torch the interpreter imports:
#   torch 2.x  setting N = torch.set_num_threads(N) with OMP_NUM_THREADS = MKL_NUM_THREADS = N (MKL's and
#              oneDNN's threads are torch's OpenMP threads); the "_2core" case takes the faster of N = 2
#              and N = 1, as fugue's side takes the faster of 2 and 1 threads.
#   torch 1.x  (FUGUE_PEER=torch113) the settings the tables of docs/benchmarks.md were measured with:
#              blas2 = 1 torch thread + OPENBLAS_NUM_THREADS = OMP_NUM_THREADS = 2, blas2x2 = the same with
#              2 torch threads, 1 = one thread everywhere; "_2core" = the suite's historical choice.
# A suite calls peer_init [its torch 1.x 2-core settings] once, then peer_sweep SCRIPT ARGS... (runs SCRIPT
# once per setting with --threads added) and peer_ms CASE 2core|1v1 (the case's time, column 2 of the
# script's "<case> <ms> ..." lines).

# peer_init [TORCH1_2CORE_SETTINGS...]: resolves the peer into PEER_PY, PEER_KIND (torch2 | torch113),
# PEER_BLAS (mkl | openblas | ...), PEER_DESC (one line for the logs); PEER_2CORE / PEER_SETTINGS (arrays).
# Returns 1 (after saying why) when the interpreter cannot import torch; exits when the PyTorch 2.x venv
# cannot be built (a broken default peer should not read as a skip).
peer_init() {
  local legacy=("$@") root info
  root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
  ((${#legacy[@]})) || legacy=(blas2)
  case ${FUGUE_PEER:-torch2} in
    torch2 | torch113) ;;
    *)
      echo "compare: FUGUE_PEER='${FUGUE_PEER}' is not torch2 (default) or torch113" >&2
      exit 2
      ;;
  esac
  if [[ -n ${FUGUE_PEER_PYTHON:-} ]]; then
    PEER_PY=$FUGUE_PEER_PYTHON
  elif [[ ${FUGUE_PEER:-torch2} == torch113 ]]; then
    PEER_PY=/usr/bin/python3
  elif ! PEER_PY=$("$root/scripts/peer_env.sh" --python); then
    echo "compare: could not build the PyTorch 2.x peer (scripts/peer_env.sh above); FUGUE_PEER=torch113 runs" \
      "against Debian's PyTorch 1.13 instead, FUGUE_PEER_PYTHON=<python> against any other torch" >&2
    exit 1
  fi
  if ! info=$("$PEER_PY" - 2>/dev/null <<'PY'
import re, torch
cfg = torch.__config__.show()
blas = re.search(r"BLAS_INFO=(\w+)", cfg)
blas = blas.group(1) if blas else "unknown"
if blas == "generic":  # Debian's torch calls the system libblas.so.3: name the library it got
    torch.mm(torch.ones(64, 64), torch.ones(64, 64))
    maps = open("/proc/self/maps").read().lower()
    blas = next((n for n in ("openblas", "blis", "mkl", "atlas") if n in maps), blas)
mkl = re.search(r"Intel\(R\) (?:oneAPI )?Math Kernel Library Version ([\d.]+)", cfg)
dnn = re.search(r"oneDNN\)? v([\d.]+)", cfg) or re.search(r"MKL-DNN.*? v([\d.]+)", cfg)
extra = ", ".join(x for x in (("MKL " + mkl.group(1)) if mkl else "", ("oneDNN " + dnn.group(1)) if dnn else "") if x)
print(torch.__version__.split("+")[0], blas, extra)
PY
  ); then
    if [[ ${FUGUE_PEER:-torch2} == torch113 && -z ${FUGUE_PEER_PYTHON:-} ]]; then
      echo "SKIP: $PEER_PY cannot import torch (apt install python3-torch)" >&2
    else
      echo "SKIP: the peer interpreter $PEER_PY cannot import torch" >&2
    fi
    return 1
  fi
  local ver blas extra
  read -r ver blas extra <<<"$info"
  PEER_BLAS=$blas
  if [[ $ver == 1.* ]]; then
    PEER_KIND=torch113
    PEER_2CORE=("${legacy[@]}")
  else
    PEER_KIND=torch2
    PEER_2CORE=(2 1)
  fi
  [[ ${FUGUE_PEER:-torch2} == torch113 && $PEER_KIND != torch113 ]] &&
    echo "compare: FUGUE_PEER=torch113 but $PEER_PY imports torch $ver: using the torch 2.x thread settings" >&2
  PEER_SETTINGS=()
  local s
  for s in "${PEER_2CORE[@]}" 1; do
    [[ " ${PEER_SETTINGS[*]} " == *" $s "* ]] || PEER_SETTINGS+=("$s")
  done
  PEER_DESC="PyTorch $ver (BLAS $blas${extra:+, $extra}) via $PEER_PY; _2core = best of [${PEER_2CORE[*]}]"
  echo "compare: peer $PEER_DESC" >&2
}

# peer_run SETTING SCRIPT [ARGS...]: runs SCRIPT under the peer with the thread setting (see above), adding
# --threads <torch threads>.
peer_run() {
  local setting=$1
  shift
  local -a env
  case $PEER_KIND:$setting in
    torch2:1 | torch2:2) env=(OMP_NUM_THREADS="$setting" MKL_NUM_THREADS="$setting") ;;
    torch113:1) env=(OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1) ;;
    torch113:blas2) env=(OPENBLAS_NUM_THREADS=2 OMP_NUM_THREADS=2) ;;
    torch113:blas2x2) env=(OPENBLAS_NUM_THREADS=2 OMP_NUM_THREADS=2) ;;
    *)
      echo "compare: peer setting '$setting' is not defined for $PEER_KIND" >&2
      return 2
      ;;
  esac
  local threads=$setting
  [[ $setting == blas2 ]] && threads=1
  [[ $setting == blas2x2 ]] && threads=2
  env "${env[@]}" "$PEER_PY" "$@" --threads "$threads"
}

# peer_sweep SCRIPT [ARGS...]: peer_run for every setting in PEER_SETTINGS; outputs in PEER_OUT[setting].
peer_sweep() {
  declare -gA PEER_OUT=()
  local s out
  for s in "${PEER_SETTINGS[@]}"; do
    if ! out=$(peer_run "$s" "$@"); then
      echo "compare: the peer failed ($PEER_PY $*, setting $s)" >&2
      return 1
    fi
    PEER_OUT[$s]=$out
  done
}

# peer_ms CASE 2core|1v1: the case's time in ms from peer_sweep's outputs (2core: the least over
# PEER_2CORE); empty when a setting's output lacks the case.
peer_ms() {
  local c=$1 which=$2 s v best=
  local -a over=(1)
  [[ $which == 2core ]] && over=("${PEER_2CORE[@]}")
  for s in "${over[@]}"; do
    v=$(awk -v c="$c" '$1 == c { print $2; exit }' <<<"${PEER_OUT[$s]:-}")
    [[ -n $v ]] || return 0
    if [[ -z $best ]] || awk -v a="$v" -v b="$best" 'BEGIN { exit !(a < b) }'; then best=$v; fi
  done
  echo "$best"
}
