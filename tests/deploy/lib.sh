# Shared helpers of the tests/deploy tests. Source it.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
DEPLOY=$ROOT/deploy
WORK=$(mktemp -d /tmp/l2tp-deploy-XXXXXX)
PASSED=0
trap 'rm -rf "$WORK"' EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }
ok() { PASSED=$((PASSED + 1)); echo "ok $PASSED - $*"; }
finish() { echo "$PASSED passed, 0 failed"; }
validate() { node "$HERE/validate.mjs" "$@"; }

need() {
  local t
  for t in "$@"; do command -v "$t" >/dev/null || fail "$t is not installed (scripts/setup.sh installs it)"; done
}
need node
[[ -d "${L2TP_DEPLOY_TOOLS:-$ROOT/.tools/deploy}/node_modules/ajv" ]] || fail "npm tools missing: run tests/deploy/install-tools.sh"

# expect_reject WHAT PATTERN CMD...: CMD must fail and print PATTERN.
expect_reject() {
  local what=$1 pattern=$2; shift 2
  if "$@" >"$WORK/out.txt" 2>&1; then cat "$WORK/out.txt" >&2; fail "$what: accepted, expected a rejection"; fi
  grep -qE -- "$pattern" "$WORK/out.txt" || { cat "$WORK/out.txt" >&2; fail "$what: rejected, but without /$pattern/"; }
  ok "$what: rejected ($(grep -m1 -E -- "$pattern" "$WORK/out.txt" | sed 's/^ *//' | cut -c1-110))"
}
