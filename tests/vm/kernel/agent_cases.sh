#!/usr/bin/env bash
# Inside the test VM: l2tp-agent --datapath=kernel driven with l2tpctl, the
# kernel's state read back with iproute2. Cases: apply, restart with zero
# kernel writes, adoption by an agent with no state, drift repair after
# `ip l2tp del`, sequencing and MTU changed in place, delete, and the
# multicast wake-up (repair long before the resync interval).
#
#   agent_cases.sh AGENT L2TPCTL
#
# The agent logs every kernel write at debug level ("kernel: write N: ..."),
# which is what the zero-write checks count.
set -uo pipefail
AGENT=$1 CTL=$2
DIR=/run/agent-test
SOCK=$DIR/agent.sock
mkdir -p "$DIR"
pass=0 fail=0 AGENT_PID=""

result() { if [[ $2 == 0 ]]; then echo "PASS: $1"; pass=$((pass + 1)); else echo "FAIL: $1"; fail=$((fail + 1)); fi; }
ctl() { "$CTL" --socket "$SOCK" --timeout 20s "$@"; }

# start_agent LOG STATE_DIR [RESYNC]: runs the agent, waits for its socket.
start_agent() {
  rm -f "$SOCK"
  "$AGENT" --socket="$SOCK" --state-dir="$2" --datapath=kernel --resync-interval="${3:-1s}" \
    --log-level=debug >"$DIR/$1" 2>&1 &
  AGENT_PID=$!
  for _ in $(seq 1 300); do
    [[ -S $SOCK ]] && return 0
    kill -0 "$AGENT_PID" 2>/dev/null || break
    sleep 0.1
  done
  echo "agent did not start:"; cat "$DIR/$1"; return 1
}
stop_agent() {
  [[ -n $AGENT_PID ]] || return 0
  kill -TERM "$AGENT_PID" 2>/dev/null
  for _ in $(seq 1 200); do kill -0 "$AGENT_PID" 2>/dev/null || break; sleep 0.05; done
  kill -KILL "$AGENT_PID" 2>/dev/null
  wait "$AGENT_PID" 2>/dev/null
  AGENT_PID=""
}
trap stop_agent EXIT

# ready N: N sessions READY within 30 s.
ready() {
  local n
  for _ in $(seq 1 300); do
    n=$(ctl get sessions -o json 2>/dev/null | grep -o PHASE_READY | wc -l)
    [[ $n == "$1" ]] && return 0
    sleep 0.1
  done
  ctl get all -o wide
  return 1
}
# poll SECONDS CMD...: until CMD succeeds.
poll() {
  local deadline=$((SECONDS + $1)); shift
  while ((SECONDS < deadline)); do "$@" && return 0; sleep 0.2; done
  "$@"
}
session_text() { ip l2tp show session | awk -v h="Session $1 in tunnel $2" '$0 == h {p = 1; print; next} /^Session / {p = 0} p'; }
ifindex() { ip -o link show dev "$1" | cut -d: -f1; }
has() { grep -qF -- "$2" <<<"$1" || { echo "  missing \"$2\" in:"; sed 's/^/    /' <<<"$1"; return 1; }; }
writes_in() { grep -c "kernel: write" "$DIR/$1"; }

# The underlay: remote addresses reachable through a veth pair.
ip link add u0 type veth peer name u1
ip addr add 10.1.0.1/24 dev u0
ip -6 addr add fd01::1/64 dev u0 nodad
ip link set u0 up
ip link set u1 up

config() {  # config SEND_SEQ MTU
  cat <<YAML
tunnels:
  - name: t-udp
    spec: {tunnelId: 4001, peerTunnelId: 5001, encap: ENCAPSULATION_UDP, local: 10.1.0.1, remote: 10.1.0.2, udpSourcePort: 14001, udpDestinationPort: 15001}
  - name: t-ip6
    spec: {tunnelId: 4002, peerTunnelId: 5002, encap: ENCAPSULATION_IP, local: "fd01::1", remote: "fd01::2"}
sessions:
  - name: s-udp
    spec: {tunnel: t-udp, sessionId: 41, peerSessionId: 51, interfaceName: ag-udp, cookie: "0x0102030405060708", peerCookie: "0xa1a2a3a4", mtu: $2, sendSequence: $1, requireSequence: $1}
  - name: s-ip6
    spec: {tunnel: t-ip6, sessionId: 42, peerSessionId: 52, interfaceName: ag-ip6, l2SpecificSublayer: L2_SPECIFIC_SUBLAYER_NONE}
YAML
}
config false 1400 >"$DIR/base.yaml"
config true 1300 >"$DIR/seq.yaml"

