# shellcheck shell=bash
# Runs inside the test VM (tests/vm/run.sh) for agent_ppp_test.sh: the
# agent's PPP pseudowires (docs/ppp.md) end to end on Debian's kernel
# (l2tp_ppp, /dev/ppp) against xl2tpd + pppd and against itself. Each case
# has its own pair of namespaces joined by a veth, 192.0.2.1/24 on the "a"
# end and 192.0.2.2/24 on the "b" end (made here; nothing else is touched).
#
#   agent_ppp_side.sh AGENT L2TPCTL     (payload: ppp_lib.sh, ppp-root/)
#
# 1. lac (c1a: agent, v2 INITIATOR, LAC user alice + password_file; c1b:
#    xl2tpd + pppd LNS, require chap, ip range 10.8.1.2-20, local 10.8.0.1):
#    the call reaches NETWORK with 10.8.1.x <-> 10.8.0.1, CHAP succeeded,
#    pings pass. kill -9 of the agent's pppd: the call ends with a CDN and
#    is placed again (case 4). A wrong password: DEAD, last_failure about
#    authentication, a second attempt (backoff), then the right password
#    back in the same file: the next call comes up. Deleting the session,
#    then (applied again, up) the tunnel: nothing left (case 4). The veth is
#    captured (case 5: tshark on the host).
# 2. lns (c2a: xl2tpd + pppd LAC, user alice; c2b: agent, v2 RESPONDER,
#    LNS template dialin-, max_sessions 2, pool 10.8.1.0/29, CHAP): the LAC
#    gets 10.8.1.1, the agent shows user alice, pings pass; xl2tpd hangs up
#    (`d peer`): the agent's call ends, nothing left; the next call gets
#    10.8.1.1 again (released); deleting the tunnel leaves nothing. Captured.
# 3. v3 (c3a: agent INITIATOR LAC; c3b: agent RESPONDER LNS, both L2TPv3,
#    remote_end_id ppp-v3, CHAP): up, pings; kill -9 of the LAC's pppd, then
#    of the LNS's: the other end's call ends (CDN), the LAC places the call
#    again, both up and stable, the re-dial not refused by what the ended
#    call left; deleting the LAC's session ends the LNS's call too; deleting
#    both tunnels leaves nothing (case 4). Captured.
# Results: vm_mark "result NAME ok|fail DETAIL"; logs, agents' state dirs
# (files only: no secrets are left there by design, the check says so) and
# the captures go to /results.
set -uo pipefail
AGENT=$1 CTL=$2
source /payload/ppp_lib.sh
D=/run/ap
mkdir -p "$D"
A4=192.0.2.1 B4=192.0.2.2
SECRET=s3cret-alice

result() {
  local detail
  detail=$(tr '\n' ' ' <<<"${3:-}" | tr -s ' ')
  printf '%-4s %-22s %s\n' "$2" "$1" "$detail"
  vm_mark "result $1 $2 $detail"
}
since() { echo "$((SECONDS - $1)) s"; }
# logs FILE...: their last 30 lines, without the agents' periodic debug lines.
logs() {
  local f
  for f in "$@"; do
    echo "==> $f <=="
    grep -av 'reconcile: pass took\|unix socket: connection\|^xl2tpd\[[0-9]*\]: "' "$f" 2>/dev/null | tail -30
  done
}

