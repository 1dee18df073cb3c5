#!/usr/bin/env bash
# The main job, from a fresh Debian bookworm machine: installs missing packages, prepares the
# real folk-tune corpus (scripts/prepare_music_data.sh), builds only the flagship example and runs
# it: MusicVAE cat-mel_2bar_small trained on 2-bar folk melodies for a few minutes on the CPU,
# held-out accuracy beside two baselines, samples + an interpolation as MIDI, piano-roll PNGs and
# WAVs, all on out/music_vae/index.html.
# Usage: scripts/demo.sh [music_vae_demo args...]   (e.g. --minutes 10, --out DIR, --resume)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh fluidsynth fluid-soundfont-gm  # the samples are also rendered to WAV
scripts/prepare_music_data.sh --bach-limit "${FUGUE_BACH_LIMIT:-60}"
export CCACHE_BASEDIR=$PWD CCACHE_NOHASHDIR=1
if [[ ! -f build/CMakeCache.txt ]]; then
  launcher=()
  command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release "${launcher[@]}" >/dev/null
fi
cmake --build build --target music_vae_demo >/dev/null
build/examples/music_vae_demo "$@"
