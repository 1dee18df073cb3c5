# GEMM / GEMV suite: fugue (cpu::best_arch) against OpenBLAS (cblas_sgemm,
# cblas_sgemv), see benchmarks/gemm/bench_gemm.cpp for the cases, and against
# MKL through the PyTorch peer's torch.mm / torch.mv (benchmarks/gemm/torch_gemm.py,
# the same cases and thread counts; PyTorch 2.x from PyPI is built with MKL).
# Columns: case fugue_ms openblas_ms ratio [mkl_ms mkl_ratio], ratios = peer / fugue.
# The OpenBLAS column is interleaved with fugue in one executable; the MKL column is
# a separate run of the peer interpreter just before it (medians of as many
# repetitions of as long: FUGUE_COMPARE_REPS x FUGUE_COMPARE_MIN_TIME), so it shares
# the machine's noise less closely.
# Environment (besides compare.sh's): FUGUE_PEER / FUGUE_PEER_PYTHON pick the peer
# (common.sh; with FUGUE_PEER=torch113 the extra column is torch 1.13's torch.mm on
# Debian's OpenBLAS, named torch113); FUGUE_COMPARE_MKL=0 leaves the extra column out.
run_suite() {
  compare_build bench_gemm
  local tmp=
  if [[ ${FUGUE_COMPARE_MKL:-1} != 0 ]] && peer_init; then
    local name=mkl
    [[ $PEER_BLAS == mkl ]] || name=torch_$PEER_BLAS
    [[ $PEER_KIND == torch113 ]] && name=torch113
    tmp=$(mktemp)
    local setting filter=()
    [[ -n ${FUGUE_COMPARE_FILTER:-} ]] && filter=(--filter "$FUGUE_COMPARE_FILTER")
    for setting in 1 2; do
      [[ $PEER_KIND == torch113 && $setting == 2 ]] && setting=blas2x2 # 2 torch threads, OpenBLAS at 2
      if ! peer_run "$setting" benchmarks/gemm/torch_gemm.py --reps "$FUGUE_COMPARE_REPS" \
        --min-time "$FUGUE_COMPARE_MIN_TIME" "${filter[@]}" >>"$tmp"; then
        echo "gemm: the peer's torch_gemm.py failed (setting $setting); no $name column" >&2
        : >"$tmp"
        break
      fi
    done
    [[ -s $tmp ]] && COMPARE_EXTRA=("$name=$tmp")
  fi
  # OpenBLAS worker threads keep spinning for a while after a threaded call; on
  # a 2-core machine that would steal a core from whatever runs next (fugue's
  # workers sleep at once). A short timeout keeps the interleaved runs fair.
  local rc=0
  OPENBLAS_THREAD_TIMEOUT=${OPENBLAS_THREAD_TIMEOUT:-4} \
    compare_run "$(compare_bin benchmarks/gemm/bench_gemm)" fugue openblas "$@" || rc=$?
  [[ -n $tmp ]] && rm -f "$tmp"
  return "$rc"
}
