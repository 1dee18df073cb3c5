#!/usr/bin/env bash
# For the day a machine with an NVIDIA GPU is lent: builds fugue with the CUDA backend for
# that GPU's architecture, runs the whole test suite (the GPU conformance cases of
# test_cuda_device included; they skip only without a GPU), then the GEMM, layer and GPU
# benchmarks. Logs go to $OUT (or build-gpu/gpu-check/) when it is set.
# Usage: scripts/gpu-check.sh [--quick]     --quick: only the CUDA tests and bench_cuda
# Needs: the CUDA toolkit (nvcc on PATH or in /usr/local/cuda/bin) and a driver; the Debian
# packages of scripts/deps.sh (installed here when missing and the network allows).
set -euo pipefail
cd "$(dirname "$0")/.."
quick=0
[[ ${1:-} == --quick ]] && quick=1
out=${OUT:-build-gpu/gpu-check}
mkdir -p "$out"
export PATH=$PATH:/usr/local/cuda/bin
command -v nvcc >/dev/null || { echo "gpu-check: nvcc not found"; exit 2; }
if command -v nvidia-smi >/dev/null; then
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv | tee "$out/gpu.txt"
else
  echo "gpu-check: nvidia-smi not found; the GPU cases will report whether a device is usable" | tee "$out/gpu.txt"
fi
scripts/deps.sh || echo "gpu-check: could not install missing packages; building with what is here"
nproc=$(nproc)
arch=${FUGUE_CUDA_ARCH:-native}
start=$(date +%s)
targets=()
((quick)) && targets=(--target test_cuda_device test_cuda_thrust_cpp test_cuda_thrust_omp cuda_backend bench_cuda)
scripts/build.sh build-gpu -DFUGUE_CUDA=ON "-DCMAKE_CUDA_ARCHITECTURES=$arch" 2>&1 | tail -n 20 | tee "$out/build.txt" \
  || true
cmake --build build-gpu --parallel "$nproc" "${targets[@]}" 2>&1 | tail -n 5 | tee -a "$out/build.txt"
echo "gpu-check: built in $(( $(date +%s) - start )) s" | tee -a "$out/build.txt"

status=0
build-gpu/tests/backend_cuda/test_cuda_device --reporter compact 2>&1 | tee "$out/test_cuda_device.txt" || status=1
build-gpu/examples/cuda_backend 2>&1 | tee "$out/cuda_backend.txt" || status=1
if ((quick)); then
  label=test_cuda
else
  label=""
fi
ctest --test-dir build-gpu --output-on-failure --parallel "$nproc" --timeout 900 ${label:+-L $label} \
  2>&1 | tail -n 40 | tee "$out/ctest.txt" || status=1

build-gpu/benchmarks/cuda/bench_cuda --benchmark_repetitions=3 --benchmark_report_aggregates_only=true \
  2>&1 | tee "$out/bench_cuda.txt" || status=1
if ((!quick)); then
  for b in gemm/bench_gemm layers/bench_layers; do
    [[ -x build-gpu/benchmarks/$b ]] || continue
    build-gpu/benchmarks/$b --benchmark_min_time=0.2 2>&1 | tee "$out/$(basename "$b").txt" || status=1
  done
fi
echo "gpu-check: finished in $(( $(date +%s) - start )) s, status $status" | tee -a "$out/build.txt"
exit $status
