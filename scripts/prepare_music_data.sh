#!/usr/bin/env bash
# Prepares the real symbolic-music corpora fugue's music tests and examples use, into
#   ${FUGUE_DATA:-$HOME/.cache/fugue}/music/   (never committed; licenses mix GPL/CC/PD)
#
#   folk/{essen,oneills,ryan}/*.mid  music21's ABC folk corpora, converted by abc2midi
#   bach/*.mid                       music21's Bach chorales (4 voices), written by music21
#   mma/*.mid                        MMA's groove library rendered to GM drum tracks
#   games/*.mid                      multi-track songs shipped as MIDI by openttd-openmsx and
#                                    planetblupi-music-midi (hydrogen-data ships no MIDI: its
#                                    patterns are Hydrogen XML, so it is not used here)
#
# Idempotent: each stage is skipped when its stamp file exists (delete it to redo).
# Usage: scripts/prepare_music_data.sh [--oracles] [--bach-limit N]
#   --oracles      also pip-install note-seq==0.0.5, pretty_midi, mido (conformance suite)
#   --bach-limit N convert at most N chorales (default: all ~370; music21 parses slowly)
# Prints the time each stage took and a summary of file counts.
set -euo pipefail
root=${FUGUE_DATA:-$HOME/.cache/fugue}
out=$root/music
venv=$root/venv
oracles=0
bach_limit=${FUGUE_BACH_LIMIT:-100000}
while (($#)); do
  case $1 in
    --oracles) oracles=1 ;;
    --bach-limit) bach_limit=$2; shift ;;
    *) echo "usage: $0 [--oracles] [--bach-limit N]" >&2; exit 2 ;;
  esac
  shift
done
mkdir -p "$out"
t0=$(date +%s)
stage() { echo "fugue-data: $* ($(( $(date +%s) - t0 )) s)"; }

# --- Debian packages ---------------------------------------------------------------
apt_pkgs=(abcmidi mma openttd-openmsx planetblupi-music-midi python3-venv)
"$(dirname "${BASH_SOURCE[0]}")/deps.sh" --only "${apt_pkgs[@]}"

# --- Python venv on Debian's own interpreter (PEP 668; pyenv may shadow python3) ----
py=/usr/bin/python3
if [[ ! -x $venv/bin/python ]]; then
  stage "creating venv $venv"
  "$py" -m venv --system-site-packages "$venv"
fi
vpy=$venv/bin/python
pip_install() { "$vpy" -m pip install -q --disable-pip-version-check "$@"; }
if ! "$vpy" -c "import music21" 2>/dev/null; then
  stage "pip: music21"
  pip_install "music21>=10,<11"
fi
if ((oracles)) && ! "$vpy" -c "import note_seq, pretty_midi, mido" 2>/dev/null; then
  stage "pip: note-seq oracles"
  # note-seq 0.0.5 predates numpy 2 (imports break); numpy 1.26 is the oldest music21 10
  # accepts and note-seq imports and runs with it (only its piano-roll helpers, unused
  # here, need numpy < 1.24). protobuf 5 breaks note-seq's generated _pb2 modules.
  pip_install "numpy>=1.26.4,<2" "note-seq==0.0.5" pretty_midi mido "protobuf<5"
fi
corpus=$("$vpy" -c "import music21, os; print(os.path.join(os.path.dirname(music21.__file__), 'corpus'))")

