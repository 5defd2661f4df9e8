#!/usr/bin/env bash
# Configures and builds with CMake into build/ (BUILD_DIR overrides).
#
#   scripts/build.sh                        everything: binaries, tests, benchmarks
#   scripts/build.sh l2tp-agent l2tpctl     only these targets (and what they need)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD_DIR=${BUILD_DIR:-$ROOT/build}
# CMake's File API code model (tests/build/one_truth.py reads it). CMake reads
# queries before it configures, so the query must exist before the first run.
mkdir -p "$BUILD_DIR/.cmake/api/v1/query/client-l2tp-agent"
touch "$BUILD_DIR/.cmake/api/v1/query/client-l2tp-agent/codemodel-v2"
cmake -S "$ROOT" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
targets=()
for t in "$@"; do targets+=(--target "$t"); done
cmake --build "$BUILD_DIR" -j"$(nproc)" "${targets[@]}"
