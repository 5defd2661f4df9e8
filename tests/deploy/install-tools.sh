#!/usr/bin/env bash
# Installs the npm tools of tests/deploy (package.json + package-lock.json,
# exact versions) into .tools/deploy with npm ci. Idempotent: does nothing
# when the installed lockfile is this one. The apt side (promtool, prometheus,
# yamllint) is scripts/setup.sh's: apt packages prometheus and yamllint.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
TOOLS=${L2TP_DEPLOY_TOOLS:-$ROOT/.tools/deploy}
if cmp -s "$HERE/package-lock.json" "$TOOLS/package-lock.json" && [[ -f "$TOOLS/node_modules/.package-lock.json" ]]; then
  exit 0
fi
echo "install-tools: npm ci into $TOOLS"
mkdir -p "$TOOLS"
rm -rf "$TOOLS/schemas"
cp "$HERE/package.json" "$HERE/package-lock.json" "$TOOLS/"
npm ci --silent --no-audit --no-fund --prefix "$TOOLS" >/dev/null
