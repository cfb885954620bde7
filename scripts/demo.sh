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

echo "== the service on embedded defaults (SQLite in reports/, in-process rate limits)"
export BASTION_DATABASE_URL="sqlite:///$PWD/reports/demo.db" BASTION_PORT=${BASTION_PORT:-8087}
TOKEN=$($B token create --name demo --role ingest --json | .venv/bin/python -c 'import json, sys; print(json.load(sys.stdin)["token"])')
$B serve --workers 2 &
SERVER=$!
trap 'kill -TERM $SERVER 2>/dev/null; wait $SERVER 2>/dev/null' EXIT
for _ in $(seq 100); do curl -sf "localhost:$BASTION_PORT/readyz" >/dev/null && break; sleep 0.2; done
echo "POST /v1/waf/score (an attack):"
curl -s -H "Authorization: Bearer $TOKEN" -d '{"uri": "/search?q=1%27%20union%20select%20password%20from%20users--"}' "localhost:$BASTION_PORT/v1/waf/score"; echo
echo "POST /v1/waf/score (a clean request):"
curl -s -H "Authorization: Bearer $TOKEN" -d '{"uri": "/search?q=blue+running+shoes"}' "localhost:$BASTION_PORT/v1/waf/score"; echo
