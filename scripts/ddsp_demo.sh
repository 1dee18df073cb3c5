#!/usr/bin/env bash
# DDSP end to end from a fresh Debian bookworm machine: installs missing packages, renders the
# violin / flute training audio (scripts/prepare_ddsp_data.sh: Essen folk tunes through the
# FluidR3 General MIDI soundfont), builds only examples/ddsp_demo and runs it: two vst_16k models
# trained for a few CPU minutes, held-out resynthesis against two baselines, timbre transfer,
# WAVs + spectrogram PNGs under out/ddsp, and a real-time streaming check.
# Usage: scripts/ddsp_demo.sh [ddsp_demo args...]   (e.g. --minutes 16, --out DIR, --resume)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
scripts/prepare_ddsp_data.sh
export CCACHE_BASEDIR=$PWD CCACHE_NOHASHDIR=1
if [[ ! -f build/CMakeCache.txt ]]; then
  launcher=()
  command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release "${launcher[@]}" >/dev/null
fi
cmake --build build --target ddsp_demo >/dev/null
build/examples/ddsp_demo "$@"