# --- folk tunes: ABC -> MIDI with abc2midi -----------------------------------------
if [[ ! -f $out/folk/.done ]]; then
  stage "folk: abc2midi over music21's essenFolksong, oneills1850, ryansMammoth"
  for pair in essen:essenFolksong oneills:oneills1850 ryan:ryansMammoth; do
    name=${pair%%:*}; src=$corpus/${pair#*:}
    dst=$out/folk/$name
    rm -rf "$dst"; mkdir -p "$dst"
    # one abc2midi run per .abc book; it writes each tune X:n of book B.abc as Bn.mid
    # next to the .abc, so the books are copied in first and removed afterwards.
    find "$src" -name '*.abc' -exec cp {} "$dst"/ \;
    find "$dst" -name '*.abc' -print0 | sort -z |
      xargs -0 -P 2 -I{} sh -c 'abc2midi "{}" -silent -quiet >/dev/null 2>&1 || true'
    rm -f "$dst"/*.abc
  done
  touch "$out/folk/.done"
fi

# --- Bach chorales: music21 parse -> MIDI ------------------------------------------
if [[ ! -f $out/bach/.done ]]; then
  stage "bach: music21 chorales -> MIDI (limit $bach_limit)"
  rm -rf "$out/bach"; mkdir -p "$out/bach"
  "$vpy" - "$out/bach" "$bach_limit" <<'EOF'
import sys, os
from concurrent.futures import ProcessPoolExecutor
dst, limit = sys.argv[1], int(sys.argv[2])
from music21 import corpus
paths = [str(p) for p in corpus.getComposer('bach')][:limit]

def convert(p):
    from music21 import converter
    name = os.path.splitext(os.path.basename(p))[0]
    try:
        s = converter.parse(p)
        s.write('midi', fp=os.path.join(dst, name + '.mid'))
        return 1
    except Exception:
        return 0

with ProcessPoolExecutor(max_workers=2) as ex:
    ok = sum(ex.map(convert, paths, chunksize=8))
print(f"fugue-data: bach: {ok} of {len(paths)} chorale files converted")
EOF
  touch "$out/bach/.done"
fi

# --- MMA grooves -> GM drum MIDI -------------------------------------------------------
if [[ ! -f $out/mma/.done ]]; then
  stage "mma: rendering the groove library"
  rm -rf "$out/mma"; mkdir -p "$out/mma/src"
  # One song per groove file: each groove defined there plays 4 bars of C, in order.
  # Every "DefGroove NAME" line of a library file defines a groove; all of them
  # are played in turn (4 bars of a C chord each, at 120 qpm).
  lib=/usr/share/mma/lib/stdlib
  for f in "$lib"/*.mma; do
    b=$(basename "$f" .mma)
    grooves=$(grep -ioE '^[[:space:]]*defgroove[[:space:]]+[A-Za-z0-9_+-]+' "$f" | awk '{print $2}' | sort -u)
    [[ -n $grooves ]] || continue
    {
      echo "Tempo 120"
      for g in $grooves; do
        echo "Groove $g"
        for i in 1 2 3 4; do echo "C"; done
      done
    } > "$out/mma/src/$b.mma"
  done
  find "$out/mma/src" -name '*.mma' -print0 | sort -z |
    xargs -0 -P 2 -I{} sh -c 'b=$(basename "{}" .mma); mma -f "$1/$b.mid" "{}" >/dev/null 2>&1 || true' _ "$out/mma"
  touch "$out/mma/.done"
fi

# --- game / demo multi-track songs -------------------------------------------------------
if [[ ! -f $out/games/.done ]]; then
  stage "games: copying MIDI from openttd-openmsx, planetblupi-music-midi"
  rm -rf "$out/games"; mkdir -p "$out/games"
  for pkg in openttd-openmsx planetblupi-music-midi; do
    dpkg -L "$pkg" | grep -iE '\.midi?$' | while read -r f; do
      [[ -f $f ]] && cp "$f" "$out/games/${pkg}__$(basename "$f" | tr ' ' '_')"
    done
  done
  touch "$out/games/.done"
fi

count() { find "$out/$1" -iname '*.mid' 2>/dev/null | wc -l; }
stage "done: essen $(count folk/essen), oneills $(count folk/oneills), ryan $(count folk/ryan)," \
  "bach $(count bach), mma $(count mma), games $(count games) MIDI files in $out"
