#!/usr/bin/env bash
# The whole test suite, from a fresh Debian bookworm machine:
#   installs missing packages, checks the code's format (scripts/format.sh --check), builds,
#   runs every test through ctest, the DSP tests again on the KissFFT engine, then the sanitizer
#   (ASan+UBSan) build of the tests, then bounded fuzzing.
# FUGUE_TEST_QUICK=1 skips the sanitizer pass (for local iteration only).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
start=$(date +%s)
scripts/format.sh --check
# The CUDA backend: its Thrust host tests build whenever the toolkit's headers are there;
# with nvcc present the nvcc test / example / benchmark translation units build too.
export PATH=$PATH:/usr/local/cuda/bin
cuda_args=(-DFUGUE_CUDA=OFF)
if command -v nvcc >/dev/null; then
  cuda_args=(-DFUGUE_CUDA=ON)
  command -v ccache >/dev/null && cuda_args+=(-DCMAKE_CUDA_COMPILER_LAUNCHER=ccache)
else
  echo "fugue: nvcc not found: the CUDA translation units are not built (Thrust host tests still run if CCCL is found)"
fi
scripts/build.sh build "${cuda_args[@]}"
scripts/prepare_dsp_reference.sh || echo "fugue: DSP reference arrays not prepared; the librosa/torch conformance tests will SKIP"
scripts/prepare_torch_reference.sh || echo "fugue: PyTorch layer/optimizer references not prepared; their conformance tests will SKIP"
scripts/prepare_dsp_diff_reference.sh || echo "fugue: differentiable-DSP references not prepared; their conformance tests will SKIP"
# The real corpora for the music_corpus test (every file must parse); Bach capped for time.
scripts/prepare_music_data.sh --bach-limit "${FUGUE_BACH_LIMIT:-60}" || echo "fugue: music corpora not prepared; music_corpus will SKIP"
ctest --test-dir build --output-on-failure --parallel "$(nproc)" --timeout 900
echo "== the KissFFT engine (-DFUGUE_FFT=kissfft, no FFTW): the DSP tests =="
FUGUE_BUILD_TARGETS="test_dsp test_dsp_diff" scripts/build.sh build-kissfft -DFUGUE_FFT=kissfft \
  -DFUGUE_BUILD_BENCHMARKS=OFF -DFUGUE_BUILD_EXAMPLES=OFF -DFUGUE_BUILD_TOOLS=OFF
ctest --test-dir build-kissfft --output-on-failure --parallel "$(nproc)" --timeout 900 -L '^test_dsp'
echo "== CUDA backend: nvcc build and Thrust-host conformance =="
for t in build/tests/backend_cuda/test_cuda_thrust_cpp build/tests/backend_cuda/test_cuda_thrust_omp \
         build/tests/backend_cuda/test_cuda_device build/examples/cuda_backend; do
  if [[ -x $t ]]; then "$t" | grep -E "^(fugue conformance|SKIP|All tests|cuda_backend|test cases)" || exit 1
  else echo "fugue: $t was not built"; fi
done
if [[ ${FUGUE_TEST_QUICK:-0} != 1 ]]; then
  echo "== sanitizer build (ASan + UBSan) =="
  scripts/build.sh build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFUGUE_SANITIZE=ON \
    -DFUGUE_BUILD_BENCHMARKS=OFF -DFUGUE_BUILD_EXAMPLES=OFF
  ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
    ctest --test-dir build-asan --output-on-failure --parallel "$(nproc)" --timeout 900 -LE nosan
fi
echo "fugue: tests finished in $(( $(date +%s) - start )) s"
if [[ ${FUGUE_TEST_QUICK:-0} != 1 ]]; then
  echo "== fuzzing (bounded) =="
  scripts/fuzz.sh "${FUGUE_FUZZ_SECONDS:-60}"
fi
echo "fugue: all stages finished in $(( $(date +%s) - start )) s"
