#!/usr/bin/env bash
# Builds the libFuzzer targets with clang + libFuzzer + ASan/UBSan in their
# own build directory and runs them for a bounded time: decode_fuzz.cc (the
# userspace datapath's receive path), control_decode_fuzz.cc (the control
# message codec) and control_connection_fuzz.cc (the control state machines
# fed with decoded messages), each for a third of it. Exits non-zero on a crash (libFuzzer
# writes the reproducer into the build directory).
#
# Usage: tests/fuzz/run.sh [seconds]   (default 30 in all; needs clang, e.g. apt-get install clang)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
OUT=${L2TP_FUZZ_BUILD_DIR:-$ROOT/build-fuzz}
SECONDS_TO_RUN=${1:-30}
CXX=${CXX_FUZZ:-clang++}

command -v "$CXX" >/dev/null || { echo "$CXX not found (apt-get install clang)" >&2; exit 2; }
mkdir -p "$OUT/corpus" "$OUT/corpus-control"
# Each target gets half the time (at least a second); the total stays bounded.
THIRD=$(( (SECONDS_TO_RUN + 2) / 3 ))

"$CXX" -std=c++20 -O1 -g -fno-omit-frame-pointer \
  -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
  -I"$ROOT" \
  "$ROOT/tests/fuzz/decode_fuzz.cc" \
  "$ROOT/datapath/userspace/l2tp_header.cc" \
  "$ROOT/datapath/userspace/sequencer.cc" \
  "$ROOT/datapath/userspace/checksum.cc" \
  "$ROOT/datapath/userspace/tcp_segmenter.cc" \
  "$ROOT/datapath/userspace/coalesced_frame.cc" \
  "$ROOT/datapath/userspace/tcp_coalescer.cc" \
  "$ROOT/datapath/userspace/udp_coalescer.cc" \
  "$ROOT/datapath/userspace/flow_hash.cc" \
  -o "$OUT/decode_fuzz"

# Seeds: a valid UDP packet with cookie and sequenced sublayer, and an IPv4+IP one.
printf '\x2c\x01\x00\x00\x1e\x00\x03\x00\x00\x00\x00\x00\x10\x01\x02\x03\x04\x40\x00\x00\x01ABCDEFGHIJKLMN\x05' \
  > "$OUT/corpus/seed-udp"
printf '\x07\x02\x00\x00\x24\x45\x00\x00\x24\x00\x00\x00\x00\x40\x73\x00\x00\x7f\x00\x00\x01\x7f\x00\x00\x02\x00\x00\x00\x10\x40\x00\x00\x02ABCDEFGHIJKL' \
  > "$OUT/corpus/seed-ip"
# Runs for the coalescers: three TCP segments then three UDP datagrams of
# one flow each (IPv4, checksums left to the target's fix-up bit), over UDP
# with no cookie or sublayer; settings: fixed up, USO, and verified or not.
python3 - "$OUT/corpus" <<'PY'
import struct, sys
def eth_ip(proto, l4, ip_id):
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(l4), ip_id, 0x4000, 64, proto, 0,
                     bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2]))
    return bytes(6 * [2]) + bytes([2, 0, 0, 0, 0, 1]) + b"\x08\x00" + ip + l4
def packet(frame, clock):
    l2tp = b"\x00\x03\x00\x00" + struct.pack("!I", 0x10) + frame
    return bytes([len(l2tp)]) + l2tp + bytes([clock])
tcp = b"".join(packet(eth_ip(6, struct.pack("!HHIIBBHHH", 1000, 80, 100 * i, 1, 0x50, 0x10, 512, 0, 0)
                             + bytes(range(i, i + 100)), i), 0) for i in range(3))
udp = b"".join(packet(eth_ip(17, struct.pack("!HHHH", 5000, 5201, 8 + 60, 1) + bytes(60), 7 + i),
                      0x80 if i == 2 else 0) for i in range(3))
for name, settings in (("seed-runs", b"\x00\x00\x06\x00"), ("seed-runs-verified", b"\x00\x00\x07\x00")):
    open(f"{sys.argv[1]}/{name}", "wb").write(settings + tcp + udp)
