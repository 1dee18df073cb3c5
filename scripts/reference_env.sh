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
# requirements file). Idempotent (scripts/pinned_venv.sh, shared with peer_env.sh): a stamp
# (.fugue-ref-stamp) marks a finished venv; a missing or different one rebuilds it. Concurrent calls
# wait on a lock. The first run downloads ~600 MB; the venv takes ~2 GB. Never run by CI or
# scripts/test.sh.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
req=$here/reference_requirements.txt
root=${FUGUE_DATA:-$HOME/.cache/fugue}
venv=${FUGUE_REF_VENV:-$root/ref-venv}
base=${FUGUE_REF_BASE_PYTHON:-/usr/bin/python3}
stamp_file=$venv/.fugue-ref-stamp
log=$venv.log

base_hint=""
name=reference_env.sh what="the reference venv" size_note="PyPI, ~600 MB"
verify_what="magenta's MusicVAE configs"
pip_args=(--no-deps)  # Magenta's own pins do not install on Python 3.11 (see the requirements file)

# The references, as imported (TensorFlow's start-up chatter silenced).
verify_venv() {
  TF_CPP_MIN_LOG_LEVEL=3 "$1" -W ignore -c '
import note_seq, pretty_midi, mido
from magenta.models.music_vae import configs
assert configs.CONFIG_MAP["cat-mel_2bar_big"].data_converter is not None
print("reference_env: magenta 2.1.4 converters import")
'
}

source "$here/pinned_venv.sh"
pinned_venv_main "$@"
