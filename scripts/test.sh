#!/usr/bin/env bash
# The whole test suite: lint (ruff), types (mypy --strict), tests (pytest).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
export PYTHONHASHSEED=0
echo "== ruff"; .venv/bin/ruff check src tests benchmarks fuzz
.venv/bin/ruff format --check src tests benchmarks fuzz
echo "== mypy"; .venv/bin/mypy
# Test modules are imported by basename (no __init__.py in tests/): names must be unique.
dups=$(find tests -name 'test_*.py' -printf '%f\n' | sort | uniq -d)
if [ -n "$dups" ]; then
  echo "test file names must be unique across tests/: $dups" >&2
  exit 1
fi
echo "== pytest"
set +e
.venv/bin/python -m pytest "$@"
rc=$?
set -e
if [ "$rc" -eq 5 ]; then
  echo "pytest collected no tests: that is a failure for this project" >&2
  exit 1
fi
exit "$rc"
