# The pinned-venv skeleton shared by scripts/peer_env.sh and scripts/reference_env.sh (sourced, not run).
#
# The caller sets: name (its script name, for messages), req (the requirements file), venv, base (the
# interpreter the venv is made from), base_hint (appended to the "no base interpreter" message),
# stamp_file, log, pip_args (array: pip install flags besides -r), what (the venv, for the build
# message), size_note (its download size, ditto), verify_what (what a failed check could not import);
# it defines verify_venv PY (exit 0 when the new venv imports what it must; its output goes to $log)
# and, optionally, pinned_venv_precheck (runs before anything is built). Then:
#     pinned_venv_main "$@"
# handles no argument (create or update the venv when needed; silent when current), --python (the
# same, then print the interpreter path, only that, on stdout), --check (exit 0 if current, 1 if not;
# never downloads) and --help (the caller's header comment).
#
# A stamp (base interpreter version + sha256 of the requirements) marks a finished venv; a missing or
# different stamp rebuilds it from scratch. Concurrent calls wait on a lock. On failure it says what
# failed and shows the tail of the pip log.

pinned_venv_fail() {
  echo "$name: $*" >&2
  exit 1
}

pinned_venv_main() {
  local mode=ensure
  case ${1:-} in
    "") ;;
    --python) mode=python ;;
    --check) mode=check ;;
    -h | --help)
      sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
      exit 0
      ;;
    *)
      echo "$name: unknown argument '$1' (use --python, --check or no argument)" >&2
      exit 2
      ;;
  esac

  [[ -f $req ]] || pinned_venv_fail "missing $req"
  [[ -x $base ]] || pinned_venv_fail "no base interpreter $base (Debian: apt install python3 python3-venv$base_hint)"
  if declare -F pinned_venv_precheck >/dev/null; then pinned_venv_precheck; fi

  local base_ver want
  base_ver=$("$base" -c 'import platform as p; print(p.python_implementation(), p.python_version())') ||
    pinned_venv_fail "$base does not run"
  want="base=$base_ver req=$(sha256sum "$req" | cut -c1-16)"
  current() { [[ -x $venv/bin/python && -f $stamp_file && $(cat "$stamp_file") == "$want" ]]; }

  if [[ $mode == check ]]; then
    current && exit 0
    exit 1
  fi

  if ! current; then
    mkdir -p "$(dirname "$venv")"
    exec 9>"$venv.lock"
    flock 9 # another call may be building it right now: wait for it, then look again
    if ! current; then
      echo "$name: building $what $venv from $req ($size_note, log: $log)" >&2
      rm -rf "$venv"
      : >"$log"
      "$base" -m venv "$venv" >>"$log" 2>&1 ||
        pinned_venv_fail "'$base -m venv $venv' failed (Debian: apt install python3-venv); log: $log"
      local py=$venv/bin/python
      if ! "$py" -m pip install --disable-pip-version-check --no-input "${pip_args[@]}" -r "$req" >>"$log" 2>&1; then
        tail -n 25 "$log" | sed 's/^/  | /' >&2
        pinned_venv_fail "pip install -r $req into $venv failed (tail of $log above); the venv is left unstamped" \
          "and is rebuilt on the next run"
      fi
      if ! verify_venv "$py" >>"$log" 2>&1; then
        tail -n 15 "$log" | sed 's/^/  | /' >&2
        pinned_venv_fail "the new venv does not import $verify_what (tail of $log above)"
      fi
      echo "$want" >"$stamp_file"
    fi
  fi

  [[ $mode == python ]] && echo "$venv/bin/python"
  exit 0
}
