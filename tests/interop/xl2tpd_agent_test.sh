#!/usr/bin/env bash
# The agent's DYNAMIC L2TPv2 tunnels against xl2tpd, a real L2TPv2 LAC/LNS
# nobody here wrote, through the whole agent: l2tpctl -> API -> reconciler ->
# agent/control ControlPlane -> control library -> the userspace datapath's
# managed socket (tests/interop/xl2tpd_control_test.sh drives the control
# library alone). l2tp-agent (--datapath=userspace) and xl2tpd run in two
# network namespaces joined by a veth, on custom UDP ports. This host's
# kernel has no PPP and the agent's v2 tunnels carry no sessions yet, so
# there are no calls of ours, and xl2tpd's are refused.
#   1. agent INITIATOR -> xl2tpd LNS: ESTABLISHED with the peer's host name,
#      vendor and tunnel id learned, READY; our HELLOs (every 2 s) acked,
#      with a round trip in the status and the metrics; `l2tpctl delete`
#      sends a StopCCN whose reason xl2tpd logs; the events show it;
#   2. a shared secret (secret_file; xl2tpd `challenge = yes`, challenges
#      both ways): ESTABLISHED. Refused, the status and events saying why:
#      a wrong secret (xl2tpd's challenge response does not verify), no
#      secret on the agent (xl2tpd challenges), no secret for us on xl2tpd's
#      side (its StopCCN, decoded);
#   3. xl2tpd as LAC dials the agent as RESPONDER (`c agent` on its control
#      FIFO): ESTABLISHED; its call (ICRQ) is refused with a CDN; its StopCCN
#      (`d agent`) takes the tunnel DOWN with the reason in words, and its
#      next dial is answered;
#   4. the agent's /metrics (--metrics-addr on the veth, scraped from
#      xl2tpd's namespace): l2tp_tunnel_control_up 0 while the RESPONDER
#      waits, 1 while ESTABLISHED, 0 after the peer's StopCCN, gone once the
#      tunnel is deleted.
# Each case prints one ok/fail line; the last line is "N passed, N failed".
# Root. Exits 77 (skipped) only when xl2tpd is missing and apt has no
# candidate for it; any other missing tool is a failure (lib.sh require).
# Addresses only on the veth this script creates in its own namespaces
# (10.233.0.0/24). KEEP_WORK=1 keeps the work directory (logs, configs and
# the underlay's pcap).
# Usage: xl2tpd_agent_test.sh L2TP_AGENT L2TPCTL
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/../../scripts/lib/veth-pair.sh"
AGENT=$1
CTL=$2
require_exec l2tp-agent "$AGENT"
require_exec l2tpctl "$CTL"
if ! command -v xl2tpd >/dev/null 2>&1; then
  candidate=$(apt-cache policy xl2tpd 2>/dev/null | sed -n 's/^ *Candidate: //p' || true)
  if [[ ! $candidate =~ ^[0-9] ]]; then
    echo "SKIP: xl2tpd is not installed and apt has no candidate for it"
    exit 77
  fi
fi
require xl2tpd:xl2tpd jq:jq curl:curl

