#!/usr/bin/env bash
# Regenerate the Python gRPC code of proto/bastion/v1/waf.proto into the package
# bastion.service.grpc.v1 (waf_pb2.py, waf_pb2.pyi, waf_pb2_grpc.py; committed).
#
# protoc names the modules after the proto path (bastion/v1/...), so the code is generated
# into a scratch folder, moved into src/bastion/service/grpc/v1/ and its import of
# `bastion.v1` rewritten to `bastion.service.grpc.v1`. The descriptor keeps the file name
# "bastion/v1/waf.proto", which is what other protos importing it would use.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
OUT=src/bastion/service/grpc/v1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

"$PY" -m grpc_tools.protoc -Iproto \
  --python_out="$tmp" --pyi_out="$tmp" --grpc_python_out="$tmp" \
  proto/bastion/v1/waf.proto

sed -i 's/^from bastion\.v1 import /from bastion.service.grpc.v1 import /' "$tmp/bastion/v1/waf_pb2_grpc.py"
if grep -q '^from bastion\.v1\b\|^import bastion\.v1\b' "$tmp"/bastion/v1/*.py "$tmp"/bastion/v1/*.pyi; then
  echo "gen_proto.sh: an import of bastion.v1 was left unrewritten" >&2
  exit 1
fi
mkdir -p "$OUT"
[ -f "$OUT/__init__.py" ] || printf '"""Code generated from proto/bastion/v1/waf.proto by scripts/gen_proto.sh."""\n' >"$OUT/__init__.py"
cp "$tmp"/bastion/v1/waf_pb2.py "$tmp"/bastion/v1/waf_pb2.pyi "$tmp"/bastion/v1/waf_pb2_grpc.py "$OUT/"
echo "generated $OUT/waf_pb2.py waf_pb2.pyi waf_pb2_grpc.py ($("$PY" -c 'import grpc_tools.grpc_version as v; print("grpcio-tools", v.VERSION)'))"
