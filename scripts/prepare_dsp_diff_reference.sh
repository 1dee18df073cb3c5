#!/usr/bin/env bash
# Prepares the PyTorch reference arrays that fugue's differentiable-DSP conformance test
# (tests/dsp_diff/test_dsp_diff_conformance.cpp) compares against, into
#   ${FUGUE_DATA:-$HOME/.cache/fugue}/dsp_diff_ref/   (index.json + raw float64 LE <name>.f64 files)
#
# - Debian: python3-torch (1.13, CPU) and python3-numpy, installed with apt when missing.
#   The generator (tests/dsp_diff/torch_ddsp.py) runs under Debian's own /usr/bin/python3 (a pyenv
#   python3 may come first on PATH and lacks Debian's torch); no pip, no venv, no network beyond apt.
# Idempotent and fast: the files are regenerated only when tests/dsp_diff/torch_ddsp.py or the torch
# version changes (hash stored in dsp_diff_ref/.stamp); generation takes a few seconds. The files are
# written to dsp_diff_ref.tmp and renamed, so an interrupted run never leaves a half-written folder.
# The test also reads $FUGUE_DSP_DIFF_REF when set (a folder made by running the generator by hand).
# Usage: scripts/prepare_dsp_diff_reference.sh
set -euo pipefail
cd "$(dirname "$0")/.."
root=${FUGUE_DATA:-$HOME/.cache/fugue}
out=$root/dsp_diff_ref
gen=tests/dsp_diff/torch_ddsp.py
t0=$(date +%s)
stage() { echo "fugue-dsp-diff-ref: $* ($(( $(date +%s) - t0 )) s)"; }

apt_pkgs=(python3-torch python3-numpy)
"$(dirname "${BASH_SOURCE[0]}")/deps.sh" --only "${apt_pkgs[@]}"

py=/usr/bin/python3
torch_version=$(dpkg-query -W -f='${Version}' python3-torch)
hash=$( (sha256sum "$gen"; echo "$torch_version") | sha256sum | cut -c1-16)
if [[ ! -f $out/.stamp || $(cat "$out/.stamp") != "$hash" ]]; then
  stage "generating reference arrays into $out"
  mkdir -p "$root"
  rm -rf "$out.tmp"; mkdir -p "$out.tmp"
  OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 "$py" "$gen" "$out.tmp"
  echo "$hash" > "$out.tmp/.stamp"
  rm -rf "$out"; mv "$out.tmp" "$out"
fi
stage "done: $(ls "$out" | wc -l) files in $out"
