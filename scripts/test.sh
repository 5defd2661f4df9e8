#!/usr/bin/env bash
# Sets up, builds and runs every test: CTest (unit and integration, the CI
# gate), the Bazel build and its tests, and a time-bounded fuzzing run.
# Ends with one line "N passed, N failed" summing all three.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD_DIR=${BUILD_DIR:-$ROOT/build}
export BUILD_DIR
LOGS=$(mktemp -d /tmp/l2tp-test-XXXXXX)
trap 'rm -rf "$LOGS"' EXIT
passed=0
failed=0

"$ROOT/scripts/setup.sh" || { echo "setup failed"; echo "0 passed, 1 failed"; exit 1; }
if ! "$ROOT/scripts/build.sh"; then echo "CMake build failed"; echo "0 passed, 1 failed"; exit 1; fi

echo "== CTest (unit + integration)"
(cd "$BUILD_DIR" && ctest --output-on-failure -j"$(nproc)" --timeout 900) 2>&1 | tee "$LOGS/ctest.log"
summary=$(grep -E 'tests passed, [0-9]+ tests? failed out of [0-9]+' "$LOGS/ctest.log" | tail -1)
if [[ -n "$summary" ]]; then
  total=$(sed -E 's/.*out of ([0-9]+).*/\1/' <<<"$summary")
  bad=$(sed -E 's/.* ([0-9]+) tests? failed.*/\1/' <<<"$summary")
  passed=$((passed + total - bad)); failed=$((failed + bad))
else
  failed=$((failed + 1))
fi

echo "== Bazel (build //... and test //...)"
"$ROOT/scripts/bazel-test.sh" 2>&1 | tee "$LOGS/bazel.log"
bazel_status=${PIPESTATUS[0]}
line=$(grep -E '^bazel: [0-9]+ passed, [0-9]+ failed' "$LOGS/bazel.log" | tail -1)
if [[ -n "$line" ]]; then
  passed=$((passed + $(awk '{print $2}' <<<"$line"))); failed=$((failed + $(awk '{print $4}' <<<"$line")))
fi
[[ $bazel_status -eq 0 || -z "$line" || $(awk '{print $4}' <<<"$line") -gt 0 ]] || failed=$((failed + 1))
[[ -n "$line" ]] || failed=$((failed + 1))

echo "== Fuzzing the receive path (libFuzzer, bounded)"
if "$ROOT/tests/fuzz/run.sh" "${FUZZ_SECONDS:-30}" >"$LOGS/fuzz.log" 2>&1; then
  tail -3 "$LOGS/fuzz.log"; passed=$((passed + 1))
else
  tail -40 "$LOGS/fuzz.log"; echo "fuzzing FAILED"; failed=$((failed + 1))
fi

echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
