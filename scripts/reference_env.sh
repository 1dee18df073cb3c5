#!/usr/bin/env bash
# The reference implementations of the opt-in conformance suites (scripts/conformance.sh), reproducibly:
# a venv with exactly the packages of scripts/reference_requirements.txt (Magenta 2.1.4's data converters,
# note-seq 0.0.5, pretty_midi, mido, TensorFlow 2.15 CPU) from PyPI, on Debian's /usr/bin/python3, in
#     ${FUGUE_REF_VENV:-${FUGUE_DATA:-$HOME/.cache/fugue}/ref-venv}
#
# Usage: scripts/reference_env.sh            create or update the venv if needed; silent when it is current
#        scripts/reference_env.sh --python   the same, then print the venv's interpreter path (only that)
#        scripts/reference_env.sh --check    exit 0 if the venv is current, 1 if not; never downloads
#
# The pins are installed with --no-deps (Magenta's own pins do not install on Python 3.11; see the
# requirements file). Idempotent: a stamp (.fugue-ref-stamp: base interpreter version + sha256 of the
# requirements) marks a finished venv; a missing or different stamp rebuilds it from scratch. Concurrent
# calls wait on a lock. The first run downloads ~600 MB; the venv takes ~2 GB. Never run by CI or
# scripts/test.sh.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
req=$here/reference_requirements.txt
root=${FUGUE_DATA:-$HOME/.cache/fugue}
venv=${FUGUE_REF_VENV:-$root/ref-venv}
base=${FUGUE_REF_BASE_PYTHON:-/usr/bin/python3}
stamp_file=$venv/.fugue-ref-stamp
log=$venv.log

mode=ensure
case ${1:-} in
  "") ;;
  --python) mode=python ;;
  --check) mode=check ;;
  -h | --help)
    sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
    exit 0
    ;;
  *)
    echo "reference_env.sh: unknown argument '$1' (use --python, --check or no argument)" >&2
    exit 2
    ;;
esac

fail() {
  echo "reference_env.sh: $*" >&2
  exit 1
}

[[ -f $req ]] || fail "missing $req"
[[ -x $base ]] || fail "no base interpreter $base (Debian: apt install python3 python3-venv)"
base_ver=$("$base" -c 'import platform as p; print(p.python_implementation(), p.python_version())') ||
  fail "$base does not run"
want="base=$base_ver req=$(sha256sum "$req" | cut -c1-16)"
current() { [[ -x $venv/bin/python && -f $stamp_file && $(cat "$stamp_file") == "$want" ]]; }

if [[ $mode == check ]]; then
  current && exit 0
  exit 1
fi

if ! current; then
  mkdir -p "$(dirname "$venv")"
  exec 9>"$venv.lock"
  flock 9
  if ! current; then
    echo "reference_env.sh: building the reference venv $venv from $req (PyPI, ~600 MB; log: $log)" >&2
    rm -rf "$venv"
    : >"$log"
    "$base" -m venv "$venv" >>"$log" 2>&1 || fail "'$base -m venv $venv' failed (Debian: apt install python3-venv)"
    py=$venv/bin/python
    if ! "$py" -m pip install --disable-pip-version-check --no-input --no-deps -r "$req" >>"$log" 2>&1; then
      tail -n 25 "$log" | sed 's/^/  | /' >&2
      fail "pip install -r $req failed (tail of $log above); the venv is rebuilt on the next run"
    fi
    # The references, as imported (TensorFlow's start-up chatter silenced).
    if ! TF_CPP_MIN_LOG_LEVEL=3 "$py" -W ignore -c '
import note_seq, pretty_midi, mido
from magenta.models.music_vae import configs
assert configs.CONFIG_MAP["cat-mel_2bar_big"].data_converter is not None
print("reference_env: magenta", __import__("magenta").__version__ if hasattr(__import__("magenta"), "__version__") else "2.1.4")
' >>"$log" 2>&1; then
      tail -n 15 "$log" | sed 's/^/  | /' >&2
      fail "the new venv does not import magenta's MusicVAE configs (tail of $log above)"
    fi
    echo "$want" >"$stamp_file"
  fi
fi

[[ $mode == python ]] && echo "$venv/bin/python"
exit 0
