#!/usr/bin/env bash
# Userspace L2TPv3 datapath, end to end: two network namespaces joined by a
# veth, one l2tp-userspace-driver in each (reversed ids), and ping across the
# pseudowire (addresses on the TAPs) for each encapsulation variant; for
# IPv4 and IPv6 underlays with cookies of 0, 4 and 8 bytes, TCP transfers
# checked byte for byte (sha256) with the TAPs' TSO/checksum offloads on
# (TSO super-frames segmented by the datapath) and off (ethtool), and four
# at once (flows spread over the drivers' I/O threads where there is more
# than one CPU: sent from their multi-queue TAPs' queues, and, with io_uring,
# handed over by the receiving thread and written from each thread).
#
# Usage (root): userspace_pair_test.sh [path/to/l2tp-userspace-driver]
# Addresses are used only on the veth and TAPs this script creates inside its
# own namespaces; everything is removed by the exit trap; every wait is bounded.
set -euo pipefail

DRIVER=${1:-${L2TP_USERSPACE_DRIVER:-$(dirname "$0")/../../build-userspace/datapath/userspace/l2tp-userspace-driver}}
[[ -x "$DRIVER" ]] || { echo "driver not found: $DRIVER" >&2; exit 2; }
[[ $(id -u) -eq 0 ]] || { echo "needs root" >&2; exit 77; }

# ethtool turns the TAPs' offloads off for the byte-for-byte transfers
# (scripts/setup.sh installs it; NO_INSTALL=1 only skips those passes).
if ! command -v ethtool >/dev/null && [[ ${NO_INSTALL:-} != 1 ]]; then
  echo "installing ethtool" >&2
  timeout 120 apt-get update -qq >/dev/null 2>&1 || true
  DEBIAN_FRONTEND=noninteractive timeout 120 apt-get install -y -qq --no-install-recommends ethtool \
    >/dev/null 2>&1 || true
fi
PY=/usr/bin/python3  # not a version-manager shim: no startup cost
[[ -x $PY ]] || PY=$(command -v python3)

SUFFIX=$$
NS_A=l2tpus-a-$SUFFIX
NS_B=l2tpus-b-$SUFFIX
WORK=$(mktemp -d)
PIDS=()

cleanup() {
  for pid in "${PIDS[@]:-}"; do [[ -n "$pid" ]] && kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]:-}"; do [[ -n "$pid" ]] && timeout 5 tail --pid="$pid" -f /dev/null 2>/dev/null || true; done
  ip netns del "$NS_A" 2>/dev/null || true
  ip netns del "$NS_B" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

source "$(dirname "$0")/../../scripts/lib/veth-pair.sh"
veth_pair "$NS_A" "$NS_B" 192.0.2 2001:db8:1

# wait_for FILE PATTERN: bounded wait for a line in a driver's output.
wait_for() {
  for _ in $(seq 50); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
  return 1
}

# start_driver NS OUTFILE ARGS...
start_driver() {
  local ns=$1 out=$2; shift 2
  ip netns exec "$ns" "$DRIVER" "$@" >"$out" 2>&1 &
  PIDS+=($!)
  echo $!
}

stop_driver() {
  kill -TERM "$1" 2>/dev/null || true
  timeout 10 tail --pid="$1" -f /dev/null || { kill -KILL "$1" 2>/dev/null || true; }
}

FAILED=0
CASES=0

