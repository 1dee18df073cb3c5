#!/usr/bin/env bash
# Opt-in reference suites: fugue against the reference implementations themselves, over real data.
# Never run by CI or scripts/test.sh (they need multi-GB Python stacks and take minutes to hours).
#
# Usage: scripts/conformance.sh music [--files N|all] [--jobs J]
#   music   every file of the prepared corpora through fugue/music and through Magenta 2.1.4's own
#           MusicVAE converters, note-seq 0.0.5 and pretty_midi (tests/music/conformance.py): notes,
#           melody / drum / trio windows, groove tensors, multitrack tensors, performance events.
#           Prepares what it needs: scripts/prepare_music_data.sh (corpora), scripts/reference_env.sh
#           (the reference venv), and builds music_tool in ${FUGUE_BUILD_DIR:-build}.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cd "$here/.."
suite=${1:-}
[[ -n $suite ]] && shift
case $suite in
  music)
    "$here/prepare_music_data.sh" >&2
    py=$("$here/reference_env.sh" --python)
    build=${FUGUE_BUILD_DIR:-build}
    if [[ ! -f $build/build.ninja && ! -f $build/Makefile ]]; then
      "$here/build.sh" "$build" >&2
    fi
    CCACHE_BASEDIR=$PWD CCACHE_NOHASHDIR=1 cmake --build "$build" --target music_tool >&2
    exec "$py" -W ignore tests/music/conformance.py "$build/tests/music/music_tool" "$@"
    ;;
  *)
    sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2
    exit 2
    ;;
esac
