#!/usr/bin/env bash
# Agent start-up: --config, a bad --config, plaintext TCP on loopback with
# --listen --insecure (TLS and the rest: agent_security_test.sh), --userspace-io,
# refusing a socket path that is not a socket, and a corrupted state file.
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/lib.sh"
ROOT=$(cd "$HERE/../.." && pwd)

start_agent --config="$ROOT/examples/pseudowires.yaml"
[[ $(ctl get sessions -o json | jq '.sessions | length') == 2 ]] || fail "--config did not apply the example"
wait_for "example READY" all_ready
ok "--config applies a YAML file at start"
stop_agent

cp "$ROOT/examples/pseudowires.yaml" "$WORK/bad.yaml"
sed -i 's/peerSessionId: 9/peerSessionId: 0/' "$WORK/bad.yaml"
rc=0
"$AGENT" --socket="$SOCK" --state-dir="$STATE" --datapath=memory --config="$WORK/bad.yaml" >"$WORK/bad.log" 2>&1 || rc=$?
[[ $rc -ne 0 ]] || fail "agent started with an invalid --config"
grep -q "sessions\[1\].spec.peer_session_id: must be non-zero" "$WORK/bad.log" || fail "bad config message: $(cat "$WORK/bad.log")"
start_agent
[[ $(ctl get sessions -o json | jq '.sessions | length') == 2 ]] || fail "a rejected --config changed the state"
ok "an invalid --config stops the agent with the field path and changes nothing"
stop_agent

port=$((20000 + RANDOM % 20000))
start_agent --listen="127.0.0.1:$port" --insecure
"$CTL" --server "127.0.0.1:$port" --insecure get tunnels | grep -q to-site-b || fail "l2tpctl --server over TCP"
ok "--listen --insecure serves plaintext TCP on loopback; l2tpctl --server --insecure reaches it"
stop_agent
rc=0
"$AGENT" --socket="$SOCK" --state-dir="$STATE" --datapath=memory --listen=0.0.0.0:$port --insecure >"$WORK/tcp.log" 2>&1 || rc=$?
[[ $rc -ne 0 ]] && grep -q "loopback" "$WORK/tcp.log" || fail "plaintext TCP on a non-loopback address was accepted"
rc=0
"$AGENT" --socket="$SOCK" --state-dir="$STATE" --datapath=memory --listen=127.0.0.1:$port >"$WORK/tcp.log" 2>&1 || rc=$?
[[ $rc -ne 0 ]] && grep -q "TCP needs TLS" "$WORK/tcp.log" || fail "TCP without TLS or --insecure was accepted"
ok "plaintext TCP is refused off loopback, and without --insecure anywhere"

touch "$WORK/not-a-socket"
rc=0
"$AGENT" --socket="$WORK/not-a-socket" --state-dir="$STATE" --datapath=memory >"$WORK/ns.log" 2>&1 || rc=$?
[[ $rc -ne 0 ]] && grep -q "is not a socket" "$WORK/ns.log" || fail "agent replaced a regular file at --socket"
ok "refuses a --socket path that is not a socket"

start_agent
rc=0
"$AGENT" --socket="$SOCK" --state-dir="$WORK/other" --datapath=memory >"$WORK/two.log" 2>&1 || rc=$?
[[ $rc -ne 0 ]] && grep -q "already running" "$WORK/two.log" || fail "a second agent took over a live socket"
ok "a second agent does not steal a live socket"
stop_agent

rc=0
"$AGENT" --socket="$SOCK" --state-dir="$STATE" --datapath=memory --userspace-io=poll >"$WORK/io.log" 2>&1 || rc=$?
[[ $rc -ne 0 ]] && grep -q -- '--userspace-io: I/O mode must be auto, io_uring or epoll, got "poll"' "$WORK/io.log" ||
  fail "a bad --userspace-io was not refused by name: $(cat "$WORK/io.log")"