declare -A APID=()
# start_agent NAME NETNS: an agent on the kernel datapath, state in $D/NAME,
# socket $D/NAME.sock, log $D/NAME.log (debug: pppd's lines are in it).
start_agent() {
  local name=$1 ns=$2
  rm -f "$D/$name.sock"
  ip netns exec "$ns" "$AGENT" --socket="$D/$name.sock" --state-dir="$D/$name" --datapath=kernel \
    --resync-interval=1s --log-level=debug >>"$D/$name.log" 2>&1 &
  APID[$name]=$!
  for _ in $(seq 1 150); do
    [[ -S $D/$name.sock ]] && return 0
    kill -0 "${APID[$name]}" 2>/dev/null || break
    sleep 0.1
  done
  echo "agent $name did not start:"; tail -20 "$D/$name.log"
  return 1
}
stop_agent() {
  local pid=${APID[$1]:-}
  [[ -n $pid ]] || return 0
  kill -TERM "$pid" 2>/dev/null
  for _ in $(seq 1 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  unset "APID[$1]"
  return 0
}
ctl() { local name=$1; shift; timeout 30 "$CTL" --socket "$D/$name.sock" --timeout 20s "$@"; }

# calls AGENT SESSION: the session's status.pppCalls, one compact JSON a line.
calls() {
  ctl "$1" get sessions -o json 2>/dev/null |
    jq -c --arg s "$2" '.sessions[]? | select(.name == $s) | .status.pppCalls[]?' 2>/dev/null
}
# wait_call AGENT SESSION JQ_CONDITION SECONDS: prints the first call of
# SESSION for which the condition (on a PppCallStatus) holds.
wait_call() {
  local deadline=$((SECONDS + $4)) out
  while ((SECONDS < deadline)); do
    out=$(calls "$1" "$2" | jq -c "select($3)" 2>/dev/null | head -1)
    [[ -n $out ]] && { echo "$out"; return 0; }
    sleep 0.3
  done
  return 1
}
# ppp_events AGENT: its REASON_PPP events, oldest first, "TIME SESSION: MESSAGE".
ppp_events() {
  ctl "$1" events -o json 2>/dev/null |
    jq -r '.events // [] | reverse | .[] | select(.reason == "REASON_PPP") | "\(.time) \(.name): \(.message)"' 2>/dev/null
}
# ppp_events_since AGENT TIME: those at or after TIME (UTC, 2026-01-02T03:04:05).
ppp_events_since() {
  ctl "$1" events -o json 2>/dev/null |
    jq -r --arg t "$2" '.events // [] | reverse | .[] | select(.reason == "REASON_PPP" and .time >= $t) | "\(.time) \(.name): \(.message)"' 2>/dev/null
}
# count_events AGENT REGEX
count_events() { ppp_events "$1" | grep -Ec -- "$2"; }
# wait_events AGENT REGEX N SECONDS: at least N PPP events match.
wait_events() {
  local deadline=$((SECONDS + $4))
  while ((SECONDS < deadline)); do
    (($(count_events "$1" "$2") >= $3)) && return 0
    sleep 0.5
  done
  return 1
}
# agent_pppd IFNAME_OR_PREFIX: the pids of pppd processes started with
# `ifname IFNAME...` (the agent's; xl2tpd's pppd have no ifname).
agent_pppd() {
  local p cmd
  for p in $(pidof pppd 2>/dev/null); do
    cmd=$(tr '\0' ' ' 2>/dev/null <"/proc/$p/cmdline")
    [[ $cmd == *" ifname $1"* ]] && echo "$p"
  done
}
# leftovers NETNS STATE_DIR IFNAME_OR_PREFIX [tunnel]: what an agent's PPP
# calls left: its pppd, ppp interfaces, PPPoL2TP sessions (and tunnels with
# "tunnel"), kernel L2TP sessions (tunnels), files under STATE_DIR/ppp.
leftovers() {
  local ns=$1 sd=$2 ifp=$3 what=${4:-session} p
  for p in $(agent_pppd "$ifp"); do echo "pppd $p ($(tr '\0' ' ' 2>/dev/null <"/proc/$p/cmdline"))"; done
  ip -n "$ns" -o link show 2>/dev/null | awk '/link\/ppp/ {print "ppp interface " $2}'
  if [[ $what == tunnel ]]; then
    ppp_pppol2tp "$ns" | sed 's/^ */pppol2tp: /'
    ip -n "$ns" l2tp show tunnel 2>/dev/null | sed -n 's/^\(Tunnel [0-9]*\),.*/kernel l2tp \1/p'
  else
    ppp_sessions "$ns" | sed 's/^ */pppol2tp: /'
  fi
  ip -n "$ns" l2tp show session 2>/dev/null | sed -n 's/^\(Session [0-9]*\) in \(tunnel [0-9]*\).*/kernel l2tp \1 in \2/p'
  [[ -d $sd/ppp ]] && find "$sd/ppp" -mindepth 1 2>/dev/null | sed 's/^/file /'
}
# wait_clean SECONDS ARGS...: leftovers ARGS until nothing (LEFT: the last list).
wait_clean() {
  local deadline=$((SECONDS + $1))
  shift
  while ((SECONDS < deadline)); do
    LEFT=$(leftovers "$@")
    [[ -z $LEFT ]] && return 0
    sleep 0.3
  done
  return 1
}
# ping_ok NETNS ADDRESS [SIZE]: 3 echoes, a second try (the first may race ARP-less PPP setup).
ping_ok() {
  ip netns exec "$1" timeout 20 ping -c 3 -W 5 -s "${3:-56}" "$2" >"$D/ping.out" 2>&1 && return 0
  ip netns exec "$1" timeout 20 ping -c 3 -W 5 -s "${3:-56}" "$2" >"$D/ping.out" 2>&1
}
received() { grep -o '[0-9]* packets received' "$D/ping.out"; }
# iface_addr NETNS IFNAME: "LOCAL peer PEER" of a ppp interface.
iface_addr() { ip -n "$1" -o -4 addr show dev "$2" 2>/dev/null | awk '{print $4, $5, $6}' | head -1; }
# wait_any_ppp NETNS SECONDS: the first ppp interface of NETNS that is up
# with an address: prints "IFNAME LOCAL".
wait_any_ppp() {
  local deadline=$((SECONDS + $2)) line
  while ((SECONDS < deadline)); do
    line=$(ip -n "$1" -o -4 addr show 2>/dev/null | awk '$2 ~ /^ppp/ {sub(/\/.*/, "", $4); print $2, $4; exit}')
    if [[ -n $line ]] && ip -n "$1" link show "${line%% *}" 2>/dev/null | grep -q '[<,]UP[,>]'; then
      echo "$line"; return 0
    fi
    sleep 0.3
  done
  return 1
}
# redialed AGENT SESSION IFNAME OLD_PID SECONDS [HOLD]: the session has a
# NETWORK call again whose pppd is not OLD_PID, and HOLD (8) s later still
# the same one (no stray frame of the previous call ends it). REDIAL says
# how, or why not.
redialed() {
  local deadline=$((SECONDS + $5)) c="" p="" c2 p2
  REDIAL=""
  while ((SECONDS < deadline)); do
    c=$(calls "$1" "$2" | jq -c 'select(.phase == "PPP_PHASE_NETWORK")' 2>/dev/null | head -1)
    p=$(agent_pppd "$3" | grep -vx -- "${4:-none}" | head -1)
    [[ -n $c && -n $p ]] && break
    c=""
    sleep 0.3
  done
  [[ -n $c ]] || { REDIAL="no NETWORK call with a new pppd after $5 s: calls $(calls "$1" "$2"); events: $(ppp_events "$1" | tail -4)"; return 1; }
  sleep "${6:-8}"
  c2=$(calls "$1" "$2" | jq -c 'select(.phase == "PPP_PHASE_NETWORK")' 2>/dev/null | head -1)
  p2=$(agent_pppd "$3" | grep -x -- "$p")
  if [[ -z $c2 || -z $p2 ]]; then
    REDIAL="up again with pppd $p ($(jq -r '.localAddress + " <-> " + .peerAddress' <<<"$c")), but ${6:-8} s later: pppd ${p2:-none}, calls $(calls "$1" "$2"); events: $(ppp_events "$1" | tail -4)"
    return 1
  fi
  REDIAL="pppd $p, $(jq -r '.interfaceName + " " + .localAddress + " <-> " + .peerAddress' <<<"$c")"
  [[ ${6:-8} == 0 ]] || REDIAL+=", still up ${6:-8} s later"
}
show_agent() {
  echo "---- agent $1: sessions"
  ctl "$1" get sessions -o wide 2>&1
  echo "---- agent $1: PPP events"
  ppp_events "$1" | tail -"${2:-20}"
}
finish() {
  for n in "${!APID[@]}"; do stop_agent "$n"; done
  for n in "${!XL2TPD_PID[@]}"; do ppp_stop_xl2tpd "$n"; done
  ppp_capture_stop
  # Only logs and what the check found; captures separately.
  mkdir -p /results/ap
  cp -a "$D"/*.log "$D"/*.conf "$D"/*.yaml /results/ap/ 2>/dev/null
  for f in "$D"/*.pcap; do [[ -f $f ]] && vm_result "$f"; done
  exit 0
}
trap finish TERM

# ---------------------------------------------------------------- setup
t0=$SECONDS
if ppp_vm_install /payload && [[ -c /dev/ppp ]]; then
  result install ok "pppd $PPP_VERSION, xl2tpd $XL2TPD_VERSION, tcpdump $TCPDUMP_VERSION; $(since $t0)"
else
  result install fail "see the console"
  finish
fi
command -v jq >/dev/null || { result install fail "no jq in the VM (--bin)"; finish; }

echo "$SECRET" >"$D/alice.pw"
chmod 600 "$D/alice.pw"
printf 'alice * %s *\n' "$SECRET" >"$D/lns.secrets"
chmod 600 "$D/lns.secrets"

# ====================================================================
# Case 1: the agent as LAC, xl2tpd + pppd as LNS.
# ====================================================================
ppp_netns_pair c1a c1b veth-c1a veth-c1b "$A4/24" "$B4/24" || { result lac-up fail "netns pair"; finish; }
ppp_capture_start c1b veth-c1b "$D/lac.pcap" udp || echo "no capture of case 1"

ppp_etc_dir "$D/lns1-etc"
ppp_chap_secret "$D/lns1-etc" alice lns-server "$SECRET"
ppp_options "$D/lns1-etc/options.xl2tpd" "$D/pppd-lns1.log" noipv6
ppp_xl2tpd_config lns "$D/lns1.conf" listen=$B4 port=1701 ip_range=10.8.1.2-10.8.1.20 \
  local_ip=10.8.0.1 name=lns-server hostname=lns-host pppoptfile=/etc/ppp/options.xl2tpd auth=chap

cat >"$D/lac1.yaml" <<YAML
tunnels:
- name: to-lns
  spec: {version: 2, local: $A4, remote: $B4, control: {mode: MODE_DYNAMIC, role: ROLE_INITIATOR, host_name: agent-lac, hello_interval: 10s}}
sessions:
- name: isp
  spec: {tunnel: to-lns, pseudowire: PSEUDOWIRE_PPP, interface_name: ppp-isp, ppp: {user: alice, password_file: $D/alice.pw}}
YAML

agents_ok=1
ppp_start_xl2tpd lns1 c1b "$D" "$D/lns1-etc" || agents_ok=0
start_agent lac1 c1a || agents_ok=0
caps=$(ctl lac1 info 2>&1 | grep -i '^Capabilities')
if ((agents_ok)) && grep -q 'pseudowire/ppp' <<<"$caps"; then
  result agent-start ok "xl2tpd LNS up; agent on the kernel datapath: $caps"
else
  result agent-start fail "xl2tpd ok=$agents_ok; agent: ${caps:-no info}: $(logs "$D/lac1.log" | tail -5)"
fi
vm_mark ready

t0=$SECONDS
apply_out=$(ctl lac1 apply -f "$D/lac1.yaml" 2>&1) || echo "apply: $apply_out"
if c=$(wait_call lac1 isp '.phase == "PPP_PHASE_NETWORK"' 90); then
  ifc=$(jq -r .interfaceName <<<"$c") la=$(jq -r .localAddress <<<"$c") pa=$(jq -r .peerAddress <<<"$c")
  got=$(iface_addr c1a "$ifc")
  if [[ $la == 10.8.1.* && $pa == 10.8.0.1 && $ifc == ppp-isp && $got == "$la peer $pa/32" ]]; then
    result lac-up ok "NETWORK after $(since $t0): $ifc $la <-> $pa (ip addr: $got)"
  else
    result lac-up fail "NETWORK after $(since $t0) but $c; ip addr of $ifc: $got"
  fi
else
  result lac-up fail "no NETWORK after $(since $t0): calls $(calls lac1 isp); apply: $apply_out"
  show_agent lac1
  logs "$D/lac1.log" "$D/lns1.log" "$D/pppd-lns1.log"
fi
show_agent lac1
# The phases in order and CHAP on both ends.
phases=$(ppp_events lac1 | grep -o 'PPP [A-Z]*' | head -3 | tr '\n' ' ')
if grep -q 'sent \[CHAP Success' "$D/pppd-lns1.log" 2>/dev/null && grep -q 'CHAP authentication succeeded' "$D/lac1.log" &&
   [[ $phases == "PPP ESTABLISHING PPP AUTHENTICATING PPP NETWORK " ]]; then
  result lac-chap ok "agent events: $phases; lns pppd: '$(grep -o 'sent \[CHAP Success[^]]*' "$D/pppd-lns1.log" | head -1)]', agent's pppd: '$(grep -o 'CHAP authentication succeeded.*' "$D/lac1.log" | head -1)'"
else
  result lac-chap fail "events: $phases; $(grep -h 'CHAP' "$D/pppd-lns1.log" "$D/lac1.log" 2>/dev/null | tail -4)"
fi
if ping_ok c1a 10.8.0.1 && r1=$(received) && ping_ok c1b "${la:-10.8.1.2}" && r2=$(received) &&
   ping_ok c1a 10.8.0.1 1200 && r3=$(received); then
  result lac-ping ok "agent LAC -> LNS $r1, LNS -> agent LAC $r2, 1200 bytes $r3"
else
  result lac-ping fail "$(tr '\n' ' ' <"$D/ping.out")"
fi
for ns in c1a c1b; do echo "---- /proc/net/pppol2tp in $ns"; ppp_pppol2tp $ns; done
echo "---- the agent's pppd"
for p in $(agent_pppd ppp-isp); do echo "$p: $(tr '\0' ' ' </proc/"$p"/cmdline)"; echo "  /etc/ppp: $(awk '$5 == "/etc/ppp" {print $4}' /proc/"$p"/mountinfo)"; done
ls -la "$D/lac1/ppp/"* 2>&1 | sed 's/^/  /'

# ---- Case 4a: kill -9 the agent's pppd: CDN, and the call is placed again.
t0=$SECONDS
pid=$(agent_pppd ppp-isp | head -1)
cdn_before=$(grep -c 'control_finish: Connection closed to 192.0.2.1, serial' "$D/lns1.log")
calls_before=$(grep -c 'Call established with' "$D/lns1.log")
if [[ -n $pid ]]; then
  kill -9 "$pid"
  ok=1 why=()
  wait_events lac1 "PPP DEAD, pppd exited: .*(signal 9|SIGKILL)" 1 20 || { ok=0; why+=("no DEAD event for signal 9"); }
  deadline=$((SECONDS + 20))
  while ((SECONDS < deadline)) && (($(grep -c 'control_finish: Connection closed to 192.0.2.1, serial' "$D/lns1.log") <= cdn_before)); do sleep 0.3; done
  cdn_line=$(grep 'control_finish: Connection closed to 192.0.2.1, serial' "$D/lns1.log" | tail -1)
  (($(grep -c 'control_finish: Connection closed to 192.0.2.1, serial' "$D/lns1.log") > cdn_before)) || { ok=0; why+=("xl2tpd saw no CDN"); }
  dead=$(ppp_events lac1 | grep 'PPP DEAD' | tail -1)
  if ((ok)); then
    result lac-kill-cdn ok "pppd $pid killed: '${dead#* }'; xl2tpd: '${cdn_line#*: }'"
  else
    result lac-kill-cdn fail "${why[*]}; events: $(ppp_events lac1 | tail -3)"
    logs "$D/lac1.log"
  fi
  if redialed lac1 isp ppp-isp "$pid" 60 && ping_ok c1a 10.8.0.1; then
    result lac-kill-redial ok "placed again $(since $t0) after the kill: $REDIAL; xl2tpd calls $calls_before -> $(grep -c 'Call established with' "$D/lns1.log"); ping $(received)"
  else
    [[ -n $REDIAL ]] || REDIAL="ping: $(tr '\n' ' ' <"$D/ping.out")"
    result lac-kill-redial fail "after $(since $t0): $REDIAL"
    show_agent lac1
  fi
else
  result lac-kill-cdn fail "no agent pppd with ifname ppp-isp"
  result lac-kill-redial fail "no agent pppd with ifname ppp-isp"
fi
old_dirs=$(find "$D/lac1/ppp" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l)
echo "call directories after the re-dial: $old_dirs ($(ls "$D/lac1/ppp" 2>/dev/null | tr '\n' ' '))"

# ---- Case 1b: a wrong password (read at the next call's start).
t0=$SECONDS
echo "not-the-secret" >"$D/alice.pw"
since_wrong=$(date -u +%Y-%m-%dT%H:%M:%S)
lns_fails_before=$(grep -c 'Peer alice failed CHAP authentication' "$D/pppd-lns1.log")
pid=$(agent_pppd ppp-isp | head -1)
[[ -n $pid ]] && kill -9 "$pid"
if c=$(wait_call lac1 isp '.phase == "PPP_PHASE_DEAD" and (.lastFailure | test("authenticat"))' 45); then
  result lac-wrong-pw ok "after $(since $t0): phase DEAD, last_failure '$(jq -r .lastFailure <<<"$c")'; LNS pppd: '$(grep -o 'Peer alice failed CHAP authentication' "$D/pppd-lns1.log" | head -1)'"
else
  result lac-wrong-pw fail "no DEAD with an authentication failure after $(since $t0): calls $(calls lac1 isp); events: $(ppp_events lac1 | tail -4)"
  logs "$D/lac1.log"
fi
# A second attempt with the wrong password, by itself (backoff): a second
# pppd start and a second CHAP failure at the LNS.
deadline=$((SECONDS + 60))
while ((SECONDS < deadline)); do
  starts=$(ppp_events_since lac1 "$since_wrong" | grep -c 'PPP ESTABLISHING')
  lns_fails=$(($(grep -c 'Peer alice failed CHAP authentication' "$D/pppd-lns1.log") - lns_fails_before))
  ((starts >= 2 && lns_fails >= 2)) && break
  sleep 0.5
done
# The agent's calls since the wrong password: start and end times (the backoff).
times=$(ppp_events_since lac1 "$since_wrong" | grep -E 'PPP ESTABLISHING|PPP DEAD' |
  awk '{split($1, t, "T"); print substr(t[2], 1, 8), ($0 ~ /DEAD/ ? "end" : "start")}' | tr '\n' ' ')
icrqs=$(grep -c 'WAIT_REPLY: placing the call again' "$D/lac1.log")
if ((starts >= 2 && lns_fails >= 2)); then
  result lac-wrong-pw-redial ok "$starts pppd starts, $lns_fails CHAP failures at the LNS since the wrong password; calls: $times"
else
  result lac-wrong-pw-redial fail "after $(since $t0): $starts pppd starts, $lns_fails CHAP failures at the LNS; calls: $times; the agent placed calls $icrqs times in all; session now: $(ctl lac1 get sessions -o json | jq -c '.sessions[]? | select(.name == "isp") | .status.sessionControl' 2>/dev/null); xl2tpd: $(grep -v '^xl2tpd\[[0-9]*\]: "' "$D/lns1.log" | grep -E 'twice|Call established|disconnected' | tail -3 | sed 's/^xl2tpd\[[0-9]*\]: //')"
fi
# The password fixed in the same file: the next call (after its backoff) comes up.
t0=$SECONDS
echo "$SECRET" >"$D/alice.pw"
if c=$(wait_call lac1 isp '.phase == "PPP_PHASE_NETWORK"' 90) && ping_ok c1a 10.8.0.1; then
  result lac-fixed-pw ok "NETWORK $(since $t0) after the fix: $(jq -r '.localAddress + " <-> " + .peerAddress' <<<"$c"), ping $(received)"
else
  result lac-fixed-pw fail "after $(since $t0): calls $(calls lac1 isp); events: $(ppp_events lac1 | tail -3)"
fi
show_agent lac1 12

# ---- Case 4b: deleting the session, then the tunnel, leaves nothing.
t0=$SECONDS
del=$(ctl lac1 delete session isp 2>&1)
if wait_clean 30 c1a "$D/lac1" ppp-isp; then
  # The peer's side ends too (CDN): xl2tpd's pppd goes.
  deadline=$((SECONDS + 20))
  while ((SECONDS < deadline)) && [[ -n $(ppp_sessions c1b) ]]; do sleep 0.3; done
  result lac-delete-session ok "'$del': no pppd, ppp interface, PPPoL2TP session or call file left after $(since $t0); xl2tpd's session: $( [[ -z $(ppp_sessions c1b) ]] && echo gone || echo still there); tunnel kept: $(ppp_pppol2tp c1a | grep -c '^TUNNEL')"
else
  result lac-delete-session fail "'$del' after $(since $t0): $LEFT"
  show_agent lac1 5
fi
ctl lac1 apply -f "$D/lac1.yaml" >/dev/null 2>&1
if wait_call lac1 isp '.phase == "PPP_PHASE_NETWORK"' 60 >/dev/null; then
  t0=$SECONDS
  del=$(ctl lac1 delete tunnel to-lns --cascade 2>&1)
  if wait_clean 30 c1a "$D/lac1" ppp-isp tunnel; then
    result lac-delete-tunnel ok "call up again, then '$del': no pppd, ppp interface, PPPoL2TP tunnel or session, kernel L2TP tunnel or call file left after $(since $t0)"
  else
    result lac-delete-tunnel fail "after $(since $t0): $LEFT"
  fi
else
  result lac-delete-tunnel fail "the session applied again did not come up: $(calls lac1 isp)"
fi
ppp_capture_stop
stop_agent lac1
ppp_stop_xl2tpd lns1
echo "---- xl2tpd LNS log (case 1), without pppd's argv"
grep -v '^xl2tpd\[[0-9]*\]: "' "$D/lns1.log" | tail -40

# ====================================================================
# Case 2: xl2tpd + pppd as LAC, the agent as LNS.
# ====================================================================
ppp_netns_pair c2a c2b veth-c2a veth-c2b "$A4/24" "$B4/24" || { result lns-up fail "netns pair"; finish; }
ppp_capture_start c2b veth-c2b "$D/lns.pcap" udp || echo "no capture of case 2"
ppp_etc_dir "$D/lac2-etc"
ppp_chap_secret "$D/lac2-etc" alice '*' "$SECRET"
ppp_options "$D/lac2-etc/options.xl2tpd" "$D/pppd-lac2.log" noipdefault noauth noipv6
ppp_xl2tpd_config lac "$D/lac2.conf" listen=$A4 port=1701 peer=$B4:1701 name=alice hostname=lac-host \
  pppoptfile=/etc/ppp/options.xl2tpd auth=chap autodial=no redial=no
cat >"$D/lns2.yaml" <<YAML
tunnels:
- name: dial-in
  spec: {version: 2, local: $B4, remote: $A4, control: {mode: MODE_DYNAMIC, role: ROLE_RESPONDER, host_name: agent-lns, hello_interval: 10s}}
sessions:
- name: dialin
  spec:
    tunnel: dial-in
    pseudowire: PSEUDOWIRE_PPP
    interface_name: dialin-
    ppp: {max_sessions: 2, local_address: 10.8.0.1, remote_address_pool: 10.8.1.0/29,
          authentication: PPP_AUTHENTICATION_CHAP, secrets_file: $D/lns.secrets}
YAML
ok=1
start_agent lns2 c2b || ok=0
apply_out=$(ctl lns2 apply -f "$D/lns2.yaml" 2>&1) || { ok=0; echo "apply: $apply_out"; }
ppp_start_xl2tpd lac2 c2a "$D" "$D/lac2-etc" || ok=0
t0=$SECONDS
ppp_xl2tpd_ctl lac2 "c peer" || ok=0
if ((ok)) && got=$(wait_any_ppp c2a 90); then
  lac_if=${got%% *} lac_addr=${got#* }
  if [[ $lac_addr == 10.8.1.1 ]]; then
    result lns-up ok "xl2tpd LAC's $lac_if got $lac_addr (the pool's first) $(since $t0) after dialing: $(iface_addr c2a "$lac_if")"
  else
    result lns-up fail "xl2tpd LAC's $lac_if got $lac_addr, not 10.8.1.1"
  fi
else
  result lns-up fail "no ppp interface in c2a after $(since $t0) (ok=$ok; apply: $apply_out): calls $(calls lns2 dialin)"
  show_agent lns2
  logs "$D/lns2.log" "$D/lac2.log" "$D/pppd-lac2.log"
fi
if c=$(wait_call lns2 dialin '.phase == "PPP_PHASE_NETWORK" and .user == "alice"' 30); then
  ifc=$(jq -r .interfaceName <<<"$c")
  if [[ $(jq -r .localAddress <<<"$c") == 10.8.0.1 && $(jq -r .peerAddress <<<"$c") == 10.8.1.1 && $ifc == dialin-[12] ]] &&
     [[ $(iface_addr c2b "$ifc") == "10.8.0.1 peer 10.8.1.1/32" ]]; then
    # (dialin-1 or dialin-2: the call takes a free one of the template's 2 slots.)
    result lns-status ok "ppp_calls: $c; ip addr: $(iface_addr c2b "$ifc")"
  else
    result lns-status fail "ppp_calls: $c; ip addr of $ifc: $(iface_addr c2b "$ifc")"
  fi
else
  result lns-status fail "no NETWORK call with user alice: $(calls lns2 dialin)"
fi
show_agent lns2
if ping_ok c2a 10.8.0.1 && r1=$(received) && ping_ok c2b 10.8.1.1 && r2=$(received) &&
   ping_ok c2b 10.8.1.1 1200 && r3=$(received); then
  result lns-ping ok "xl2tpd LAC -> agent LNS $r1, agent LNS -> LAC $r2, 1200 bytes $r3"
else
  result lns-ping fail "$(tr '\n' ' ' <"$D/ping.out")"
fi
# xl2tpd hangs up: the agent's call ends, its address goes back to the pool.
t0=$SECONDS
ppp_xl2tpd_ctl lac2 "d peer"
if wait_clean 30 c2b "$D/lns2" dialin- && ! calls lns2 dialin | grep -q PPP_PHASE_NETWORK; then
  result lns-hangup ok "'d peer': the agent's call over after $(since $t0), no pppd, ppp interface, PPPoL2TP session or call file left; ppp_calls now: $(calls lns2 dialin | tr '\n' ' ')"
else
  result lns-hangup fail "after $(since $t0): $LEFT; calls $(calls lns2 dialin)"
  show_agent lns2 6
fi
# The LAC's tunnel went too ("d peer"): wait for its pppd to go before dialing again.
deadline=$((SECONDS + 20))
while ((SECONDS < deadline)) && [[ -n $(ppp_sessions c2a) ]]; do sleep 0.3; done
t0=$SECONDS
ppp_xl2tpd_ctl lac2 "c peer"
if got=$(wait_any_ppp c2a 90) && [[ ${got#* } == 10.8.1.1 ]] &&
   c=$(wait_call lns2 dialin '.phase == "PPP_PHASE_NETWORK"' 20) && [[ $(jq -r .peerAddress <<<"$c") == 10.8.1.1 ]]; then
  result lns-same-address ok "the next call got 10.8.1.1 again $(since $t0) after dialing (released): ${got%% *} on the LAC, $(jq -r .interfaceName <<<"$c") on the agent"
else
  result lns-same-address fail "after $(since $t0): LAC ${got:-no interface}; calls $(calls lns2 dialin)"
fi
t0=$SECONDS
del=$(ctl lns2 delete tunnel dial-in --cascade 2>&1)
if wait_clean 30 c2b "$D/lns2" dialin- tunnel; then
  result lns-delete-tunnel ok "'$del' with a call up: nothing left after $(since $t0)"
else
  result lns-delete-tunnel fail "after $(since $t0): $LEFT"
fi
show_agent lns2 12
ppp_capture_stop
ppp_stop_xl2tpd lac2
stop_agent lns2
echo "---- xl2tpd LAC log (case 2), without pppd's argv"
grep -v '^xl2tpd\[[0-9]*\]: "' "$D/lac2.log" | tail -30

# ====================================================================
# Case 3: L2TPv3 PPP pseudowire between two agents.
# ====================================================================
ppp_netns_pair c3a c3b veth-c3a veth-c3b "$A4/24" "$B4/24" || { result v3-up fail "netns pair"; finish; }
ppp_capture_start c3b veth-c3b "$D/v3.pcap" udp || echo "no capture of case 3"
cat >"$D/v3lac.yaml" <<YAML
tunnels:
- name: v3-out
  spec: {version: 3, local: $A4, remote: $B4, control: {mode: MODE_DYNAMIC, role: ROLE_INITIATOR, host_name: v3-lac, hello_interval: 10s}}
sessions:
- name: v3-dial
  spec: {tunnel: v3-out, pseudowire: PSEUDOWIRE_PPP, remote_end_id: ppp-v3, interface_name: ppp-v3, ppp: {user: alice, password_file: $D/alice.pw}}
YAML
cat >"$D/v3lns.yaml" <<YAML
tunnels:
- name: v3-in
  spec: {version: 3, local: $B4, remote: $A4, control: {mode: MODE_DYNAMIC, role: ROLE_RESPONDER, host_name: v3-lns, hello_interval: 10s}}
sessions:
- name: v3-dialin
  spec:
    tunnel: v3-in
    pseudowire: PSEUDOWIRE_PPP
    remote_end_id: ppp-v3
    interface_name: v3in-
    ppp: {local_address: 10.9.0.1, remote_address_pool: 10.9.1.0/29, authentication: PPP_AUTHENTICATION_CHAP, secrets_file: $D/lns.secrets}
YAML
ok=1
start_agent v3lns c3b || ok=0
start_agent v3lac c3a || ok=0
a1=$(ctl v3lns apply -f "$D/v3lns.yaml" 2>&1) || { ok=0; echo "apply v3lns: $a1"; }
a2=$(ctl v3lac apply -f "$D/v3lac.yaml" 2>&1) || { ok=0; echo "apply v3lac: $a2"; }
t0=$SECONDS
if ((ok)) && c=$(wait_call v3lac v3-dial '.phase == "PPP_PHASE_NETWORK"' 90) &&
   c2=$(wait_call v3lns v3-dialin '.phase == "PPP_PHASE_NETWORK"' 20); then
  result v3-up ok "both NETWORK after $(since $t0): LAC $(jq -r '.interfaceName + " " + .localAddress + " <-> " + .peerAddress' <<<"$c"), LNS $(jq -r '.interfaceName + " " + .localAddress + " <-> " + .peerAddress + " user " + .user' <<<"$c2")"
  if [[ $(jq -r .localAddress <<<"$c") == 10.9.1.1 && $(jq -r .peerAddress <<<"$c") == 10.9.0.1 &&
        $(jq -r .user <<<"$c2") == alice && $(iface_addr c3a ppp-v3) == "10.9.1.1 peer 10.9.0.1/32" ]]; then
    result v3-status ok "LAC ppp-v3: $(iface_addr c3a ppp-v3); LNS $(jq -r .interfaceName <<<"$c2"): $(iface_addr c3b "$(jq -r .interfaceName <<<"$c2")"), user alice"
  else
    result v3-status fail "LAC $c; LNS $c2; ip addr ppp-v3: $(iface_addr c3a ppp-v3)"
  fi
else
  result v3-up fail "after $(since $t0) (ok=$ok): LAC calls $(calls v3lac v3-dial); LNS calls $(calls v3lns v3-dialin)"
  result v3-status fail "not up"
  show_agent v3lac
  show_agent v3lns
  logs "$D/v3lac.log" "$D/v3lns.log"
fi
for ns in c3a c3b; do echo "---- ip -n $ns l2tp show session"; ip -n $ns l2tp show session; done
if ping_ok c3a 10.9.0.1 && r1=$(received) && ping_ok c3b 10.9.1.1 && r2=$(received) &&
   ping_ok c3a 10.9.0.1 1200 && r3=$(received); then
  result v3-ping ok "LAC -> LNS $r1, LNS -> LAC $r2, 1200 bytes $r3"
else
  result v3-ping fail "$(tr '\n' ' ' <"$D/ping.out")"
fi
# ---- Case 4 between two agents: kill -9 one end's pppd, then the other's:
# that end hangs up (CDN), the other end's call ends, the LAC places the
# call again and both come up (the LNS's address back in its pool: 10.9.1.1).
# v3_kill NAME VICTIM_AGENT VICTIM_IFNAME OTHER_AGENT
v3_kill() {
  local name=$1 victim=$2 vif=$3 other=$4 pid lac_pid lns_pid since ok=1 why=()
  since=$(date -u +%Y-%m-%dT%H:%M:%S)
  t0=$SECONDS
  pid=$(agent_pppd "$vif" | head -1)
  lac_pid=$(agent_pppd ppp-v3 | head -1) lns_pid=$(agent_pppd v3in- | head -1)
  [[ -n $pid ]] || { result "$name" fail "no pppd with ifname $vif"; return; }
  kill -9 "$pid"
  wait_events "$victim" "PPP DEAD, pppd exited: .*(signal 9|SIGKILL)" 1 20 || { ok=0; why+=("$victim: no DEAD event for signal 9"); }
  deadline=$((SECONDS + 20))
  while ((SECONDS < deadline)) && ! ppp_events_since "$other" "$since" | grep -q 'PPP DEAD'; do sleep 0.5; done
  ppp_events_since "$other" "$since" | grep -q 'PPP DEAD' || { ok=0; why+=("$other: its call did not end"); }
  redialed v3lac v3-dial ppp-v3 "$lac_pid" 60 || { ok=0; why+=("LAC: $REDIAL"); }
  local lac_redial=$REDIAL
  # (The LAC's 8 s covered the link: the LNS end only has to be there.)
  redialed v3lns v3-dialin v3in- "$lns_pid" 10 0 || { ok=0; why+=("LNS: $REDIAL"); }
  # How many calls the LAC placed until one came up, and why the others ended.
  local attempts failed
  attempts=$(ppp_events_since v3lac "$since" | grep -c 'PPP ESTABLISHING')
  failed=$(ppp_events_since v3lac "$since" | grep 'PPP DEAD' | tail -n +2 | cut -d' ' -f2- | cut -c1-200)
  failed+=$(cat "$D/v3lac.log" "$D/v3lns.log" | awk -v t="$since" '$1 >= t' |
    grep -o "ppp call [0-9]*: Couldn't.*\|cannot start its PPP side.*" | sort -u | sed 's/^/ [/; s/$/]/' | tr -d '\n')
  ATTEMPTS+=("$name: $attempts call(s) placed until one came up${failed:+; the others: $(tr '\n' ';' <<<"$failed")}")
  ((attempts == 1)) || FIRST_TRY=0
  if ((ok)) && [[ $(iface_addr c3a ppp-v3) == "10.9.1.1 peer 10.9.0.1/32" ]] && ping_ok c3a 10.9.0.1; then
    result "$name" ok "$victim's pppd $pid killed: $(ppp_events_since "$victim" "$since" | grep -m1 'PPP DEAD' | cut -d' ' -f2-); $other: $(ppp_events_since "$other" "$since" | grep -m1 'PPP DEAD' | cut -d' ' -f2-); up again after $(since $t0): LAC $lac_redial, LNS $REDIAL; ping $(received)"
  else
    ((ok)) && why+=("ip addr ppp-v3: $(iface_addr c3a ppp-v3); ping: $(tr '\n' ' ' <"$D/ping.out")")
    result "$name" fail "after $(since $t0): ${why[*]}"
    show_agent v3lac 6
    show_agent v3lns 6
  fi
}
ATTEMPTS=() FIRST_TRY=1
v3_kill v3-kill-lac-pppd v3lac ppp-v3 v3lns
v3_kill v3-kill-lns-pppd v3lns v3in- v3lac
# Each re-dial should come up at its first attempt: not fail because of what
# the ended call left (its kernel session, its interface name held by its
# pppd while that one is still being stopped).
if ((FIRST_TRY)); then
  result v3-redial-first-try ok "$(printf '%s; ' "${ATTEMPTS[@]}")"
else
  result v3-redial-first-try fail "$(printf '%s; ' "${ATTEMPTS[@]}")"
fi
show_agent v3lac 8
show_agent v3lns 8
t0=$SECONDS
del=$(ctl v3lac delete session v3-dial 2>&1)
if wait_clean 30 c3a "$D/v3lac" ppp-v3 && wait_clean 30 c3b "$D/v3lns" v3in-; then
  result v3-delete-session ok "'$del' on the LAC: both ends' calls over (CDN) after $(since $t0), nothing left on either; LNS ppp_calls: $(calls v3lns v3-dialin | head -1)"
else
  result v3-delete-session fail "after $(since $t0): $LEFT"
fi
t0=$SECONDS
d1=$(ctl v3lac delete tunnel v3-out --cascade 2>&1)
d2=$(ctl v3lns delete tunnel v3-in --cascade 2>&1)
if wait_clean 30 c3a "$D/v3lac" ppp-v3 tunnel && wait_clean 30 c3b "$D/v3lns" v3in- tunnel; then
  result v3-delete-tunnel ok "'$d1', '$d2': nothing left on either end after $(since $t0)"
else
  result v3-delete-tunnel fail "after $(since $t0): $LEFT"
fi
ppp_capture_stop
stop_agent v3lac
stop_agent v3lns

# ---- all stopped: nothing anywhere.
left=$(ppp_leftovers c1a c1b c2a c2b c3a c3b; for n in lac1 lns2 v3lac v3lns; do find "$D/$n/ppp" -mindepth 1 2>/dev/null; done)
if [[ -z $left ]]; then
  result clean ok "agents and xl2tpd stopped: no pppd/xl2tpd, ppp interface, PPPoL2TP socket, kernel L2TP tunnel or call file left"
else
  result clean fail "$left"
fi
finish