# udp_burst DST: from site A, 40 bursts of 50 datagrams (18 and 1000 bytes)
# to a receiver at DST in site B, which checks every byte; at least 95%
# must arrive and none may differ from what was sent.
udp_burst() {
  local dst=$1
  rm -f "$WORK/udp.bound"
  ip netns exec "$NS_B" timeout 20 python3 - "$dst" "$WORK/udp.bound" <<'PY' &
import socket, sys
dst = sys.argv[1]
s = socket.socket(socket.AF_INET6 if ":" in dst else socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
s.bind((dst, 7001))
open(sys.argv[2], "w").close()  # the sender starts once this is bound
s.settimeout(3)
got = bad = 0
while True:
    try:
        d = s.recv(2000)
    except socket.timeout:
        break
    if d == b"END":
        break
    n = int.from_bytes(d[:4], "big")
    want = n.to_bytes(4, "big") + bytes((n * 7 + i) & 0xff for i in range(len(d) - 4))
    if len(d) not in (18, 1000) or d != want:
        bad += 1
    got += 1
print("received", got, "bad", bad)
sys.exit(0 if bad == 0 and got >= 0.95 * 4000 else 1)
PY
  local receiver=$!
  # A loaded machine may take over a second to start Python: a sender that
  # ran first would get ICMP port unreachable (ConnectionRefusedError).
  local waited=0
  while [[ ! -e $WORK/udp.bound ]] && ((waited < 100)); do sleep 0.1; waited=$((waited + 1)); done
  ip netns exec "$NS_A" timeout 15 python3 - "$dst" <<'PY'
import socket, sys, time
dst = sys.argv[1]
s = socket.socket(socket.AF_INET6 if ":" in dst else socket.AF_INET, socket.SOCK_DGRAM)
s.connect((dst, 7001))  # connected: consecutive IPv4 ids, as iperf3 sends
n = 0
for size in (18, 1000):
    for burst in range(40):
        for _ in range(50):
            s.send(n.to_bytes(4, "big") + bytes((n * 7 + i) & 0xff for i in range(size - 4)))
            n += 1
        time.sleep(0.005)
time.sleep(0.5)
s.send(b"END")
PY
  wait "$receiver"
}

# The bytes every byte-for-byte transfer sends, and their sha256.
head -c $((6 << 20)) /dev/urandom >"$WORK/data"
DATA_SHA=$(sha256sum "$WORK/data" | cut -d' ' -f1)
DATA_BYTES=$(stat -c %s "$WORK/data")

# tcp_transfer FROM_NS TO_NS DST PORT: sends $WORK/data over one TCP
# connection (sendfile: the sender's stack hands the TAP TSO super-frames
# where it may) to a receiver at DST in TO_NS, which reports the byte count
# and sha256 of what arrived; both must match what was sent.
tcp_transfer() {
  local from=$1 to=$2 dst=$3 port=$4
  local bound=$WORK/tcp-$port.bound got_file=$WORK/tcp-$port.got
  rm -f "$bound" "$got_file"
  ip netns exec "$to" timeout 30 "$PY" - "$dst" "$port" "$bound" >"$got_file" <<'PY' &
import hashlib, socket, sys
dst, port, bound = sys.argv[1], int(sys.argv[2]), sys.argv[3]
s = socket.socket(socket.AF_INET6 if ":" in dst else socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((dst, port))
s.listen(1)
open(bound, "w").close()  # the sender connects once this listens
s.settimeout(25)
c, _ = s.accept()
c.settimeout(25)
h, n = hashlib.sha256(), 0
while True:
    d = c.recv(1 << 20)
    if not d:
        break
    h.update(d)
    n += len(d)
c.close()
print(n, h.hexdigest())
PY
  local receiver=$! waited=0
  while [[ ! -e $bound ]] && ((waited < 100)); do sleep 0.1; waited=$((waited + 1)); done
  ip netns exec "$from" timeout 25 "$PY" - "$dst" "$port" "$WORK/data" <<'PY' || echo "  sender failed"
import socket, sys
dst, port, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
s = socket.create_connection((dst, port), timeout=20)
with open(path, "rb") as f:
    s.sendfile(f)
s.shutdown(socket.SHUT_WR)
s.recv(1)  # the receiver closes once it has read everything
PY
  wait "$receiver" || true
  local got
  got=$(cat "$got_file" 2>/dev/null)
  if [[ $got != "$DATA_BYTES $DATA_SHA" ]]; then
    echo "  TCP $from -> $dst:$port: sent $DATA_BYTES $DATA_SHA, received ${got:-nothing}"
    return 1
  fi
}

# set_tap_offloads on|off: TSO and checksum offload on both TAPs.
set_tap_offloads() {
  local ns
  for ns in "$NS_A" "$NS_B"; do
    ip netns exec "$ns" ethtool -K l2tpus0 tx "$1" tso "$1" >/dev/null 2>&1 || return 1
  done
}

# parallel_transfers FROM TO DST: four connections at once (four flows: the
# drivers spread them over their threads, sending and receiving), each
# checked.
parallel_transfers() {
  local pids=() port failed=0
  for port in 7010 7011 7012 7013; do
    tcp_transfer "$1" "$2" "$3" "$port" &
    pids+=($!)
  done
  for pid in "${pids[@]}"; do wait "$pid" || failed=1; done
  return $failed
}

# byte_transfers: 6 MB each way (inner IPv4 A->B, inner IPv6 B->A) and
# four transfers at once A->B, with the TAPs' offloads on, then off, each
# checked byte for byte.
byte_transfers() {
  local failed=0 mode
  for mode in on off; do
    if [[ $mode == off ]]; then
      if ! command -v ethtool >/dev/null; then echo "  (ethtool missing: offloads-off pass skipped)"; break; fi
      set_tap_offloads off || { echo "  ethtool could not turn the TAPs' offloads off"; return 1; }
    fi
    parallel_transfers "$NS_A" "$NS_B" 10.99.0.2 || { echo "  (four at once, offloads $mode)"; failed=1; }
    tcp_transfer "$NS_A" "$NS_B" 10.99.0.2 7002 || { echo "  (offloads $mode)"; failed=1; }
    tcp_transfer "$NS_B" "$NS_A" fd00:99::1 7003 || { echo "  (offloads $mode)"; failed=1; }
  done
  return $failed
}

# cpu_ticks PID: user+system clock ticks the process used so far.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# run_case NAME UNDERLAY(4|6) ENCAP COOKIE_A COOKIE_B L2SPEC SEQFLAGS ["tcp bytes"]
# With "tcp", also moves 20 MB over TCP (exercising segmentation offload,
# GSO/GRO and coalescing), UDP bursts (UDP GSO, USO coalescing) and checks
# the idle drivers use no CPU. With "bytes", TCP transfers checked byte for
# byte, the TAPs' offloads on and off (byte_transfers).
run_case() {
  local name=$1 af=$2 encap=$3 cookie_a=$4 cookie_b=$5 l2spec=$6 seq=$7 tcp=${8:-}
  local la lb
  if [[ $af == 4 ]]; then la=192.0.2.1 lb=192.0.2.2; else la=2001:db8:1::1 lb=2001:db8:1::2; fi
  local common=(--encap="$encap" --l2spec="$l2spec" --log=warning)
  [[ -n $seq ]] && common+=($seq)
  local a_args=(--local=$la --remote=$lb --tunnel=10 --peer-tunnel=20 --session=100
                --peer-session=200 --ifname=l2tpus0 "${common[@]}")
  local b_args=(--local=$lb --remote=$la --tunnel=20 --peer-tunnel=10 --session=200
                --peer-session=100 --ifname=l2tpus0 "${common[@]}")
  [[ -n $cookie_a ]] && a_args+=(--cookie="$cookie_a") && b_args+=(--peer-cookie="$cookie_a")
  [[ -n $cookie_b ]] && b_args+=(--cookie="$cookie_b") && a_args+=(--peer-cookie="$cookie_b")

  CASES=$((CASES + 1))
  local pa pb
  pa=$(start_driver "$NS_A" "$WORK/a.out" "${a_args[@]}")
  pb=$(start_driver "$NS_B" "$WORK/b.out" "${b_args[@]}")
  if ! wait_for "$WORK/a.out" ready || ! wait_for "$WORK/b.out" ready; then
    echo "FAIL $name: drivers did not start"; cat "$WORK/a.out" "$WORK/b.out"
    FAILED=$((FAILED + 1)); stop_driver "$pa"; stop_driver "$pb"; return
  fi
  ip -n "$NS_A" addr add 10.99.0.1/24 dev l2tpus0
  ip -n "$NS_B" addr add 10.99.0.2/24 dev l2tpus0
  ip -n "$NS_A" addr add fd00:99::1/64 dev l2tpus0 nodad
  ip -n "$NS_B" addr add fd00:99::2/64 dev l2tpus0 nodad

  local ok=1
  ip netns exec "$NS_A" ping -c 3 -i 0.2 -W 2 -q 10.99.0.2 >/dev/null || ok=0
  ip netns exec "$NS_B" ping -6 -c 3 -i 0.2 -W 2 -q fd00:99::1 >/dev/null || ok=0
  # A frame larger than a default 1500 underlay packet would carry unfragmented.
  ip netns exec "$NS_A" ping -c 2 -i 0.2 -W 2 -q -s 1400 10.99.0.2 >/dev/null || ok=0

  if [[ " $tcp " == *" tcp "* ]] && command -v iperf3 >/dev/null; then
    ip netns exec "$NS_B" timeout 30 iperf3 -s -1 -B fd00:99::2 >/dev/null 2>&1 &
    local server=$!
    sleep 0.5
    if ! ip netns exec "$NS_A" timeout 25 iperf3 -c fd00:99::2 -n 20M >"$WORK/iperf.out" 2>&1; then
      echo "  TCP transfer failed"; cat "$WORK/iperf.out"; ok=0
    fi
    wait "$server" 2>/dev/null || true
    # Bursts of equal-size UDP datagrams (sent as UDP GSO batches, written to
    # the TAP as USO frames where the kernel takes them) arrive intact.
    local dst
    for dst in 10.99.0.2 fd00:99::2; do
      if ! udp_burst "$dst" >"$WORK/udp.out" 2>&1; then
        echo "  UDP bursts to $dst failed"; cat "$WORK/udp.out"; ok=0
      fi
    done
    if grep -q "refused a UDP GSO frame" "$WORK/a.out" "$WORK/b.out"; then
      echo "  the kernel refused a coalesced UDP frame"; ok=0
    fi
    # Idle: no busy polling. Allow a tick or two for the counters dump.
    local before_a before_b
    before_a=$(cpu_ticks "$pa"); before_b=$(cpu_ticks "$pb")
    sleep 2
    if (( $(cpu_ticks "$pa") - before_a > 2 || $(cpu_ticks "$pb") - before_b > 2 )); then
      echo "  drivers busy while idle"; ok=0
    fi
  fi
  # After the checks above, which want the offloads on: this turns them off.
  if [[ " $tcp " == *" bytes "* ]]; then
    byte_transfers || ok=0
  fi

  stop_driver "$pa"
  stop_driver "$pb"
  # Counters from the final dump: the session received what the peer sent.
  local rx
  rx=$(grep '^session' "$WORK/a.out" | sed -n 's/.* rx_packets=\([0-9]*\).*/\1/p' | tail -1)
  [[ ${rx:-0} -ge 5 ]] || ok=0
  if ip -n "$NS_A" link show l2tpus0 >/dev/null 2>&1; then
    echo "  TAP left behind after shutdown"; ok=0
  fi
  # The I/O mode the drivers ran in ("ready (io_uring)" or "ready (epoll)").
  local io
  io=$(sed -n 's/^ready (\(.*\))$/\1/p' "$WORK/a.out" | head -1)
  if [[ $seq == *--io=epoll* && $io != epoll ]]; then
    echo "  asked for epoll, ran with ${io:-?}"; ok=0
  fi
  if [[ $ok == 1 ]]; then
    echo "ok   $name (rx_packets=$rx, ${io:-?})"
  else
    echo "FAIL $name"; cat "$WORK/a.out" "$WORK/b.out"; FAILED=$((FAILED + 1))
  fi
}

for af in 4 6; do
  for encap in udp ip; do
    run_case "ipv$af/$encap/no-cookie/default/bytes" $af $encap "" "" default "" bytes
    run_case "ipv$af/$encap/cookie4/none/bytes" $af $encap 01020304 a1b2c3d4 none "" bytes
    run_case "ipv$af/$encap/cookie8/default/seq/bytes" $af $encap 0102030405060708 1112131415161718 default \
      "--send-seq" bytes
    run_case "ipv$af/$encap/no-cookie/default/seq-required" $af $encap "" "" default "--send-seq --require-seq --lns"
  done
done
run_case "ipv4/udp/cookie8/default/seq-reorder" 4 udp 0102030405060708 0102030405060708 default "--send-seq --reorder-ms=100"
run_case "ipv4/udp/no-cookie/default/tcp" 4 udp "" "" default "" tcp
run_case "ipv6/udp/cookie4/none/udp6-zero-csum/tcp" 6 udp 01020304 05060708 none "--udp6-zero-csum-tx --udp6-zero-csum-rx" tcp
run_case "ipv6/ip/cookie8/default/seq/tcp" 6 ip 0102030405060708 1112131415161718 default "--send-seq" tcp
run_case "ipv4/udp/checksum/seq-reorder/tcp" 4 udp "" "" default "--udp-csum --send-seq --reorder-ms=50" tcp
# Pseudowire MTU above what the underlay carries: fragmented, as the kernel
# does (the kernel refuses UDP GSO for such segments: one message each).
run_case "ipv4/udp/mtu1600-fragmenting/tcp/bytes" 4 udp "" "" default "--mtu=1600" "tcp bytes"
# The cases above use --io=auto (io_uring where the kernel has what it needs);
# the epoll path, the fallback, gets the heavy cases too.
run_case "ipv4/udp/no-cookie/default/tcp/bytes/epoll" 4 udp "" "" default "--io=epoll" "tcp bytes"
run_case "ipv6/ip/cookie8/default/seq/tcp/bytes/epoll" 6 ip 0102030405060708 1112131415161718 default \
  "--send-seq --io=epoll" "tcp bytes"
run_case "ipv4/udp/checksum/seq-reorder/tcp/epoll" 4 udp "" "" default "--udp-csum --send-seq --reorder-ms=50 --io=epoll" tcp
run_case "ipv6/ip/mtu1600-fragmenting/tcp/bytes" 6 ip "" "" default "--mtu=1600" "tcp bytes"

# Cookie mismatch: A expects a cookie B does not send; nothing may get through.
run_mismatch() {
  CASES=$((CASES + 1))
  local pa pb
  pa=$(start_driver "$NS_A" "$WORK/a.out" --local=192.0.2.1 --remote=192.0.2.2 --tunnel=10 \
       --peer-tunnel=20 --session=100 --peer-session=200 --ifname=l2tpus0 --peer-cookie=deadbeef --log=warning)
  pb=$(start_driver "$NS_B" "$WORK/b.out" --local=192.0.2.2 --remote=192.0.2.1 --tunnel=20 \
       --peer-tunnel=10 --session=200 --peer-session=100 --ifname=l2tpus0 --cookie=0badf00d --log=warning)
  wait_for "$WORK/a.out" ready && wait_for "$WORK/b.out" ready || true
  ip -n "$NS_A" addr add 10.99.0.1/24 dev l2tpus0
  ip -n "$NS_B" addr add 10.99.0.2/24 dev l2tpus0
  local ok=1
  ip netns exec "$NS_B" ping -c 2 -i 0.2 -W 1 -q 10.99.0.1 >/dev/null && ok=0
  stop_driver "$pa"; stop_driver "$pb"
  local discards
  discards=$(grep '^session' "$WORK/a.out" | sed -n 's/.*rx_cookie_discards=\([0-9]*\).*/\1/p' | tail -1)
  [[ ${discards:-0} -ge 2 ]] || ok=0
  if [[ $ok == 1 ]]; then echo "ok   cookie-mismatch (rx_cookie_discards=$discards)"
  else echo "FAIL cookie-mismatch"; cat "$WORK/a.out"; FAILED=$((FAILED + 1)); fi
}
run_mismatch

echo "$((CASES - FAILED))/$CASES cases passed"
[[ $FAILED == 0 ]]
