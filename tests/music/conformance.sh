#!/usr/bin/env bash
# Opt-in conformance of fugue/music against note-seq / pretty_midi (see conformance.py).
# Usage: tests/music/conformance.sh [build-dir (default build)] [files per corpus (default 40)]
# Prepare first: scripts/prepare_music_data.sh --oracles ; prints SKIP and exits 0 without it.
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build}
py=${FUGUE_DATA:-$HOME/.cache/fugue}/venv/bin/python
if [[ ! -x $py ]]; then
  echo "SKIP: music conformance: no venv at $py (run scripts/prepare_music_data.sh --oracles)"
  exit 0
fi
exec "$py" tests/music/conformance.py "$build/tests/music/music_tool" "${2:-40}"
