#!/usr/bin/env bash
# Prepares the PyTorch reference files that fugue's layer and optimizer conformance tests
# (tests/optim, tests/nn*) compare against, into
#   ${FUGUE_DATA:-$HOME/.cache/fugue}/torch_ref/   (<case>.safetensors, layout in tests/nn/README.md)
#
# - Debian: python3-torch (1.13, CPU) and python3-numpy, installed with apt when missing.
#   The generator runs under Debian's own /usr/bin/python3 (a pyenv python3 may come first on
#   PATH and lacks Debian's torch); no pip, no venv, no network beyond apt.
# Idempotent and fast: the files are regenerated only when tests/nn/make_torch_reference.py
# or the torch version changes (hash stored in torch_ref/.stamp); generation takes a few seconds.
# Usage: scripts/prepare_torch_reference.sh
set -euo pipefail
cd "$(dirname "$0")/.."
root=${FUGUE_DATA:-$HOME/.cache/fugue}
out=$root/torch_ref
t0=$(date +%s)
stage() { echo "fugue-torch-ref: $* ($(( $(date +%s) - t0 )) s)"; }

apt_pkgs=(python3-torch python3-numpy)
"$(dirname "${BASH_SOURCE[0]}")/deps.sh" --only "${apt_pkgs[@]}"

py=/usr/bin/python3
torch_version=$(dpkg-query -W -f='${Version}' python3-torch)
hash=$( (sha256sum tests/nn/make_torch_reference.py; echo "$torch_version") | sha256sum | cut -c1-16)
if [[ ! -f $out/.stamp || $(cat "$out/.stamp") != "$hash" ]]; then
  stage "generating reference files into $out"
  mkdir -p "$root"
  rm -rf "$out.tmp"; mkdir -p "$out.tmp"
  OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 "$py" tests/nn/make_torch_reference.py "$out.tmp"
  echo "$hash" > "$out.tmp/.stamp"
  rm -rf "$out"; mv "$out.tmp" "$out"
fi
stage "done: $(ls "$out" | wc -l) files in $out"
