#!/usr/bin/env bash
# Evaluates a WAF model on every evaluation suite this repository can build, as in MODEL_CARD.md:
#   generated  - bastion waf gen-eval (datagen, seed 7: differs from the training seed)
#   handmade   - benchmarks/handmade (hand-written, never used for training)
#   external   - Debian's wfuzz injection lists and sqlmap's real browser user agents
# Usage: benchmarks/waf_eval_all.sh [MODEL] [OUT_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
model=${1:-src/bastion/waf/models/waf-model.npz}
out=${2:-reports/eval-all}
B=.venv/bin/bastion
mkdir -p "$out"
$B waf gen-eval "$out/sets-generated" --seed 7 --n 1000 >/dev/null
.venv/bin/python benchmarks/external_sets.py "$out/sets-external" >/dev/null
for suite in generated handmade external; do
  case $suite in
    generated) dir=$out/sets-generated ;;
    handmade) dir=benchmarks/handmade ;;
    external) dir=$out/sets-external ;;
  esac
  echo "## $suite"
  $B waf eval "$dir" --model "$model" --out "$out/report-$suite"
done
