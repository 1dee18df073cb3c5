#!/usr/bin/env bash
# Prepares the librosa / torch reference arrays that fugue's DSP conformance test
# (tests/dsp/test_dsp_conformance.cpp) compares against, into
#   ${FUGUE_DATA:-$HOME/.cache/fugue}/dsp_ref/   (index.json + raw float64 LE .bin files)
#
# - Debian: python3-torch (1.13, CPU), python3-numpy, python3-venv.
# - PyPI:   librosa==0.10.2.post1 in its own venv  $root/venv-dsp  on Debian's python
#           (--system-site-packages, so torch and numpy come from Debian). numpy is pinned to
#           the Debian version: a pip numpy 2.x would shadow it and break torch 1.13. This is
#           deliberately not the shared $root/venv, whose numpy pins (music oracles) differ.
# Idempotent: each stage is skipped when already done; the reference files are regenerated
# only when tests/dsp/make_reference.py changes (its hash is stored in dsp_ref/.stamp).
# Usage: scripts/prepare_dsp_reference.sh
set -euo pipefail
cd "$(dirname "$0")/.."
root=${FUGUE_DATA:-$HOME/.cache/fugue}
out=$root/dsp_ref
venv=$root/venv-dsp
t0=$(date +%s)
stage() { echo "fugue-dsp-ref: $* ($(( $(date +%s) - t0 )) s)"; }

apt_pkgs=(python3-torch python3-numpy python3-venv)
"$(dirname "${BASH_SOURCE[0]}")/deps.sh" --only "${apt_pkgs[@]}"

py=/usr/bin/python3   # Debian's interpreter: a pyenv python3 may come first on PATH
if [[ ! -x $venv/bin/python ]]; then
  stage "creating venv $venv"
  "$py" -m venv --system-site-packages "$venv"
fi
vpy=$venv/bin/python
if ! "$vpy" -c "import librosa, torch; assert librosa.__version__ == '0.10.2.post1'" 2>/dev/null; then
  stage "pip: librosa==0.10.2.post1"
  np_ver=$("$py" -c "import numpy; print(numpy.__version__)")
  "$vpy" -m pip install -q --disable-pip-version-check "librosa==0.10.2.post1" "numpy==$np_ver"
fi

hash=$(sha256sum tests/dsp/make_reference.py | cut -c1-16)
if [[ ! -f $out/.stamp || $(cat "$out/.stamp") != "$hash" ]]; then
  stage "generating reference arrays into $out"
  rm -rf "$out.tmp"; mkdir -p "$out.tmp"
  OMP_NUM_THREADS=1 "$vpy" tests/dsp/make_reference.py "$out.tmp"
  echo "$hash" > "$out.tmp/.stamp"
  rm -rf "$out"; mv "$out.tmp" "$out"
fi
stage "done: $(ls "$out" | wc -l) files in $out"