WORK=$(mktemp -d /tmp/l2tp-xl2tpd-agent-XXXXXX)
NS_A=l2tpxa-a-$$
NS_X=l2tpxa-x-$$
AGENT_PID="" XPID="" CAP_PID=""
cleanup() {
  stop_pid "$XPID"
  stop_pid "$AGENT_PID"
  stop_pid "$CAP_PID"
  ip netns del "$NS_A" 2>/dev/null || true
  ip netns del "$NS_X" 2>/dev/null || true
  if [[ -n ${KEEP_WORK:-} ]]; then echo "work kept in $WORK (KEEP_WORK)"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
veth_pair "$NS_A" "$NS_X" 10.233.0
A=10.233.0.1 X=10.233.0.2 PORT_X=51711 METRICS=10.233.0.1:9810
start_capture "$NS_A" veth-a "$WORK/underlay.pcap"

# ---- the agent

ctl() { "$CTL" --socket "$WORK/agent.sock" --timeout 10s "$@"; }
ip netns exec "$NS_A" "$AGENT" --socket="$WORK/agent.sock" --state-dir="$WORK/state" --datapath=userspace \
  --resync-interval=1s --metrics-addr="$METRICS" --log-level=debug >"$WORK/agent.log" 2>&1 &
AGENT_PID=$!
for _ in $(seq 1 100); do
  [[ -S $WORK/agent.sock ]] && ctl info >/dev/null 2>&1 && break
  kill -0 "$AGENT_PID" 2>/dev/null || { echo "FAIL: the agent exited:"; cat "$WORK/agent.log"; exit 1; }
  sleep 0.1
done
ctl info >/dev/null || { echo "FAIL: the agent did not serve within 10 s"; tail -30 "$WORK/agent.log"; exit 1; }

# apply_tunnel NAME ROLE LOCAL_PORT HOST [CONTROL_EXTRA]: one DYNAMIC L2TPv2
# tunnel with xl2tpd, HELLO after 2 s idle, ids picked by the agent. Each
# tunnel has its own local port: a deleted one lingers on its socket.
apply_tunnel() {
  cat >"$WORK/$1.yaml" <<Y
tunnels:
- name: $1
  spec: {version: 2, local: "$A", remote: "$X", udp_source_port: $3, udp_destination_port: $PORT_X,
         control: {mode: MODE_DYNAMIC, role: $2, host_name: $4, hello_interval: 2s${5:-}}}
Y
  ctl apply -f "$WORK/$1.yaml" >/dev/null
}

tunnel_json() { ctl get tunnels "$1" -o json 2>/dev/null; }
# field NAME JQ: one field of the tunnel ("" when absent).
field() { tunnel_json "$1" | jq -r "$2 // \"\"" 2>/dev/null || true; }
is_state() { [[ $(field "$1" .status.tunnelControl.state) == "$2" ]]; }
is_phase() { [[ $(field "$1" .status.phase) == "$2" ]]; }
# status_says NAME REGEX: the tunnel's status (all of it) matches.
status_says() { [[ $(tunnel_json "$1" | jq -c .status) =~ $2 ]]; }
has_hello_rtt() { [[ -n $(field "$1" .status.tunnelControl.helloRoundTrip) ]]; }
# events_of NAME: the agent's CONTROL events of tunnel NAME, oldest first.
events_of() {
  ctl events -o json | jq -r --arg n "$1" '[.events[]? | select(.kind == "RESOURCE_KIND_TUNNEL"
    and .name == $n and .reason == "REASON_CONTROL") | .message] | reverse | .[]' 2>/dev/null || true
}
# note NAME WHAT: the tunnel's phase and status message, printed at the end.
note() { echo "  $2: $(tunnel_json "$1" | jq -r '"\(.status.phase) \"\(.status.message)\""')" >>"$WORK/notes"; }
# metric SERIES: its value in a scrape (nothing when absent).
metric() {
  ip netns exec "$NS_X" curl -fsS --max-time 3 "http://$METRICS/metrics" | awk -v s="$1" '$1 == s { print $2 }'
}
control_up_is() { [[ $(metric "l2tp_tunnel_control_up{tunnel=\"$1\"}") == "$2" ]]; }
control_up_gone() { [[ -z $(metric "l2tp_tunnel_control_up{tunnel=\"$1\"}") ]]; }
at_least() { [[ $(metric "$1") -ge $2 ]] 2>/dev/null; }

# wait_for SECONDS CMD...: polls CMD every 0.2 s until it succeeds.
wait_for() {
  local deadline=$((SECONDS + $1))
  shift
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || return 1
    sleep 0.2
  done
}

# ---- xl2tpd

# start_xl2tpd NAME CONFIG_BODY: xl2tpd in the other namespace, foreground,
# secrets $WORK/NAME.secrets ($XSECRETS, default "* * unused"), control
# FIFO $WORK/NAME.ctl, log $XLOG.
start_xl2tpd() {
  local name=$1 body=$2
  printf '%s\n' "$body" >"$WORK/$name.conf"
  printf '%s\n' "${XSECRETS:-* * unused}" >"$WORK/$name.secrets"
  chmod 600 "$WORK/$name.secrets"
  XLOG=$WORK/$name.log
  ip netns exec "$NS_X" xl2tpd -D -c "$WORK/$name.conf" -s "$WORK/$name.secrets" -p "$WORK/$name.pid" \
    -C "$WORK/$name.ctl" >"$XLOG" 2>&1 &
  XPID=$!
  wait_for 5 grep -q 'Listening on IP address' "$XLOG" || { WHY="xl2tpd $name did not start"; return 1; }
}
stop_xl2tpd() {
  stop_pid "$XPID"
  XPID=""
}
# xl2tpd_command NAME LINE: a command on xl2tpd's control FIFO (what
# xl2tpd-control writes; it needs /var/run/xl2tpd for its answer).
xl2tpd_command() { timeout 5 bash -c 'printf "%s\n" "$2" >"$1"' _ "$WORK/$1.ctl" "$2"; }

DEBUG="debug avp = yes
debug network = yes
debug state = yes
debug tunnel = yes"
lns_config() { # NAME CHALLENGE(yes|no)
  cat <<CONF
[global]
listen-addr = $X
port = $PORT_X
access control = no
auth file = $WORK/$1.secrets
$DEBUG
[lns default]
ip range = 10.234.0.10-10.234.0.20
local ip = 10.234.0.1
hostname = xl2tpd-lns
challenge = $2
require authentication = no
length bit = yes
CONF
}
lac_config() { # AGENT_PORT: LAC "agent", dials when told ("c agent")
  cat <<CONF
[global]
listen-addr = $X
port = $PORT_X
access control = no
$DEBUG
[lac agent]
lns = $A:$1
hostname = xl2tpd-lac
autodial = no
redial = no
length bit = yes
CONF
}

# ---- the cases: each returns 1 with WHY set

case_initiator() {
  start_xl2tpd lns1 "$(lns_config lns1 no)" || return 1
  apply_tunnel to-lns ROLE_INITIATOR 51712 agent-lac
  wait_for 15 is_state to-lns CONTROL_STATE_ESTABLISHED || { WHY="not ESTABLISHED within 15 s"; return 1; }
  local j
  j=$(tunnel_json to-lns | jq -c .status.tunnelControl)
  [[ $(jq -r .peerHostName <<<"$j") == xl2tpd-lns ]] || { WHY="peer host name not learned: $j"; return 1; }
  [[ $(jq -r .peerVendor <<<"$j") == xelerance.com ]] || { WHY="peer vendor not learned: $j"; return 1; }
  [[ $(jq -r '.peerTunnelId // 0' <<<"$j") != 0 ]] || { WHY="no peer tunnel id: $j"; return 1; }
  local ids
  ids="Local: $(jq -r .peerTunnelId <<<"$j"), Remote: $(jq -r .tunnelId <<<"$j")"
  grep -q "Connection established to $A, 51712.  $ids" "$XLOG" ||
    { WHY="xl2tpd's ids are not the ones the agent shows: $j"; return 1; }
  wait_for 10 is_phase to-lns PHASE_READY || { WHY="not READY: $(tunnel_json to-lns | jq -c .status)"; return 1; }
  # Our HELLO (after 2 s idle) is acked: a round trip in the status (in
  # whole milliseconds, so "0s" on a veth) and the metrics; xl2tpd logs it.
  wait_for 10 has_hello_rtt to-lns || { WHY="no HELLO round trip within 10 s"; return 1; }
  at_least l2tp_control_hello_rtt_seconds_count 1 || { WHY="no HELLO round trip in the metrics"; return 1; }
  grep -q 'message type 6 (Hello)' "$XLOG" || { WHY="xl2tpd did not log our HELLO"; return 1; }
  ctl get tunnels -o wide >"$WORK/case1.wide"
  grep -Eq '^to-lns .* READY .* ESTABLISHED +xl2tpd-lns/[0-9]+ .* initiator ' "$WORK/case1.wide" ||
    { WHY="get -o wide: $(cat "$WORK/case1.wide")"; return 1; }
  ctl delete tunnel to-lns >/dev/null
  wait_for 10 grep -q "control_finish: Connection closed to $A, port 51712 (the tunnel was deleted)" "$XLOG" ||
    { WHY="xl2tpd did not log our StopCCN"; return 1; }
  grep -q 'peer closing for reason 1 (General request to clear control connection), error = 0 (the tunnel was deleted)' \
    "$XLOG" ||
    { WHY="xl2tpd did not log the StopCCN's result code"; return 1; }
  events_of to-lns >"$WORK/case1.events"
  grep -q 'ESTABLISHED' "$WORK/case1.events" && grep -q 'CLOSING: the tunnel was deleted' "$WORK/case1.events" ||
    { WHY="events: $(cat "$WORK/case1.events")"; return 1; }
  stop_xl2tpd
}

case_secret() {
  printf 'tunnel-secret\n' >"$WORK/good.secret"
  printf 'wrong-secret\n' >"$WORK/wrong.secret"
  XSECRETS="* * tunnel-secret" start_xl2tpd lns2 "$(lns_config lns2 yes)" || return 1
  apply_tunnel auth-ok ROLE_INITIATOR 51713 agent-lac ", secret_file: \"$WORK/good.secret\""
  wait_for 15 is_state auth-ok CONTROL_STATE_ESTABLISHED || { WHY="not ESTABLISHED with the secret"; return 1; }
  wait_for 10 is_phase auth-ok PHASE_READY || { WHY="not READY with the secret"; return 1; }
  # Both challenged: xl2tpd found ours in the SCCRQ and checked our response
  # to its own in the SCCCN (we checked its response in the SCCRP).
  grep -q 'challenge_avp: challenge avp found' "$XLOG" && grep -q 'chalresp_avp: Challenge reply found' "$XLOG" ||
    { WHY="xl2tpd's log shows no challenge and response"; return 1; }
  ctl delete tunnel auth-ok >/dev/null
  wait_for 10 grep -q "Connection closed to $A, port 51713 (the tunnel was deleted)" "$XLOG" ||
    { WHY="xl2tpd did not log our StopCCN (secret)"; return 1; }

  # A wrong secret: xl2tpd's response in its SCCRP does not verify; our
  # StopCCN (result 4, not authorized) says why, to xl2tpd too.
  apply_tunnel auth-bad ROLE_INITIATOR 51714 agent-lac ", secret_file: \"$WORK/wrong.secret\""
  wait_for 10 status_says auth-bad 'SCCRP: wrong challenge response \(the secrets of the two ends differ\)' ||
    { WHY="the status does not say the secrets differ: $(tunnel_json auth-bad | jq -c .status)"; return 1; }
  note auth-bad "wrong secret"
  is_phase auth-bad PHASE_READY && { WHY="READY with a wrong secret"; return 1; }
  events_of auth-bad >"$WORK/case2.events"
  grep -q ESTABLISHED "$WORK/case2.events" && { WHY="ESTABLISHED with a wrong secret"; return 1; }
  grep -q 'CLOSING: SCCRP: wrong challenge response' "$WORK/case2.events" ||
    { WHY="no event says why: $(cat "$WORK/case2.events")"; return 1; }
  wait_for 10 grep -q 'peer closing for reason 4 .*wrong challenge response' "$XLOG" ||
    { WHY="xl2tpd did not log our StopCCN's reason"; return 1; }
  at_least l2tp_control_auth_failures_total 1 || { WHY="l2tp_control_auth_failures_total not counted"; return 1; }

  # No secret on the agent: xl2tpd's challenge cannot be answered.
  apply_tunnel auth-none ROLE_INITIATOR 51717 agent-lac
  wait_for 10 status_says auth-none 'the peer sent a challenge and no secret is configured' ||
    { WHY="no secret: the status does not say why: $(tunnel_json auth-none | jq -c .status)"; return 1; }
  is_phase auth-none PHASE_READY && { WHY="READY without a secret"; return 1; }
  note auth-none "no secret on the agent"
  for t in auth-bad auth-none; do ctl delete tunnel "$t" >/dev/null; done
  stop_xl2tpd

  # xl2tpd has no secret for us: it refuses our SCCRQ with a StopCCN.
  XSECRETS="someone-else * tunnel-secret" start_xl2tpd lns2b "$(lns_config lns2b yes)" || return 1
  apply_tunnel auth-unknown ROLE_INITIATOR 51718 agent-lac ", secret_file: \"$WORK/good.secret\""
  local refused='peer stopped the tunnel: result 2 \(general error\), error 6 \(generic vendor error\): No secret on our side'
  wait_for 10 status_says auth-unknown "$refused" ||
    { WHY="xl2tpd's refusal not in the status: $(tunnel_json auth-unknown | jq -c .status)"; return 1; }
  note auth-unknown "no secret for us on xl2tpd"
  # Our ack of that StopCCN goes to the Assigned Tunnel ID it carries (the
  # peer's id is learned from it): an ack to tunnel 0 would make xl2tpd log
  # this and send its StopCCN again.
  if wait_for 3 grep -q 'Received out of order control packet on tunnel -1' "$XLOG"; then
    WHY="our ack of xl2tpd's StopCCN did not reach its tunnel"
    return 1
  fi
  ctl delete tunnel auth-unknown >/dev/null
  stop_xl2tpd
}

case_responder() {
  # retransmit_retries 2: the linger after the peer's StopCCN is 7 s.
  apply_tunnel from-lac ROLE_RESPONDER 51715 agent-lns ", retransmit_retries: 2"
  wait_for 10 is_state from-lac CONTROL_STATE_IDLE || { WHY="the RESPONDER is not waiting (IDLE)"; return 1; }
  start_xl2tpd lac "$(lac_config 51715)" || return 1
  xl2tpd_command lac "c agent" || { WHY="xl2tpd's control FIFO did not take c agent"; return 1; }
  wait_for 15 is_state from-lac CONTROL_STATE_ESTABLISHED || { WHY="not ESTABLISHED from xl2tpd's SCCRQ"; return 1; }
  [[ $(field from-lac .status.tunnelControl.peerHostName) == xl2tpd-lac ]] || { WHY="peer host name"; return 1; }
  wait_for 10 is_phase from-lac PHASE_READY || { WHY="not READY as RESPONDER"; return 1; }
  # xl2tpd places its call at once; the agent has no session for it: CDN.
  wait_for 10 grep -q 'result_code_avp: peer closing for reason 2 .*no session waiting for a call' "$XLOG" ||
    { WHY="xl2tpd did not log a CDN for its ICRQ"; return 1; }
  at_least 'l2tp_control_messages_received_total{type="icrq"}' 1 &&
    at_least 'l2tp_control_messages_sent_total{type="cdn"}' 1 ||
    { WHY="the agent's metrics do not count the ICRQ and the CDN"; return 1; }
  echo "  xl2tpd's ICRQ: $(grep -m1 -o 'peer closing for reason 2 .*' "$XLOG")" >>"$WORK/notes"
  is_state from-lac CONTROL_STATE_ESTABLISHED || { WHY="the tunnel went down with the call"; return 1; }
  xl2tpd_command lac "d agent" || { WHY="xl2tpd's control FIFO did not take d agent"; return 1; }
  wait_for 10 status_says from-lac '"lastStopReason":"peer stopped the tunnel: result' ||
    { WHY="xl2tpd's StopCCN not in the status: $(tunnel_json from-lac | jq -c .status)"; return 1; }
  wait_for 15 is_state from-lac CONTROL_STATE_DOWN || { WHY="not DOWN after the linger"; return 1; }
  local st
  st=$(tunnel_json from-lac | jq -c .status)
  note from-lac "after xl2tpd's StopCCN"
  local stop='peer stopped the tunnel: result 1 (general request to clear the control connection), error 0'
  stop+=' (no general error): Goodbye!'
  [[ $(jq -r .tunnelControl.lastStopReason <<<"$st") == "$stop" ]] ||
    { WHY="the StopCCN reason is not in words: $st"; return 1; }
  [[ $(jq -r .phase <<<"$st") == PHASE_FAILED ]] || { WHY="not FAILED while DOWN: $st"; return 1; }
  grep -q 'DOWN: peer stopped the tunnel: result 1' <<<"$(events_of from-lac)" || { WHY="no DOWN event"; return 1; }
  # Back to waiting: xl2tpd's next dial is answered.
  xl2tpd_command lac "c agent" || { WHY="xl2tpd's control FIFO did not take c agent (again)"; return 1; }
  wait_for 15 is_state from-lac CONTROL_STATE_ESTABLISHED || { WHY="xl2tpd's second dial not answered"; return 1; }
  ctl delete tunnel from-lac >/dev/null
  wait_for 10 grep -q "Connection closed to $A, port 51715 (the tunnel was deleted)" "$XLOG" ||
    { WHY="xl2tpd did not log our StopCCN"; return 1; }
  stop_xl2tpd
}

case_metrics() {
  apply_tunnel metered ROLE_RESPONDER 51716 agent-lns ", retransmit_retries: 2"
  wait_for 10 control_up_is metered 0 || { WHY="l2tp_tunnel_control_up not 0 while waiting"; return 1; }
  start_xl2tpd lac4 "$(lac_config 51716)" || return 1
  xl2tpd_command lac4 "c agent" || { WHY="xl2tpd's control FIFO did not take c agent"; return 1; }
  wait_for 15 is_state metered CONTROL_STATE_ESTABLISHED || { WHY="not ESTABLISHED"; return 1; }
  wait_for 5 control_up_is metered 1 || { WHY="l2tp_tunnel_control_up not 1 while ESTABLISHED"; return 1; }
  xl2tpd_command lac4 "d agent" || { WHY="xl2tpd's control FIFO did not take d agent"; return 1; }
  wait_for 10 control_up_is metered 0 || { WHY="l2tp_tunnel_control_up not 0 after xl2tpd's StopCCN"; return 1; }
  ctl delete tunnel metered >/dev/null
  wait_for 10 control_up_gone metered || { WHY="the series outlived the deleted tunnel"; return 1; }
  stop_xl2tpd
}

PASSED=0 FAILED=0
run_case() { # N DESCRIPTION FUNCTION
  local n=$1 desc=$2
  WHY="" XLOG=""
  if "$3"; then
    PASSED=$((PASSED + 1))
    echo "ok $n - $desc"
  else
    FAILED=$((FAILED + 1))
    echo "fail $n - $desc: $WHY"
    echo "--- agent: tunnels"
    ctl get tunnels -o wide 2>&1 || true
    echo "--- agent: events"
    ctl events --limit 15 2>&1 || true
    echo "--- agent log (last 30 lines)"
    grep -v 'unix socket: connection\|reconcile: pass took' "$WORK/agent.log" | tail -30
    if [[ -n $XLOG ]]; then
      echo "--- xl2tpd log (last 30 lines)"
      tail -30 "$XLOG"
    fi
    stop_xl2tpd
  fi
}

run_case 1 "agent INITIATOR to xl2tpd LNS: ESTABLISHED, READY, HELLO acked, StopCCN on delete" case_initiator
run_case 2 "shared secret with xl2tpd's challenge: ESTABLISHED; wrong, missing, unknown secret refused, \
status says why" case_secret
run_case 3 "xl2tpd LAC dials the agent as RESPONDER: ESTABLISHED, its call refused (CDN), its StopCCN \
decoded, redial answered" case_responder
run_case 4 "metrics: l2tp_tunnel_control_up 0 waiting, 1 ESTABLISHED, 0 after the peer's StopCCN, gone on delete" case_metrics
if [[ -f $WORK/notes ]]; then cat "$WORK/notes"; fi
echo "xl2tpd_agent: $PASSED passed, $FAILED failed"
[[ $FAILED -eq 0 ]]
