#!/usr/bin/env bash
# DYNAMIC tunnels end to end: two l2tp-agents (userspace datapath) in two
# network namespaces joined by a veth run the L2TP control protocol (RFC
# 3931) with each other, learn ids and cookies, match pseudowires by Remote
# End ID and pass traffic; under loss, duplication and reordering; a silent
# peer is noticed and the initiator reconnects; StopCCN reaches the peer;
# bad control specs are refused through the API; two INITIATORs break the tie.
#
# Root (network namespaces, TAPs, iptables in the test's own namespace);
# exits 77 otherwise. Addresses are used only on the veth and TAPs this
# script creates inside its own namespaces (192.0.2.0/24, 2001:db8:1::/64;
# 10.x inside the pseudowires). Everything is removed by the exit trap;
# every wait is bounded. KEEP_LOGS=1 keeps the agents' logs and configs.
# The lossy relay of case 3 is control_relay.py, next to this script.
set -euo pipefail

[[ $(id -u) -eq 0 ]] || { echo "needs root (network namespaces)" >&2; exit 77; }

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BUILD_DIR=${BUILD_DIR:-$ROOT/build}
AGENT="$BUILD_DIR/agent/l2tp-agent"
CTL="$BUILD_DIR/client/l2tpctl"
RELAY="$HERE/control_relay.py"
[[ -x $AGENT && -x $CTL ]] || { echo "BUILD_DIR=$BUILD_DIR has no agent/l2tp-agent and client/l2tpctl" >&2; exit 1; }
for tool in jq curl ping; do command -v "$tool" >/dev/null || { echo "$tool missing (scripts/setup.sh)" >&2; exit 1; }; done
PYTHON=""
for p in python3 /usr/bin/python3; do
  if "$p" -c 'import select, heapq, json' 2>/dev/null; then PYTHON=$p; break; fi
done
[[ -n $PYTHON ]] || { echo "python3 missing" >&2; exit 1; }

SUFFIX=$$
NS_A=l2tpctl-a-$SUFFIX
NS_B=l2tpctl-b-$SUFFIX
WORK=$(mktemp -d /tmp/l2tp-control-XXXXXX)
PID_A="" PID_B="" PID_RELAY=""
PASSED=0
T_START=$SECONDS

