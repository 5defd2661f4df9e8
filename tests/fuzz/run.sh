#!/usr/bin/env bash
# Builds tests/fuzz/decode_fuzz.cc with clang + libFuzzer + ASan/UBSan in its
# own build directory and runs it for a bounded time. Exits non-zero on a crash
# (libFuzzer writes the reproducer into the build directory).
#
# Usage: tests/fuzz/run.sh [seconds]   (default 30; needs clang, e.g. apt-get install clang)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
OUT=${L2TP_FUZZ_BUILD_DIR:-$ROOT/build-fuzz}
SECONDS_TO_RUN=${1:-30}
CXX=${CXX_FUZZ:-clang++}

command -v "$CXX" >/dev/null || { echo "$CXX not found (apt-get install clang)" >&2; exit 2; }
mkdir -p "$OUT/corpus"

"$CXX" -std=c++20 -O1 -g -fno-omit-frame-pointer \
  -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
  -I"$ROOT" \
  "$ROOT/tests/fuzz/decode_fuzz.cc" \
  "$ROOT/datapath/userspace/l2tp_header.cc" \
  "$ROOT/datapath/userspace/sequencer.cc" \
  "$ROOT/datapath/userspace/checksum.cc" \
  "$ROOT/datapath/userspace/tcp_segmenter.cc" \
  "$ROOT/datapath/userspace/tcp_coalescer.cc" \
  -o "$OUT/decode_fuzz"

# Seeds: a valid UDP packet with cookie and sequenced sublayer, and an IPv4+IP one.
printf '\x2c\x01\x00\x00\x1e\x00\x03\x00\x00\x00\x00\x00\x10\x01\x02\x03\x04\x40\x00\x00\x01ABCDEFGHIJKLMN\x05' \
  > "$OUT/corpus/seed-udp"
printf '\x07\x02\x00\x00\x24\x45\x00\x00\x24\x00\x00\x00\x00\x40\x73\x00\x00\x7f\x00\x00\x01\x7f\x00\x00\x02\x00\x00\x00\x10\x40\x00\x00\x02ABCDEFGHIJKL' \
  > "$OUT/corpus/seed-ip"

cd "$OUT"
./decode_fuzz -max_total_time="$SECONDS_TO_RUN" -timeout=10 -rss_limit_mb=2048 \
  -print_final_stats=1 corpus
