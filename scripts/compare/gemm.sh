# GEMM / GEMV suite: fugue (cpu::best_arch) against OpenBLAS (cblas_sgemm,
# cblas_sgemv), see benchmarks/gemm/bench_gemm.cpp for the cases.
run_suite() {
  compare_build bench_gemm
  # OpenBLAS worker threads keep spinning for a while after a threaded call; on
  # a 2-core machine that would steal a core from whatever runs next (fugue's
  # workers sleep at once). A short timeout keeps the interleaved runs fair.
  OPENBLAS_THREAD_TIMEOUT=${OPENBLAS_THREAD_TIMEOUT:-4} \
    compare_run "$(compare_bin benchmarks/gemm/bench_gemm)" fugue openblas "$@"
}