# 1. Apply: iproute2 shows exactly the spec.
case_apply() {
  start_agent agent1.log "$DIR/state" || return 1
  ctl apply -f "$DIR/base.yaml" || return 1
  ready 2 || return 1
  local t s
  t=$(ip l2tp show tunnel)
  has "$t" "Tunnel 4001, encap UDP" && has "$t" "From 10.1.0.1 to 10.1.0.2" && has "$t" "Peer tunnel 5001" &&
    has "$t" "UDP source / dest ports: 14001/15001" && has "$t" "Tunnel 4002, encap IP" &&
    has "$t" "From fd01::1 to fd01::2" && has "$t" "Peer tunnel 5002" || return 1
  s=$(session_text 41 4001)
  has "$s" "Peer session 51, tunnel 5001" && has "$s" "interface name: ag-udp" &&
    has "$s" "cookie 0102030405060708  peer cookie a1a2a3a4" || return 1
  [[ $(session_text 42 4002) == *"interface name: ag-ip6"* ]] || return 1
  has "$(ip link show dev ag-udp)" "mtu 1400" && has "$(ip link show dev ag-udp)" ",UP" || return 1
  # No MTU in the spec: 1500 - IPv6 40 - session id 4 - Ethernet 14 (no sublayer, no cookie).
  has "$(ip link show dev ag-ip6)" "mtu 1442" && has "$(ip link show dev ag-ip6)" ",UP" || return 1
  # The write log the zero-write cases count: 2 tunnels, 2 sessions, 2 interface set-ups.
  local n; n=$(writes_in agent1.log)
  [[ $n == 6 ]] || { echo "  $n kernel writes logged, want 6"; grep "kernel: write" "$DIR/agent1.log"; return 1; }
}
case_apply; result "agent applies a config; iproute2 shows it" $?
IFINDEX=$(ifindex ag-udp)

# 2. Restart with the same state: nothing to do, so no kernel writes.
case_restart() {
  stop_agent
  start_agent agent2.log "$DIR/state" || return 1
  ready 2 || return 1
  sleep 2.5  # two more resync passes
  local n; n=$(writes_in agent2.log)
  [[ $n == 0 ]] || { echo "  $n kernel writes after restart:"; grep "kernel: write" "$DIR/agent2.log"; return 1; }
  [[ $(ifindex ag-udp) == "$IFINDEX" ]]
}
case_restart; result "restart makes zero kernel writes" $?

# 3. A new agent with no state finds the objects and adopts them.
case_adopt() {
  stop_agent
  start_agent agent3.log "$DIR/state-new" || return 1
  ctl apply -f "$DIR/base.yaml" || return 1
  ready 2 || return 1
  sleep 1.5
  local n adopted; n=$(writes_in agent3.log); adopted=$(grep -c " adopted" "$DIR/agent3.log")
  [[ $n == 0 ]] || { echo "  $n kernel writes during adoption:"; grep "kernel: write" "$DIR/agent3.log"; return 1; }
  [[ $adopted == 4 ]] || { echo "  adopted $adopted objects, want 4"; return 1; }
  [[ $(ifindex ag-udp) == "$IFINDEX" ]]
}
case_adopt; result "adoption of existing kernel objects makes zero writes" $?

# 4. Drift: a session deleted behind the agent's back comes back.
case_drift_session() {
  ip l2tp del session tunnel_id 4001 session_id 41 || return 1
  poll 15 bash -c 'ip link show dev ag-udp 2>/dev/null | grep -q "mtu 1400.*" && ip link show dev ag-udp | grep -q ",UP"' || return 1
  [[ $(session_text 41 4001) == *"cookie 0102030405060708  peer cookie a1a2a3a4"* ]] || return 1
  grep -q "drift: session/s-udp disappeared" "$DIR/agent3.log"
}
case_drift_session; result "drift repair after ip l2tp del session" $?

# 5. Drift: a whole tunnel deleted behind the agent's back.
case_drift_tunnel() {
  ip l2tp del tunnel tunnel_id 4002 || return 1
  poll 15 bash -c 'ip l2tp show session | grep -q "Session 42 in tunnel 4002"' || return 1
  has "$(ip l2tp show tunnel)" "Tunnel 4002, encap IP" && grep -q "drift: tunnel/t-ip6 disappeared" "$DIR/agent3.log"
}
case_drift_tunnel; result "drift repair after ip l2tp del tunnel" $?

# 6. Sequencing and MTU change in place: same interface, new settings.
case_modify() {
  local before; before=$(ifindex ag-udp)
  ctl apply -f "$DIR/seq.yaml" || return 1
  poll 15 bash -c 'ip link show dev ag-udp | grep -q "mtu 1300"' || return 1
  has "$(session_text 41 4001)" "sequence numbering: send recv" || return 1
  [[ $(ifindex ag-udp) == "$before" ]] || { echo "  interface was recreated"; return 1; }
  grep -q "modify session" "$DIR/agent3.log" && ! grep -q "delete session 4001/41" "$DIR/agent3.log"
}
case_modify; result "sequencing and MTU modified in place" $?

# 7. Delete through the API.
case_delete() {
  ctl delete tunnel t-ip6 --cascade || return 1
  poll 15 bash -c '! ip l2tp show tunnel | grep -q "Tunnel 4002"' || return 1
  ! ip link show dev ag-ip6 >/dev/null 2>&1 && ip l2tp show tunnel | grep -q "Tunnel 4001"
}
case_delete; result "delete through the API removes the kernel objects" $?

# 8. With a 10-minute resync, only the l2tp multicast wake-up can explain a
# prompt repair of an `ip l2tp del`.
case_wakeup() {
  stop_agent
  start_agent agent4.log "$DIR/state-new" 600s || return 1
  ready 1 || return 1
  sleep 1
  ip l2tp del session tunnel_id 4001 session_id 41 || return 1
  poll 8 bash -c 'ip l2tp show session | grep -q "Session 41 in tunnel 4001"' || return 1
  grep -q "drift: session/s-udp disappeared" "$DIR/agent4.log"
}
case_wakeup; result "external delete repaired at once (multicast wake-up, resync 600 s)" $?

stop_agent
echo "agent cases: $pass passed, $fail failed"
if ((fail > 0)); then
  for f in "$DIR"/agent*.log; do echo "--- $f (last 40 lines)"; tail -40 "$f"; done
fi
((fail == 0))
