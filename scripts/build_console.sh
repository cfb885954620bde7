#!/usr/bin/env bash
# Builds the web console (console/) into console/dist, which `bastion serve` serves at
# /console/. Fast no-op when nothing changed: `npm ci` runs only when package-lock.json
# changed, `tsc --noEmit` + `vite build` only when a source file changed.
# BASTION_SKIP_CONSOLE=1 skips it (the API works without the console).
set -euo pipefail
cd "$(dirname "$0")/../console"
[ "${BASTION_SKIP_CONSOLE:-0}" = 1 ] && exit 0

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "build_console: node >= 20.19 and npm are required to build the console (https://nodejs.org);" \
       "set BASTION_SKIP_CONSOLE=1 to skip it" >&2
  exit 1
fi
if ! node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=19)?0:1)'; then
  echo "build_console: node $(node --version) is too old; Vite needs >= 20.19" >&2
  exit 1
fi

lock_sum=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ ! -f node_modules/.bastion-lock ] || [ "$(cat node_modules/.bastion-lock)" != "$lock_sum" ]; then
  echo "build_console: npm ci" >&2
  npm ci --no-audit --no-fund --loglevel=error >&2
  echo "$lock_sum" > node_modules/.bastion-lock
fi

src_sum=$( (echo "$lock_sum"; find src index.html vite.config.ts tsconfig.json package.json -type f -print0 \
  | sort -z | xargs -0 sha256sum) | sha256sum | cut -d' ' -f1)
if [ ! -f dist/.build-stamp ] || [ "$(cat dist/.build-stamp)" != "$src_sum" ] || [ ! -f dist/index.html ]; then
  echo "build_console: type-check and build" >&2
  npm run --silent build >&2
  echo "$src_sum" > dist/.build-stamp
fi
