#!/usr/bin/env bash
# Installs the Debian packages fugue's build, tests and demos need, when missing.
# Usage: scripts/deps.sh [extra-package ...]     the build/test set plus the extras
#        scripts/deps.sh --only package ...       just these (the data-preparation scripts)
set -euo pipefail
if [[ ${1:-} == --only ]]; then
  shift
  packages=("$@")
else
  packages=(
    build-essential cmake ninja-build ccache pkg-config git zlib1g-dev
    libxtensor-dev libxsimd-dev xtl-dev libfftw3-dev libkissfft-dev
    catch2 libbenchmark-dev libopenblas-dev libcli11-dev
    clang libclang-rt-14-dev clang-format-16
    python3-torch python3-numpy python3-venv chromium
    "$@"
  )
fi
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
((${#missing[@]})) || exit 0
echo "fugue: installing missing Debian packages: ${missing[*]}"
sudo_cmd=()
[[ $(id -u) -eq 0 ]] || sudo_cmd=(sudo)
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
