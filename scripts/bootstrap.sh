#!/usr/bin/env bash
# Creates .venv with the pinned dependencies and builds the C accelerator.
# Idempotent: reinstalls only when pyproject.toml or constraints.txt changed.
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${BASTION_PYTHON:-}
if [ -z "$PY" ]; then
  for cand in python3.11 python3.12 python3.13 python3; do
    if command -v "$cand" >/dev/null 2>&1 && "$cand" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
      PY=$cand; break
    fi
  done
fi
[ -n "$PY" ] || { echo "bootstrap: Python >= 3.11 is required" >&2; exit 1; }

need_apt=()
command -v cc >/dev/null 2>&1 || need_apt+=(gcc)
"$PY" -c 'import sysconfig, os, sys; sys.exit(not os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h")))' || need_apt+=(python3-dev)
"$PY" -c 'import venv, ensurepip' 2>/dev/null || need_apt+=(python3-venv)
# The service's edge tests run a real nginx (Debian's package; not started as a service).
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || need_apt+=(nginx)
# The console's end-to-end tests drive Debian's chromium (tests/console).
[ -x /usr/lib/chromium/chromium ] || need_apt+=(chromium)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "bootstrap: installing Debian packages: ${need_apt[*]}" >&2
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo -n"
  $sudo apt-get update -qq && $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}"
  # Debian starts nginx on port 80 after installing it; bastion's tests start their own.
  if pgrep -x nginx >/dev/null 2>&1 && [ -f /run/nginx.pid ]; then nginx -s stop 2>/dev/null || true; fi
fi

[ -x .venv/bin/python ] || "$PY" -m venv .venv
stamp=.venv/.bastion-deps
want=$(cat pyproject.toml constraints.txt | sha256sum | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "bootstrap: installing dependencies into .venv" >&2
  .venv/bin/python -m pip install -q --upgrade "pip>=24" "setuptools>=77,<90" wheel
  # torch 2.13.0 CPU: the only build this project supports (see README).
  .venv/bin/python -m pip install -q -c constraints.txt "torch==2.13.0"
  # pdqhash ships as an sdist whose setup imports numpy and Cython; with
  # --no-build-isolation below they must be installed first.
  .venv/bin/python -m pip install -q -c constraints.txt numpy cython
  .venv/bin/python -m pip install -q -c constraints.txt --no-build-isolation -e ".[dev]"
  echo "$want" > "$stamp"
fi
# Rebuild the C accelerator in place when its source changed (fast no-op otherwise).
.venv/bin/python setup.py -q build_ext --inplace >/dev/null
# The web console (console/, React + TypeScript): npm ci when the lock file changed,
# type-check and build into console/dist when any source changed (a no-op otherwise).
scripts/build_console.sh
