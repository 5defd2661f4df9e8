#!/usr/bin/env bash
# Builds everything with Bazel, then runs every test; exits non-zero if either
# fails. Offline: Debian's bazel-bootstrap and system libraries only.
#
# Bazel keeps its output base in its default place (~/.cache/bazel), so this
# script and plain `bazel` commands share one. Set BAZEL_OUTPUT_USER_ROOT to
# move it (it is moved to /tmp when there is no writable home). Compiles are
# also kept in a disk cache, so a fresh clone reuses them. BAZEL_JOBS sets the
# parallelism (default 2).
set -euo pipefail

cd "$(dirname "$0")/.."

home="${HOME:-}"
if [[ -z "$home" || ! -w "$home" ]]; then
  home=/tmp
  : "${BAZEL_OUTPUT_USER_ROOT:=/tmp/bazel-output-root}"
fi
cache_dir="${BAZEL_DISK_CACHE:-${XDG_CACHE_HOME:-$home/.cache}/l2tp-agent-bazel-disk}"
mkdir -p "$cache_dir"

# The server exits soon after the last command, so CI leaves nothing behind.
startup=(--max_idle_secs=60)
if [[ -n "${BAZEL_OUTPUT_USER_ROOT:-}" ]]; then
  startup+=(--output_user_root="$BAZEL_OUTPUT_USER_ROOT")
fi
common=(--disk_cache="$cache_dir" --jobs="${BAZEL_JOBS:-2}")

bazel "${startup[@]}" build "${common[@]}" //...

log="$(mktemp)"
trap 'rm -f "$log"' EXIT
status=0
# Results are cached too (disk cache included); run the tests every time, as
# they also check the machine (namespaces, TAP, sockets).
bazel "${startup[@]}" test "${common[@]}" --nocache_test_results --test_output=errors //... 2>&1 | tee "$log" ||
  status=$?

# Bazel's own summary is not a line test-result readers know; add one.
passed=$(grep -cE '^//[^ ]+ +(\(cached\) )?PASSED' "$log" || true)
failed=$(grep -cE '^//[^ ]+ +(\(cached\) )?(FAILED|TIMEOUT|NO STATUS|FAILED TO BUILD)' "$log" || true)
echo "bazel: ${passed} passed, ${failed} failed"
exit "$status"