# The userspace datapath (no tunnels: no TAPs, nothing on the network) says
# how its threads do I/O; epoll always works, io_uring where the kernel allows.
mport=$((20000 + RANDOM % 20000))
DATAPATH=userspace METRICS_ADDR=127.0.0.1:$mport start_agent --userspace-io=epoll
ctl info -o json | jq -e '.capabilities | index("io/epoll")' >/dev/null || fail "--userspace-io=epoll: $(ctl info -o json)"
curl -fsS "http://127.0.0.1:$mport/metrics" >"$WORK/io-metrics.txt" || fail "/metrics"
grep -q '^l2tp_agent_datapath_info{datapath="userspace",io="epoll"} 1' "$WORK/io-metrics.txt" ||
  fail "l2tp_agent_datapath_info without io=\"epoll\": $(grep datapath_info "$WORK/io-metrics.txt")"
stop_agent
rc=0
"$AGENT" --socket="$SOCK" --state-dir="$STATE" --datapath=userspace --userspace-io=io_uring >"$WORK/io.log" 2>&1 &
io_pid=$!
for _ in $(seq 1 100); do
  { [[ -S $SOCK ]] && ctl info >/dev/null 2>&1; } || ! kill -0 "$io_pid" 2>/dev/null && break
  sleep 0.1
done
if kill -0 "$io_pid" 2>/dev/null; then
  ctl info -o json | jq -e '.capabilities | index("io/io_uring")' >/dev/null || fail "--userspace-io=io_uring: $(ctl info -o json)"
  kill -TERM "$io_pid"; wait "$io_pid" || fail "agent with io_uring did not stop cleanly"
else
  wait "$io_pid" || rc=$?
  grep -q -- "--datapath=userspace: io_uring" "$WORK/io.log" || fail "io_uring refused without the reason: $(cat "$WORK/io.log")"
fi
ok "--userspace-io picks epoll or io_uring (or says why io_uring cannot run); a bad value is refused"

# Transmit and receive spreading: on by default where there is more than one
# I/O thread (one per CPU) and the TAP steering program loads (receiving:
# with io_uring); off when asked, receiving alone or both.
if [[ $(nproc) -gt 1 ]]; then
  has() { ctl info -o json | jq -e ".capabilities | index(\"$1\")" >/dev/null; }
  DATAPATH=userspace start_agent
  has tx/spread || fail "transmit spreading not on by default: $(ctl info -o json)"
  uring=$(ctl info -o json | jq -r '.capabilities | index("io/io_uring") != null')
  if [[ $uring == true ]]; then
    has rx/spread || fail "receive spreading not on by default with io_uring: $(ctl info -o json)"
  fi
  stop_agent
  DATAPATH=userspace start_agent --userspace-spread-rx=false
  has tx/spread || fail "--userspace-spread-rx=false turned transmit spreading off"
  ! has rx/spread || fail "--userspace-spread-rx=false left receive spreading on"
  stop_agent
  DATAPATH=userspace start_agent --userspace-spread-tx=false
  ! has tx/spread || fail "--userspace-spread-tx=false left it on: $(ctl info -o json)"
  ! has rx/spread || fail "--userspace-spread-tx=false left receive spreading on"
  stop_agent
  ok "--userspace-spread-tx/-rx: spreading on by default, off when asked"
fi

printf 'garbage' >"$STATE/state.pb.prev"
head -c 40 "$STATE/state.pb" >"$WORK/trunc" && mv "$WORK/trunc" "$STATE/state.pb"
rc=0
"$AGENT" --socket="$SOCK" --state-dir="$STATE" --datapath=memory >"$WORK/corrupt.log" 2>&1 || rc=$?
[[ $rc -ne 0 ]] && grep -q "truncated" "$WORK/corrupt.log" || fail "corrupt state with no good previous state must stop the agent: $(cat "$WORK/corrupt.log")"
ok "a corrupt state file without a good previous one stops the agent with the reason"
finish