PY

"$CXX" -std=c++20 -O1 -g -fno-omit-frame-pointer \
  -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
  -I"$ROOT" \
  "$ROOT/tests/fuzz/control_decode_fuzz.cc" \
  "$ROOT/control/message.cc" \
  "$ROOT/control/codec.cc" \
  "$ROOT/control/auth.cc" \
  -lcrypto $(pkg-config --libs absl_status absl_statusor absl_strings) \
  -o "$OUT/control_decode_fuzz"

"$CXX" -std=c++20 -O1 -g -fno-omit-frame-pointer \
  -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
  -I"$ROOT" \
  "$ROOT/tests/fuzz/control_connection_fuzz.cc" \
  "$ROOT"/control/*.cc \
  -lcrypto $(pkg-config --libs absl_status absl_statusor absl_strings) \
  -o "$OUT/control_connection_fuzz"

# Control seeds: a v2 HELLO, a v3 ICRQ, a v3 SCCRQ over IP, and a v2 SCCRP
# with two AVPs hidden with the target's secret ("fuzz-secret").
printf '\xc8\x02\x00\x14\x00\x05\x00\x00\x00\x02\x00\x03\x80\x08\x00\x00\x00\x00\x00\x06' \
  > "$OUT/corpus-control/seed-v2-hello"
printf '\xc8\x03\x00\x4c\x87\x65\x43\x21\x00\x01\x00\x01\x80\x08\x00\x00\x00\x00\x00\x0a\x80\x0a\x00\x00\x00\x3f\x00\x00\x10\x01\x80\x0a\x00\x00\x00\x40\x00\x00\x00\x00\x80\x0a\x00\x00\x00\x0f\x00\x00\x00\x01\x80\x08\x00\x00\x00\x44\x00\x05\x80\x0a\x00\x00\x00\x42pw-1\x80\x08\x00\x00\x00\x47\x00\x03' \
  > "$OUT/corpus-control/seed-v3-icrq"
printf '\x00\x00\x00\x00\xc8\x03\x00\x3c\x00\x00\x00\x00\x00\x00\x00\x00\x80\x08\x00\x00\x00\x00\x00\x01\x80\x0c\x00\x00\x00\x07lcce-a\x80\x0a\x00\x00\x00\x3c\x0a\x00\x00\x01\x80\x0a\x00\x00\x00\x3d\x12\x34\x56\x78\x80\x08\x00\x00\x00\x3e\x00\x05' \
  > "$OUT/corpus-control/seed-v3-sccrq-ip"
printf '\xc8\x02\x00\x44\x00\x01\x00\x00\x00\x00\x00\x00\x80\x08\x00\x00\x00\x00\x00\x02\x80\x0a\x00\x00\x00\x24\x01\x02\x03\x04\xc0\x0a\x00\x00\x00\x09\xdd\x1f\xc9\x62\xc0\x1c\x00\x00\x00\x07\xc8\xf6\x04\xde\x8d\xdc\xbd\x71\xb6\x3c\x2c\x48\xb4\x0e\x90\x56\x5b\x89\xe7\x7b\xdc\x9f' \
  > "$OUT/corpus-control/seed-v2-hidden"

cd "$OUT"
./decode_fuzz -max_total_time="$THIRD" -timeout=10 -rss_limit_mb=2048 \
  -print_final_stats=1 corpus
./control_decode_fuzz -max_total_time="$THIRD" -timeout=10 -rss_limit_mb=2048 \
  -print_final_stats=1 corpus-control
# The state machines: seeded with the control seeds as single records.
mkdir -p corpus-connection
for f in corpus-control/seed-*; do
  n=$(stat -c %s "$f")
  [[ $n -lt 256 ]] || continue
  { printf '\x01'; printf "\x$(printf %02x "$n")"; cat "$f"; printf '\x0a'; } >"corpus-connection/$(basename "$f")"
done
./control_connection_fuzz -max_total_time="$THIRD" -timeout=10 -rss_limit_mb=2048 \
  -print_final_stats=1 corpus-connection
