#!/usr/bin/env bash
# The PyTorch 2.x peer of the comparison suites (scripts/compare/*), reproducibly: a venv with the
# exact packages of scripts/peer_requirements.txt (torch and numpy pinned by hand, everything they
# pull pinned too) from PyPI, on Debian's /usr/bin/python3 (CPython 3.11), in
#     ${FUGUE_PEER_VENV:-${FUGUE_DATA:-$HOME/.cache/fugue}/peer-venv}
#
# Usage: scripts/peer_env.sh            create or update the venv if needed; silent when it is current
#        scripts/peer_env.sh --python   the same, then print the venv's interpreter path (only that, on stdout)
#        scripts/peer_env.sh --check    exit 0 if the venv is current, 1 if not; never creates or downloads
#
# Idempotent: the venv holds a stamp (.fugue-peer-stamp: the base interpreter's version and the sha256
# of peer_requirements.txt); the venv is rebuilt from scratch when the stamp is missing or differs (a pin
# changed, a half-finished earlier run). Concurrent calls wait on a lock. On failure it says what failed
# and shows the tail of the pip log ($venv.log).
#
# Size: PyPI's Linux x86_64 torch wheel depends on NVIDIA's CUDA runtime wheels (cuBLAS, cuDNN, NCCL, ...):
# the first run downloads ~3 GB and the venv takes ~5.4 GB on disk (NVIDIA libraries 3.0 GB, torch 1.2 GB,
# triton 1.0 GB; torch 2.15.0, measured 2026-12). The CPU benchmarks never load the CUDA libraries,
# but `import torch` needs them present (PyPI offers no CPU-only Linux torch). That is why neither CI nor
# scripts/test.sh ever runs this script: only scripts/compare/* does (through scripts/compare/common.sh),
# and only when FUGUE_PEER_PYTHON is not set and FUGUE_PEER is not torch113.
#
# Environment: FUGUE_PEER_VENV (venv directory), FUGUE_DATA (cache root, default ~/.cache/fugue),
#              FUGUE_PEER_BASE_PYTHON (interpreter the venv is made from, default /usr/bin/python3; it must
#              be a CPython that peer_requirements.txt has wheels for: 3.11 as pinned).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
req=$here/peer_requirements.txt
root=${FUGUE_DATA:-$HOME/.cache/fugue}
venv=${FUGUE_PEER_VENV:-$root/peer-venv}
base=${FUGUE_PEER_BASE_PYTHON:-/usr/bin/python3}
stamp_file=$venv/.fugue-peer-stamp
log=$venv.log

base_hint="; or set FUGUE_PEER_BASE_PYTHON"
name=peer_env.sh what="the PyTorch 2.x peer venv" size_note="PyPI; the first time downloads ~3 GB"
verify_what="the pinned torch / numpy"
# Wheels only: nothing is compiled. pip's cache is left as configured (where enabled, a rebuild after a
# pin change does not download the unchanged wheels again).
pip_args=(--only-binary=:all:)

pinned_venv_precheck() {
  if [[ $(uname -s) != Linux || $(uname -m) != x86_64 ]]; then
    pinned_venv_fail "the pins in $req are for Linux x86_64 (this is $(uname -s) $(uname -m)); set" \
      "FUGUE_PEER_PYTHON to an interpreter with torch 2.x instead"
  fi
}

# The pins, as imported (catches a wheel that installed but does not load, e.g. a missing CUDA library).
verify_venv() {
  "$1" - "$req" <<'PY'
import re, sys
pins = dict(re.match(r"([A-Za-z0-9_.-]+)==(\S+)", l).groups() for l in open(sys.argv[1])
            if re.match(r"(torch|numpy)==", l))
import numpy, torch
got = {"torch": torch.__version__.split("+")[0], "numpy": numpy.__version__}
assert got == pins, (got, pins)
torch.mm(torch.ones(2, 2), torch.ones(2, 2))
print("peer_env: torch", torch.__version__, "numpy", numpy.__version__)
PY
}

source "$here/pinned_venv.sh"
pinned_venv_main "$@"
