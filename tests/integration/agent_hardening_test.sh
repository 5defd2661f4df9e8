#!/usr/bin/env bash
# Hardening against a careless operator and a hostile local user, with the
# real agent on the userspace datapath in a network namespace (root):
#  - the agent's TAPs carry its ownership mark; the ones no longer desired are
#    removed after a clean stop, and after kill -9 in the middle of an apply;
#  - an interface that is not the agent's is never taken over or removed;
#  - tunnels of one local UDP port with different remotes all come up;
#  - SIGTERM stops the agent while it is still starting;
#  - connection limits on the unix socket keep root's access (and the soft
#    limit on open files is raised to the hard one).
# Exit 77 (skip) without root.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
: "${BUILD_DIR:?}"
[[ $(id -u) -eq 0 ]] || { echo "skip: needs root (namespaces, TAPs)"; exit 77; }
AGENT=$BUILD_DIR/agent/l2tp-agent
CTL=$BUILD_DIR/client/l2tpctl
RUN=$(mktemp -d /tmp/l2tp-hard-XXXXXX)
NS=l2tp-hard-a-$$
NS_PEER=l2tp-hard-b-$$
SOCK=$RUN/agent.sock
LOG=$RUN/agent.log
PID=""
PASSED=0
source "$ROOT/scripts/lib/veth-pair.sh"

cleanup() {
  [[ -n "$PID" ]] && kill -9 "$PID" 2>/dev/null || true
  jobs -p | xargs -r kill 2>/dev/null || true
  ip netns del "$NS" 2>/dev/null || true
  ip netns del "$NS_PEER" 2>/dev/null || true
  rm -rf "$RUN"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; echo "--- agent log (last 30 lines)" >&2; tail -30 "$LOG" >&2 || true; cp "$LOG" /tmp/hardening-agent.log 2>/dev/null; exit 1; }
ok() { PASSED=$((PASSED + 1)); echo "ok $PASSED - $*"; }
ctl() { "$CTL" --socket "$SOCK" "$@"; }
in_ns() { ip netns exec "$NS" "$@"; }

# start [flags...]: the agent in $NS on the userspace datapath; waits 10 s.
start() {
  ip netns exec "$NS" "$AGENT" --socket="$SOCK" --state-dir="$RUN/state" --datapath=userspace --resync-interval=1s \
    --metrics-addr=127.0.0.1:9810 "$@" >>"$LOG" 2>&1 &
  PID=$!
  for _ in $(seq 1 100); do
    [[ -S $SOCK ]] && ctl info >/dev/null 2>&1 && return 0
    kill -0 "$PID" 2>/dev/null || fail "agent exited during start"
    sleep 0.1
  done
  fail "agent did not serve within 10 s"
}
stop() {
  kill -TERM "$PID"
  timeout 20 tail --pid="$PID" -f /dev/null || fail "agent did not stop on SIGTERM"
  PID=""
}
kill9() { kill -9 "$PID"; wait "$PID" 2>/dev/null || true; PID=""; }

# taps_marked: names of TAPs whose alias is an l2tp-agent mark, sorted.
taps_marked() {
  ip -n "$NS" -d -j link show type tun 2>/dev/null |
    jq -r '.[] | select((.ifalias // "") | startswith("l2tp-agent ")) | .ifname' | sort
}
tap_count() { taps_marked | grep -c . || true; }

# write_config FILE FIRST COUNT: one tunnel and COUNT sessions with ids
# FIRST.. (interfaces pwFIRST..).
write_config() {
  local file=$1 first=$2 count=$3
  {
    echo "tunnels:"
    echo "  - {name: t1, spec: {tunnelId: 10, peerTunnelId: 20, local: 192.0.2.1, remote: 192.0.2.2}}"
    echo "sessions:"
    for ((i = first; i < first + count; i++)); do
      echo "  - {name: s$i, spec: {tunnel: t1, sessionId: $i, peerSessionId: $i, interfaceName: pw$i}}"
    done
  } >"$file"
}
# wait_ready N: N sessions READY within 60 s.
wait_ready() {
  local n=$1 ready=""
  for _ in $(seq 1 600); do
    ready=$(ctl get sessions -o json | jq '[.sessions[]? | select(.status.phase == "PHASE_READY")] | length')
    [[ $ready -ge $n ]] && return 0
    sleep 0.1
  done
  fail "only $ready of $n sessions READY"
}
wait_taps() {  # wait_taps N: exactly N marked TAPs within 30 s
  local n=$1
  for _ in $(seq 1 300); do [[ $(tap_count) -eq $n ]] && return 0; sleep 0.1; done
  fail "expected $n marked TAPs, found $(tap_count): $(taps_marked | head -5 | tr '\n' ' ')"
}

