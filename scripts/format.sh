#!/usr/bin/env bash
# Formats the C++ sources with the repository's .clang-format (clang-format 16, Debian's
# clang-format-16 package). --check: change nothing, fail on the first file that differs
# (what CI runs).
set -euo pipefail
cd "$(dirname "$0")/.."
cf=$(command -v clang-format-16 || true)
[[ -n $cf ]] || { echo "fugue: clang-format-16 not found (scripts/deps.sh installs it)"; exit 1; }
mapfile -t files < <(git ls-files '*.hpp' '*.cpp' '*.cu' '*.h')
if [[ ${1:-} == --check ]]; then
  "$cf" --dry-run -Werror "${files[@]}"
  echo "fugue: ${#files[@]} C++ files follow .clang-format"
else
  "$cf" -i "${files[@]}"
fi
