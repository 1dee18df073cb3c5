#!/usr/bin/env bash
# The main job, from a fresh Debian bookworm machine: installs missing packages,
# builds, and runs the flagship example on built-in default data.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
scripts/build.sh build >/dev/null
cmake --build build --target tensor_tour >/dev/null
build/examples/tensor_tour "$@"