veth_pair "$NS" "$NS_PEER" 192.0.2

# --- 1. ownership marks, and a restart after sessions left the config
write_config "$RUN/config.yaml" 1 3
start --config="$RUN/config.yaml"
wait_ready 3
alias=$(ip -n "$NS" -d -j link show pw1 | jq -r '.[0].ifalias')
[[ $alias =~ ^l2tp-agent\ [0-9a-f]{8}\ session\ 10/1$ ]] || fail "pw1's alias is '$alias'"
ok "a session's TAP carries the ownership mark: $alias"
ip -n "$NS" addr add 198.51.100.1/24 dev pw1
stop
write_config "$RUN/config.yaml" 1 1  # s2 and s3 dropped while the agent is down
start --config="$RUN/config.yaml"
wait_ready 1
wait_taps 1
[[ $(taps_marked) == pw1 ]] || fail "left: $(taps_marked)"
grep -q 198.51.100.1/24 <<<"$(ip -n "$NS" addr show dev pw1)" || fail "pw1 lost its address on re-attach"
ok "after a clean stop, TAPs of sessions dropped from --config are removed; the kept one is re-attached with its address"
grep -q "l2tp_agent_stray_interfaces_removed_total 2" <(in_ns curl -fsS http://127.0.0.1:9810/metrics) ||
  fail "stray removals not counted: $(in_ns curl -fsS http://127.0.0.1:9810/metrics | grep stray)"
ok "removals are counted in l2tp_agent_stray_interfaces_removed_total"
stop

# --- 2. kill -9 right after an apply --prune that swaps every session
write_config "$RUN/old.yaml" 100 300
start
ctl apply -f "$RUN/old.yaml" >/dev/null
wait_ready 300
write_config "$RUN/new.yaml" 1000 300
ctl apply -f "$RUN/new.yaml" --prune >/dev/null
kill9
start
wait_ready 300
wait_taps 300
stale=$(taps_marked | grep -c '^pw[1-4][0-9][0-9]$' || true)
[[ $stale -eq 0 ]] || fail "$stale TAPs of the pruned sessions remain"
ok "kill -9 after an apply --prune of 300 sessions: the 300 old TAPs are gone once the new ones are READY"
ctl delete tunnel t1 --cascade >/dev/null
wait_taps 0
ok "deleting the tunnel with its sessions removes their TAPs"

# --- 3. an interface that is not the agent's
ip -n "$NS" tuntap add victim0 mode tap
ip -n "$NS" addr add 198.51.100.9/24 dev victim0
cat >"$RUN/victim.yaml" <<'YAML'
tunnels:
  - {name: t1, spec: {tunnelId: 10, peerTunnelId: 20, local: 192.0.2.1, remote: 192.0.2.2}}
sessions:
  - {name: grab, spec: {tunnel: t1, sessionId: 77, peerSessionId: 77, interfaceName: victim0}}
YAML
ctl apply -f "$RUN/victim.yaml" >/dev/null
phase="" msg=""
for _ in $(seq 1 100); do
  read -r phase msg < <(ctl get sessions grab -o json | jq -r '[.status.phase, .status.message] | @tsv')
  [[ $phase == PHASE_FAILED ]] && break
  sleep 0.1
done
[[ $phase == PHASE_FAILED ]] || fail "session on victim0 is $phase"
[[ $msg == *"victim0 exists and is not this agent's"* ]] || fail "message: $msg"
ok "a session naming someone else's interface is FAILED: $msg"
ctl delete session grab >/dev/null
sleep 1.5  # a resync pass
grep -q 198.51.100.9/24 <<<"$(ip -n "$NS" addr show dev victim0)" || fail "victim0 was changed or removed"
[[ -z $(ip -n "$NS" -d -j link show victim0 | jq -r '.[0].ifalias // empty') ]] || fail "victim0 got an alias"
ok "the interface keeps its address and alias after the session is deleted"

# --- 4. a hub: two tunnels on one local UDP port to two peers (two more
# agents in the peer namespace, on two addresses), same session ids in both:
# each peer's traffic must reach its own tunnel's session.
ip -n "$NS_PEER" addr add 192.0.2.21/24 dev veth-b
ip -n "$NS_PEER" addr add 192.0.2.22/24 dev veth-b
{
  echo "tunnels:"
  for i in 1 2; do
    echo "  - {name: hub$i, spec: {tunnelId: 5$i, peerTunnelId: 6$i, local: 192.0.2.1, remote: 192.0.2.2$i, udpSourcePort: 1701, udpDestinationPort: 1701}}"
  done
  echo "sessions:"
  for i in 1 2; do
    echo "  - {name: hubs$i, spec: {tunnel: hub$i, sessionId: 1, peerSessionId: 1, interfaceName: hubpw$i}}"
  done
} >"$RUN/hub.yaml"
PEER_PIDS=()
for i in 1 2; do
  cat >"$RUN/spoke$i.yaml" <<YAML
tunnels:
  - {name: spoke, spec: {tunnelId: 6$i, peerTunnelId: 5$i, local: 192.0.2.2$i, remote: 192.0.2.1, udpSourcePort: 1701, udpDestinationPort: 1701}}
sessions:
  - {name: spoke, spec: {tunnel: spoke, sessionId: 1, peerSessionId: 1, interfaceName: spokepw$i}}
YAML
  ip netns exec "$NS_PEER" "$AGENT" --socket="$RUN/spoke$i.sock" --state-dir="$RUN/spoke$i" --datapath=userspace \
    --metrics-addr= --config="$RUN/spoke$i.yaml" >>"$RUN/spoke$i.log" 2>&1 &
  PEER_PIDS+=($!)
done
ctl apply -f "$RUN/hub.yaml" >/dev/null
n=0
for _ in $(seq 1 100); do
  n=$(ctl get tunnels -o json | jq '[.tunnels[] | select((.name | startswith("hub")) and .status.phase == "PHASE_READY")] | length')
  [[ $n -eq 2 ]] && break
  sleep 0.1
done
[[ $n -eq 2 ]] || fail "only $n of 2 hub tunnels READY: $(ctl get tunnels)"
ok "two tunnels on local port 1701 to different remotes are both READY"
for _ in $(seq 1 100); do ip -n "$NS_PEER" link show spokepw2 >/dev/null 2>&1 && break; sleep 0.1; done
for i in 1 2; do
  ip -n "$NS" addr add "198.51.100.$((4 * i - 3))/30" dev "hubpw$i"
  ip -n "$NS_PEER" addr add "198.51.100.$((4 * i - 2))/30" dev "spokepw$i"
done
for i in 1 2; do
  in_ns ping -c 3 -i 0.2 -W 2 "198.51.100.$((4 * i - 2))" >/dev/null || fail "no ping through hub tunnel $i"
done
ok "pings pass through both: each peer's packets reach its own tunnel"
kill -TERM "${PEER_PIDS[@]}"
for pid in "${PEER_PIDS[@]}"; do timeout 20 tail --pid="$pid" -f /dev/null || true; done
stop

# --- 5. hostile packets from the peer's address and port: zero-length
# datagrams are counted as invalid and leave the receive path on io_uring;
# frames far longer than the session's MTU are dropped and counted as errors.
start
cat >"$RUN/packets.yaml" <<'YAML'
tunnels:
  - {name: t9, spec: {tunnelId: 90, peerTunnelId: 91, local: 192.0.2.1, remote: 192.0.2.2, udpSourcePort: 1709, udpDestinationPort: 1709}}
sessions:
  - {name: s9, spec: {tunnel: t9, sessionId: 900, peerSessionId: 901, interfaceName: pw900, mtu: 1400}}
YAML
ctl apply -f "$RUN/packets.yaml" >/dev/null
for _ in $(seq 1 100); do [[ $(ctl get sessions s9 -o json | jq -r .status.phase) == PHASE_READY ]] && break; sleep 0.1; done
counter() {  # counter tunnels|sessions NAME FIELD (after a resync pass)
  ctl get "$1" "$2" -o json | jq -r ".status.counters.$3 // \"0\""
}
# send ZEROS SIZES...: from 192.0.2.2:1709, ZEROS empty datagrams, then one
# L2TPv3 data packet for session 900 (default sublayer) per Ethernet frame size.
send() {
  ip netns exec "$NS_PEER" /usr/bin/python3 - "$@" <<'PY'
import socket, struct, sys, time
zeros, sizes = int(sys.argv[1]), [int(a) for a in sys.argv[2:]]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("192.0.2.2", 1709))
for _ in range(zeros):
    s.sendto(b"", ("192.0.2.1", 1709))
for size in sizes:
    frame = b"\xff" * 6 + b"\x02\x00\x00\x00\x00\x01" + b"\x08\x00" + bytes(size - 14)
    s.sendto(struct.pack("!HHI", 3, 0, 900) + b"\x00" * 4 + frame, ("192.0.2.1", 1709))
    time.sleep(0.05)
PY
}
send 5 100
sleep 1.5  # a resync pass refreshes the counters
[[ $(counter tunnels t9 rxInvalid) -ge 5 ]] || fail "zero-length datagrams not counted: rxInvalid $(counter tunnels t9 rxInvalid)"
! grep -q "io_uring receive failed" "$LOG" || fail "a zero-length datagram moved the receive path off io_uring: $(grep 'io_uring receive failed' "$LOG")"
[[ $(counter sessions s9 rxPackets) -eq 1 ]] || fail "the frame after them was not received: rxPackets $(counter sessions s9 rxPackets)"
ok "zero-length datagrams are counted as invalid; the receive path stays on io_uring and receives on"
send 0 60000 1418 1419
sleep 1.5
[[ $(counter sessions s9 rxErrors) -eq 2 ]] || fail "oversized frames: rxErrors $(counter sessions s9 rxErrors), expected 2"
[[ $(counter sessions s9 rxPackets) -eq 2 ]] || fail "rxPackets $(counter sessions s9 rxPackets), expected 2 (the 1418-byte frame fits MTU 1400 + 14 + a VLAN tag)"
ok "frames longer than the MTU plus Ethernet header and VLAN tag are dropped and counted as errors"
ctl delete tunnel t9 --cascade >/dev/null
stop