cleanup() {
  [[ -n $PID_B ]] && kill -CONT "$PID_B" 2>/dev/null || true
  for pid in $PID_RELAY $PID_A $PID_B; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in $PID_RELAY $PID_A $PID_B; do
    timeout 5 tail --pid="$pid" -f /dev/null 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
  done
  ip netns del "$NS_A" 2>/dev/null || true
  ip netns del "$NS_B" 2>/dev/null || true
  if [[ -n ${KEEP_LOGS:-} ]]; then echo "logs kept in $WORK (KEEP_LOGS)" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

fail() {
  echo "FAIL: $*" >&2
  for side in a b; do
    if [[ -f $WORK/$side.log ]]; then
      echo "--- agent $side log (last 40 lines)" >&2
      tail -40 "$WORK/$side.log" >&2
    fi
  done
  for side in a b; do
    if [[ -S $WORK/$side.sock ]]; then
      echo "--- agent $side: tunnels and sessions" >&2
      ctl "$side" get all -o wide >&2 2>&1 || true
      echo "--- agent $side: events (newest first)" >&2
      ctl "$side" events --limit 15 >&2 2>&1 || true
    fi
  done
  exit 1
}

ok() { PASSED=$((PASSED + 1)); echo "ok $PASSED - $*"; }

ctl() { local side=$1; shift; "$CTL" --socket "$WORK/$side.sock" --timeout 10s "$@"; }
ns_of() { if [[ $1 == a ]]; then echo "$NS_A"; else echo "$NS_B"; fi; }
in_ns() { local ns; ns=$(ns_of "$1"); shift; ip netns exec "$ns" "$@"; }

# wait_until SECONDS DESC CMD...: polls CMD every 0.2 s until it succeeds.
wait_until() {
  local limit=$1 desc=$2; shift 2
  local deadline=$((SECONDS + limit))
  while ((SECONDS < deadline)); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.2
  done
  fail "timed out after ${limit} s waiting for: $desc"
}

# Milliseconds since the epoch (for measured durations).
now_ms() { date +%s%3N; }

start_agent() {
  local side=$1 ns
  ns=$(ns_of "$side")
  ip netns exec "$ns" "$AGENT" --socket="$WORK/$side.sock" --state-dir="$WORK/$side.state" \
    --datapath=userspace --resync-interval=1s --metrics-addr=127.0.0.1:9810 --log-level=info \
    >>"$WORK/$side.log" 2>&1 &
  local pid=$!
  if [[ $side == a ]]; then PID_A=$pid; else PID_B=$pid; fi
  for _ in $(seq 1 100); do
    if [[ -S $WORK/$side.sock ]] && ctl "$side" info >/dev/null 2>&1; then return 0; fi
    kill -0 "$pid" 2>/dev/null || fail "agent $side exited during start"
    sleep 0.1
  done
  fail "agent $side did not serve on $WORK/$side.sock within 10 s"
}

tunnel_json() { ctl "$1" get tunnels "$2" -o json; }
session_json() { ctl "$1" get sessions "$2" -o json; }
control_state() { tunnel_json "$1" "$2" | jq -r '.status.tunnelControl.state // "none"'; }

established() { [[ $(control_state "$1" "$2") == CONTROL_STATE_ESTABLISHED ]]; }
session_ready() { [[ $(session_json "$1" "$2" | jq -r '.status.phase') == PHASE_READY ]]; }

# tunnel_up T S1 S2...: both sides ESTABLISHED and every session READY on both.
tunnel_up() {
  local t=$1; shift
  established a "$t" && established b "$t" || return 1
  local s
  for s in "$@"; do session_ready a "$s" && session_ready b "$s" || return 1; done
}

# check_peers T: each side's peerHostName and peerTunnelId are the other's
# host name and tunnel id.
check_peers() {
  local t=$1 ja jb
  ja=$(tunnel_json a "$t" | jq -c '.status.tunnelControl')
  jb=$(tunnel_json b "$t" | jq -c '.status.tunnelControl')
  local id_a id_b
  id_a=$(jq -r '.tunnelId // 0' <<<"$ja")
  id_b=$(jq -r '.tunnelId // 0' <<<"$jb")
  [[ $id_a != 0 && $id_b != 0 ]] || fail "$t: tunnel ids not picked: A $ja, B $jb"
  [[ $(jq -r '.peerTunnelId' <<<"$ja") == "$id_b" ]] || fail "$t: A's peerTunnelId is not B's tunnelId: A $ja, B $jb"
  [[ $(jq -r '.peerTunnelId' <<<"$jb") == "$id_a" ]] || fail "$t: B's peerTunnelId is not A's tunnelId: A $ja, B $jb"
  [[ $(jq -r '.peerHostName' <<<"$ja") == site-b ]] || fail "$t: A's peerHostName is not site-b: $ja"
  [[ $(jq -r '.peerHostName' <<<"$jb") == site-a ]] || fail "$t: B's peerHostName is not site-a: $jb"
}

# check_cookie SIDE SESSION COOKIE: SIDE learned COOKIE (what the other side asked for).
check_cookie() {
  local got
  got=$(session_json "$1" "$2" | jq -r '.status.sessionControl.peerCookie // ""')
  [[ ${got,,} == "${3,,}" ]] || fail "session $2 on $1: learned cookie '$got', want '$3'"
}

# address IFACE on SIDE, up.
tap_addr() {
  local side=$1 ifname=$2 addr=$3
  in_ns "$side" ip addr add "$addr" dev "$ifname"
  in_ns "$side" ip link set "$ifname" up
}

# ping_count SIDE DST COUNT: prints how many replies came back.
ping_count() {
  local out
  out=$(in_ns "$1" ping -c "$3" -i 0.2 -W 1 -q "$2" 2>&1 || true)
  sed -nE 's/.* ([0-9]+) received.*/\1/p' <<<"$out" | head -1
}

ping_ok() { in_ns "$1" ping -c 3 -i 0.2 -W 2 -q "$2" >/dev/null 2>&1; }

# ping_pw SIDE DST: a few tries (the first ARP may be lost while TAPs come up).
ping_pw() {
  local i
  for i in 1 2 3 4 5; do ping_ok "$1" "$2" && return 0; sleep 0.5; done
  fail "no ping from $1 to $2 through the pseudowire"
}

# tunnel_yaml SIDE NAME ENCAP AF EXTRA_SPEC CONTROL_EXTRA: one DYNAMIC tunnel.
# A is the INITIATOR (site-a), B the RESPONDER (site-b).
tunnel_yaml() {
  local side=$1 name=$2 encap=$3 af=$4 extra=$5 cextra=${6:-}
  local local_addr remote_addr role host
  if [[ $af == 4 ]]; then
    if [[ $side == a ]]; then local_addr=192.0.2.1 remote_addr=192.0.2.2; else local_addr=192.0.2.2 remote_addr=192.0.2.1; fi
  else
    if [[ $side == a ]]; then local_addr=2001:db8:1::1 remote_addr=2001:db8:1::2; else local_addr=2001:db8:1::2 remote_addr=2001:db8:1::1; fi
  fi
  if [[ $side == a ]]; then role=ROLE_INITIATOR host=site-a; else role=ROLE_RESPONDER host=site-b; fi
  cat <<Y
- name: $name
  spec: {local: "$local_addr", remote: "$remote_addr", encap: $encap$extra,
         control: {mode: MODE_DYNAMIC, role: $role, host_name: $host, hello_interval: 2s$cextra}}
Y
}

# session_yaml SIDE TUNNEL N [PEER_COOKIE]: session TUNNEL-N, Remote End ID
# TUNNEL-pwN, interface {a,b}-TUNNEL-N; ids 0 (picked).
session_yaml() {
  local side=$1 t=$2 n=$3 cookie=${4:-}
  echo "- name: $t-$n"
  echo "  spec: {tunnel: $t, remote_end_id: $t-pw$n, interface_name: $side-$t-$n${cookie:+, peer_cookie: \"$cookie\"}}"
}

# pair_yaml SIDE TUNNEL ENCAP AF EXTRA_SPEC [CONTROL_EXTRA]: a tunnel and its
# two sessions: session 1 with peer_cookie set on A (4 bytes), session 2 on B
# (8 bytes), so each side learns one cookie.
COOKIE_A=a1a2a3a4
COOKIE_B=b1b2b3b4b5b6b7b8
pair_yaml() {
  local side=$1 t=$2
  echo "tunnels:"
  tunnel_yaml "$@"
  echo "sessions:"
  if [[ $side == a ]]; then
    session_yaml a "$t" 1 "$COOKIE_A"; session_yaml a "$t" 2
  else
    session_yaml b "$t" 1; session_yaml b "$t" 2 "$COOKIE_B"
  fi
}

# merge_yaml FILE...: a Config of every tunnel and session in the files.
merge_yaml() {
  local f
  echo "tunnels:"
  for f in "$@"; do sed -n '/^tunnels:/,/^sessions:/p' "$f" | sed '1d;$d'; done
  echo "sessions:"
  for f in "$@"; do sed -n '/^sessions:/,$p' "$f" | sed '1d'; done
}

# apply_both FILE_PREFIX [--prune]: applies PREFIX.a.yaml to A and PREFIX.b.yaml to B.
apply_both() {
  local prefix=$1; shift
  ctl b apply -f "$prefix.b.yaml" "$@" >/dev/null || fail "apply $prefix.b.yaml on B"
  ctl a apply -f "$prefix.a.yaml" "$@" >/dev/null || fail "apply $prefix.a.yaml on A"
}

# addresses for the pseudowires of tunnel T (index K): 10.K.N.1 on A, .2 on B.
pw_addresses() {
  local t=$1 k=$2 n
  for n in 1 2; do
    tap_addr a "a-$t-$n" "10.$k.$n.1/24"
    tap_addr b "b-$t-$n" "10.$k.$n.2/24"
  done
}

ping_both_pws() {
  local k=$1 n
  for n in 1 2; do ping_pw a "10.$k.$n.2"; ping_pw b "10.$k.$n.1"; done
}

# -------------------------------------------------------------------- setup
source "$ROOT/scripts/lib/veth-pair.sh"
veth_pair "$NS_A" "$NS_B" 192.0.2 2001:db8:1
start_agent a
start_agent b

# ------------------------------------------- 1. four encapsulations at once
# UDP over IPv4 (two tunnels on the same address pair, ports of their own)
# and IPv6, IP encapsulation over IPv4 and IPv6: five tunnels at once. One
# IP tunnel per address pair only: raw sockets see every protocol-115 packet
# of the pair, and an SCCRQ (connection id 0) reaches every responder there.
TUNNELS="u4 u4b u6 ip4 ip6"
t0=$SECONDS
for side in a b; do
  pair_yaml "$side" u4 ENCAPSULATION_UDP 4 ", udp_source_port: 1701, udp_destination_port: 1701" >"$WORK/u4.$side.yaml"
  # u4b: different source and destination ports (A 1703 -> B 1704)
  if [[ $side == a ]]; then ports=", udp_source_port: 1703, udp_destination_port: 1704"
  else ports=", udp_source_port: 1704, udp_destination_port: 1703"; fi
  pair_yaml "$side" u4b ENCAPSULATION_UDP 4 "$ports" >"$WORK/u4b.$side.yaml"
  pair_yaml "$side" u6 ENCAPSULATION_UDP 6 ", udp_source_port: 1702, udp_destination_port: 1702" >"$WORK/u6.$side.yaml"
  pair_yaml "$side" ip4 ENCAPSULATION_IP 4 "" >"$WORK/ip4.$side.yaml"
  pair_yaml "$side" ip6 ENCAPSULATION_IP 6 "" >"$WORK/ip6.$side.yaml"
  files=()
  for t in $TUNNELS; do files+=("$WORK/$t.$side.yaml"); done
  merge_yaml "${files[@]}" >"$WORK/five.$side.yaml"
done
apply_both "$WORK/five"
for t in $TUNNELS; do
  wait_until 30 "tunnel $t ESTABLISHED on both sides, sessions READY" tunnel_up "$t" "$t-1" "$t-2"
done
t_up=$((SECONDS - t0))
for t in $TUNNELS; do check_peers "$t"; done
ok "UDP/IPv4 (x2, by ports), UDP/IPv6, IP/IPv4, IP/IPv6: both ends ESTABLISHED within ${t_up} s, peer host names and tunnel ids cross-match"
for t in $TUNNELS; do
  check_cookie b "$t-1" "$COOKIE_A"
  check_cookie a "$t-2" "$COOKIE_B"
  for n in 1 2; do
    sa=$(session_json a "$t-$n" | jq -c '.status.sessionControl')
    sb=$(session_json b "$t-$n" | jq -c '.status.sessionControl')
    [[ $(jq -r '.peerSessionId' <<<"$sa") == $(jq -r '.sessionId' <<<"$sb") && \
       $(jq -r '.peerSessionId' <<<"$sb") == $(jq -r '.sessionId' <<<"$sa") && \
       $(jq -r '.sessionId // 0' <<<"$sa") != 0 ]] || fail "session $t-$n: ids do not cross-match: A $sa, B $sb"
  done
done
ok "10 sessions READY on both ends, matched by remote_end_id; picked session ids and cookies learned"
k=0
for t in $TUNNELS; do k=$((k + 1)); pw_addresses "$t" "$k"; done
k=0
for t in $TUNNELS; do k=$((k + 1)); ping_both_pws "$k"; done
ok "ping passes both ways through both pseudowires of each of the five tunnels"

# ---------------------------------------------- 6. bad input through the API
# (against agent A, which holds the five tunnels above)
bad() {  # bad NAME FIELD_PATH: apply $WORK/bad-NAME.yaml on A; must fail naming the field
  local name=$1 field=$2 err="$WORK/bad-$1.err"
  if ctl a apply -f "$WORK/bad-$name.yaml" >/dev/null 2>"$err"; then fail "bad input '$name' was accepted"; fi
  grep -qE 'INVALID_ARGUMENT|FAILED_PRECONDITION' "$err" || fail "bad input '$name': wrong code: $(cat "$err")"
  grep -qF "$field" "$err" || fail "bad input '$name': error does not name $field: $(cat "$err")"
}
cat >"$WORK/bad-noremote.yaml" <<'Y'
tunnels:
- name: bad1
  spec: {local: 192.0.2.1, encap: ENCAPSULATION_UDP, udp_source_port: 1799,
         control: {mode: MODE_DYNAMIC, role: ROLE_INITIATOR}}
Y
bad noremote "tunnels[0].spec.remote:"
cat >"$WORK/bad-secret.yaml" <<Y
tunnels:
- name: bad2
  spec: {local: 192.0.2.1, remote: 192.0.2.2, encap: ENCAPSULATION_UDP, udp_source_port: 1798,
         control: {mode: MODE_DYNAMIC, role: ROLE_INITIATOR, secret_file: $WORK/no-such-secret}}
Y
bad secret "tunnels[0].spec.control.secret_file:"
cat >"$WORK/bad-static.yaml" <<'Y'
tunnels:
- name: bad3
  spec: {tunnel_id: 77, peer_tunnel_id: 78, local: 192.0.2.1, remote: 192.0.2.2,
         encap: ENCAPSULATION_UDP, udp_source_port: 1797}
sessions:
- name: bad3-1
  spec: {tunnel: bad3, session_id: 1, peer_session_id: 2, remote_end_id: pw-static}
Y
bad static "sessions[0].spec.remote_end_id:"
cat >"$WORK/bad-hello0.yaml" <<'Y'
tunnels:
- name: bad4
  spec: {local: 192.0.2.1, remote: 192.0.2.2, encap: ENCAPSULATION_UDP, udp_source_port: 1796,
         control: {mode: MODE_DYNAMIC, role: ROLE_INITIATOR, hello_interval: 0s}}
Y
bad hello0 "tunnels[0].spec.control.hello_interval:"
sed 's/hello_interval: 0s/hello_interval: 7200s/' "$WORK/bad-hello0.yaml" >"$WORK/bad-hello2h.yaml"
bad hello2h "tunnels[0].spec.control.hello_interval:"
# PPP on the userspace datapath: refused at apply time, saying what is missing.
cat >"$WORK/bad-ppp.yaml" <<'Y'
tunnels:
- name: bad5
  spec: {version: 2, local: 192.0.2.1, remote: 192.0.2.2, encap: ENCAPSULATION_UDP, udp_source_port: 1795,
         control: {mode: MODE_DYNAMIC, role: ROLE_INITIATOR}}
sessions:
- name: bad5-1
  spec: {tunnel: bad5, pseudowire: PSEUDOWIRE_PPP, ppp: {user: alice}}
Y
bad ppp "sessions[0].spec.pseudowire: PPP pseudowires need a datapath that can carry them"
grep -qF "kernel datapath" "$WORK/bad-ppp.err" || fail "the PPP refusal does not say what is missing: $(cat "$WORK/bad-ppp.err")"
names=$(ctl a get tunnels -o json | jq -r '[.tunnels[].name] | sort | join(" ")')
[[ $names == "ip4 ip6 u4 u4b u6" ]] || fail "after the refused applies, A holds tunnels: $names"
for t in $TUNNELS; do established a "$t" || fail "$t no longer ESTABLISHED after the refused applies"; done
ok "refused with the field named: INITIATOR without remote, missing secret_file, remote_end_id in a STATIC tunnel, hello_interval 0s and 2h, PPP on the userspace datapath (FAILED_PRECONDITION); the five tunnels stay"

# ----------------------------------------------------- 2. 20% loss on A's UDP
if command -v iptables >/dev/null && in_ns a iptables -S >/dev/null 2>&1; then
  for side in a b; do
    pair_yaml "$side" lossy ENCAPSULATION_UDP 4 ", udp_source_port: 1711, udp_destination_port: 1711" >"$WORK/lossy.$side.yaml"
  done
  for chain in INPUT OUTPUT; do
    in_ns a iptables -A "$chain" -p udp -m statistic --mode random --probability 0.2 -j DROP
  done
  t0=$SECONDS
  apply_both "$WORK/lossy" --prune   # the five tunnels go (StopCCN), lossy comes
  wait_until 30 "tunnel lossy up under 20% loss" tunnel_up lossy lossy-1 lossy-2
  t_up=$((SECONDS - t0))
  check_peers lossy
  retrans() { tunnel_json a lossy | jq -r '.status.tunnelControl.retransmissions // 0'; }
  retrans_b() { tunnel_json b lossy | jq -r '.status.tunnelControl.retransmissions // 0'; }
  some_retrans() { (($(retrans) + $(retrans_b) > 0)); }
  # Hellos every 2 s keep the connection talking: a loss is certain soon.
  wait_until 30 "retransmissions > 0 under 20% loss" some_retrans
  ra=$(retrans) rb=$(retrans_b)
  metric_a=$(in_ns a curl -fsS http://127.0.0.1:9810/metrics |
    sed -nE 's/^l2tp_tunnel_control_retransmissions_total\{tunnel="lossy"\} ([0-9.e+]+)$/\1/p')
  [[ -n $metric_a ]] || fail "no l2tp_tunnel_control_retransmissions_total{tunnel=\"lossy\"} in A's /metrics"
  ok "20% UDP loss both ways on A: ESTABLISHED and sessions READY in ${t_up} s; retransmissions A $ra, B $rb (A's /metrics: $metric_a)"
  for chain in INPUT OUTPUT; do in_ns a iptables -F "$chain"; done
  [[ -z $(in_ns a iptables -S | grep -- '-j DROP' || true) ]] || fail "iptables rules not removed"
else
  ok "# SKIP 20% loss: iptables does not work here"
  ctl a apply -f <(echo "tunnels: []") --prune >/dev/null
  ctl b apply -f <(echo "tunnels: []") --prune >/dev/null
fi

# --------------------------- 3. duplication, reordering and loss (UDP relay)
# A (192.0.2.1:1721) <-> relay R1 192.0.2.2:1801 | relay R2 192.0.2.3:1802 <-> B (192.0.2.2:1722)
ip -n "$NS_B" addr add 192.0.2.3/24 dev veth-b
ip netns exec "$NS_B" "$PYTHON" "$RELAY" 192.0.2.2:1801 192.0.2.3:1802 192.0.2.1:1721 192.0.2.2:1722 \
  --drop 0.1 --dup 0.2 --delay 0.2 --lifetime 240 >"$WORK/relay.out" 2>&1 &
PID_RELAY=$!
wait_until 10 "relay ready" grep -q ready "$WORK/relay.out"
cat >"$WORK/relay.a.yaml" <<Y
tunnels:
- name: relay
  spec: {local: 192.0.2.1, remote: 192.0.2.2, encap: ENCAPSULATION_UDP, udp_source_port: 1721, udp_destination_port: 1801,
         control: {mode: MODE_DYNAMIC, role: ROLE_INITIATOR, host_name: site-a, hello_interval: 2s}}
sessions:
$(session_yaml a relay 1 "$COOKIE_A")
$(session_yaml a relay 2)
Y
cat >"$WORK/relay.b.yaml" <<Y
tunnels:
- name: relay
  spec: {local: 192.0.2.2, remote: 192.0.2.3, encap: ENCAPSULATION_UDP, udp_source_port: 1722, udp_destination_port: 1802,
         control: {mode: MODE_DYNAMIC, role: ROLE_RESPONDER, host_name: site-b, hello_interval: 2s}}
sessions:
$(session_yaml b relay 1)
$(session_yaml b relay 2 "$COOKIE_B")
Y
t0=$SECONDS
apply_both "$WORK/relay" --prune
wait_until 30 "tunnel relay up through the relay" tunnel_up relay relay-1 relay-2
t_up=$((SECONDS - t0))
check_peers relay
check_cookie b relay-1 "$COOKIE_A"
check_cookie a relay-2 "$COOKIE_B"
pw_addresses relay 7
replies=()
for n in 1 2; do
  got=$(ping_count a "10.7.$n.2" 20)
  ((${got:-0} >= 10)) || fail "through the relay, pseudowire $n: ${got:-0} of 20 replies (want >= 10)"
  replies+=("$got")
done
kill -TERM "$PID_RELAY"
timeout 5 tail --pid="$PID_RELAY" -f /dev/null || true
PID_RELAY=""
stats=$(tail -1 "$WORK/relay.out")
jq -e '.duplicated > 0 and .delayed > 0 and .dropped > 0' <<<"$stats" >/dev/null ||
  fail "the relay did not duplicate, delay and drop: $stats"
ok "through a relay that drops 10%, duplicates 20%, delays 20% by 50-150 ms: up in ${t_up} s, ping ${replies[0]}/20 and ${replies[1]}/20 (relay: $stats)"

# ------------------------------------------------------- 4. liveness (HELLO)
HELLO=2 RETRIES=2
for side in a b; do
  pair_yaml "$side" live ENCAPSULATION_UDP 4 ", udp_source_port: 1731, udp_destination_port: 1731" \
    ", retransmit_retries: $RETRIES" >"$WORK/live.$side.yaml"
done
apply_both "$WORK/live" --prune
wait_until 30 "tunnel live up" tunnel_up live live-1 live-2
check_peers live
pw_addresses live 8
ping_both_pws 8
# Silence is noticed hello_interval after the last message (the HELLO), then
# after the retransmissions (1, 2 s) and the wait after the last (4 s).
backoff=0 timeout_s=1
for ((i = 0; i <= RETRIES; i++)); do backoff=$((backoff + timeout_s)); timeout_s=$((timeout_s * 2 > 8 ? 8 : timeout_s * 2)); done
bound=$((HELLO * (RETRIES + 1) + backoff))
down_seen() {
  local j
  j=$(tunnel_json a live)
  [[ $(jq -r '.status.tunnelControl.state' <<<"$j") == CONTROL_STATE_DOWN ]] && return 0
  jq -r '.status.tunnelControl.lastStopReason // "", .status.message // ""' <<<"$j" | grep -qi 'silent'
}
kill -STOP "$PID_B"
t0=$(now_ms)
wait_until $((bound + 5)) "A notices the silent peer" down_seen
t_down=$(($(now_ms) - t0))
((t_down <= bound * 1000 + 1000)) || fail "A noticed the silent peer after ${t_down} ms, bound ${bound} s"
reason=$(tunnel_json a live | jq -r '.status.tunnelControl.lastStopReason // ""')
ctl a events -o json >"$WORK/events-a.json"
jq -e '[.events[]? | select(.name == "live" and .reason == "REASON_CONTROL" and (.message | test("silent"; "i")))] | length > 0' \
  "$WORK/events-a.json" >/dev/null || fail "no CONTROL event for live's silent peer: $(jq -c '[.events[]? | select(.name == "live")]' "$WORK/events-a.json")"
ok "B stopped (SIGSTOP): A's tunnel DOWN after $((t_down / 1000)).$(printf %03d $((t_down % 1000))) s (bound hello ${HELLO}s x (retries ${RETRIES}+1) + backoff ${backoff}s = ${bound} s), stop reason \"$reason\", CONTROL event"
kill -CONT "$PID_B"
t0=$(now_ms)
wait_until 60 "tunnel live ESTABLISHED again after SIGCONT" tunnel_up live live-1 live-2
t_again=$(($(now_ms) - t0))
check_peers live
# The TAPs were deleted with the sessions and are new: address them again.
for n in 1 2; do
  in_ns a ip addr replace "10.8.$n.1/24" dev "a-live-$n"; in_ns a ip link set "a-live-$n" up
  in_ns b ip addr replace "10.8.$n.2/24" dev "b-live-$n"; in_ns b ip link set "b-live-$n" up
done
ping_both_pws 8
ok "B resumed (SIGCONT): ESTABLISHED again after $((t_again / 1000)).$(printf %03d $((t_again % 1000))) s, sessions READY, ping passes"

# ------------------------------------------------------------- 5. StopCCN
stop_seen() {
  tunnel_json a live | jq -r '.status.tunnelControl.lastStopReason // ""' | grep -q 'peer stopped the tunnel' && return 0
  ctl a events -o json | jq -e '[.events[]? | select(.name == "live" and (.message | test("peer stopped the tunnel")))] | length > 0' >/dev/null
}
ctl b delete tunnel live --cascade >/dev/null || fail "delete tunnel live on B"
wait_until 10 "A sees the StopCCN" stop_seen
reason=$(tunnel_json a live | jq -r '.status.tunnelControl.lastStopReason // ""')
ok "tunnel deleted on B: A reports \"$reason\""

# -------------------------------------------- 7. two INITIATORs (tie-break)
# Both ends configured as INITIATOR, applied at the same moment: the SCCRQs
# cross, the Tie Breaker AVPs decide, and one connection comes up (RFC 3931
# 5.4.3); the end that answered says so in its events.
for side in a b; do
  pair_yaml "$side" sym ENCAPSULATION_UDP 4 ", udp_source_port: 1711, udp_destination_port: 1711" |
    sed 's/ROLE_RESPONDER/ROLE_INITIATOR/' >"$WORK/sym.$side.yaml"
done
ctl a apply -f "$WORK/sym.a.yaml" >/dev/null & apply_a=$!
ctl b apply -f "$WORK/sym.b.yaml" >/dev/null || fail "apply sym on B"
wait "$apply_a" || fail "apply sym on A"
wait_until 20 "tunnel sym ESTABLISHED on both sides, sessions READY" tunnel_up sym sym-1 sym-2
check_peers sym
answered() { ctl "$1" events -o json | jq -r '[.events[]? | select(.name == "sym" and (.message | test("answering the peer.s SCCRQ")))] | length'; }
n_a=$(answered a) n_b=$(answered b)
((n_a + n_b >= 1)) || fail "neither end says it answered the other's SCCRQ"
((n_a == 0 || n_b == 0)) || fail "both ends say they answered: A $n_a, B $n_b"
pw_addresses sym 9
ping_both_pws 9
before=$(ctl a events -o json | jq '[.events[]? | select(.name == "sym")] | length')
sleep 5
after=$(ctl a events -o json | jq '[.events[]? | select(.name == "sym")] | length')
[[ $before == "$after" ]] || fail "tunnel sym on A moved on after coming up: $before -> $after events"
ok "two INITIATORs applied at once: one connection (the $([[ $n_a -gt 0 ]] && echo A || echo B) end answered), ids cross-match, ping passes, no transition 5 s later"

echo "# took $((SECONDS - T_START)) s"
echo "$PASSED passed, 0 failed"
