#!/usr/bin/env bash
# The whole test suite, from a fresh Debian bookworm machine:
#   installs missing packages, builds, runs every test through ctest, then the
#   sanitizer (ASan+UBSan) build of the tests.
# FUGUE_TEST_QUICK=1 skips the sanitizer pass (for local iteration only).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
start=$(date +%s)
scripts/build.sh build
scripts/prepare_dsp_reference.sh || echo "fugue: DSP reference arrays not prepared; the librosa/torch conformance tests will SKIP"
scripts/prepare_torch_reference.sh || echo "fugue: PyTorch layer/optimizer references not prepared; their conformance tests will SKIP"
scripts/prepare_dsp_diff_reference.sh || echo "fugue: differentiable-DSP references not prepared; their conformance tests will SKIP"
# The real corpora for the music_corpus test (every file must parse); Bach capped for time.
scripts/prepare_music_data.sh --bach-limit "${FUGUE_BACH_LIMIT:-60}" || echo "fugue: music corpora not prepared; music_corpus will SKIP"
ctest --test-dir build --output-on-failure --parallel "$(nproc)" --timeout 900
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