# --- 6. SIGTERM while starting (a large --config takes seconds to apply)
write_config "$RUN/big.yaml" 1 60000
rm -rf "$RUN/state"
ip netns exec "$NS" "$AGENT" --socket="$SOCK" --state-dir="$RUN/state" --datapath=memory --metrics-addr= \
  --config="$RUN/big.yaml" >>"$LOG" 2>&1 &
PID=$!
sleep 0.3
kill -0 "$PID" 2>/dev/null || fail "agent exited before SIGTERM"
[[ ! -S $SOCK ]] || fail "agent already serving; the start-up is too fast for this test"
kill -TERM "$PID"
timeout 3 tail --pid="$PID" -f /dev/null || fail "agent still running 3 s after SIGTERM during start-up"
rc=0; wait "$PID" || rc=$?
PID=""
[[ $rc -eq 0 ]] || fail "exit status $rc"
grep -q "received SIGTERM while starting" "$LOG" || fail "no start-up SIGTERM message"
ok "SIGTERM during start-up stops the agent at once"

# --- 7. connection limits on the unix socket
rm -rf "$RUN/state"
start --max-connections=12 --max-connections-per-peer=8
hard=$(awk '/Max open files/ {print $5}' "/proc/$PID/limits")
soft=$(awk '/Max open files/ {print $4}' "/proc/$PID/limits")
[[ $soft == "$hard" ]] || fail "open files: soft $soft, hard $hard"
ok "the soft limit on open files is raised to the hard limit ($hard)"
chmod 0755 "$RUN"; chmod 0666 "$SOCK"  # the test's two unprivileged uids may connect
# hold UID N: N connections held open by uid UID for 20 s; prints how many
# the agent closed at once (EOF within 0.5 s).
hold() {
  setpriv --reuid="$1" --regid="$1" --clear-groups /usr/bin/python3 - "$SOCK" "$2" <<'PY'
import socket, sys, time, select
path, n = sys.argv[1], int(sys.argv[2])
conns = []
for _ in range(n):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    conns.append(s)
time.sleep(0.5)
closed = 0
for s in conns:
    r, _, _ = select.select([s], [], [], 0)
    if r and s.recv(1, socket.MSG_DONTWAIT) == b"":
        closed += 1
print(closed, flush=True)
time.sleep(20)
PY
}
hold 65534 10 >"$RUN/hold1" &
sleep 1.5
[[ $(head -1 "$RUN/hold1") == 2 ]] || fail "uid 65534: $(cat "$RUN/hold1") of 10 closed, expected 2"
ok "a uid's connections beyond --max-connections-per-peer are closed at once"
hold 65533 10 >"$RUN/hold2" &
sleep 1.5
[[ $(head -1 "$RUN/hold2") == 6 ]] || fail "uid 65533: $(cat "$RUN/hold2") of 10 closed, expected 6 (12 in all)"
ok "connections beyond --max-connections in all are closed"
ctl info >/dev/null || fail "root cannot reach the agent while others hold every connection"
ok "root still reaches the agent (the reserve)"
metrics=$(in_ns curl -fsS http://127.0.0.1:9810/metrics)
grep -q 'l2tp_agent_connections_refused_total{listener="unix",reason="per_peer"} 2' <<<"$metrics" || fail "per_peer refusals not counted"
grep -q 'l2tp_agent_connections_refused_total{listener="unix",reason="total"} 6' <<<"$metrics" || fail "total refusals not counted"
ok "refusals are counted by reason"
stop
echo "$PASSED passed, 0 failed"
