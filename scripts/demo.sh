#!/usr/bin/env bash
# The main job on embedded defaults (no external service): score sample requests with
# explanations, then evaluate the shipped model on freshly generated labeled sets.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
B=.venv/bin/bastion
$B version
echo "== scoring examples/requests.jsonl (with --explain)"
$B waf score --explain examples/requests.jsonl
echo "== generated evaluation sets (seed differs from training)"
$B waf gen-eval reports/eval-sets --n 300 >/dev/null
$B waf eval reports/eval-sets --out reports/waf-eval
