# shellcheck shell=bash
# Runs inside the test VM (tests/vm/run.sh) for bench/ppp_sessions.sh: N PPP
# sessions from one agent as LAC against one agent as LNS, over L2TPv2 on
# the kernel's PPPoL2TP datapath, each call with its own pppd on both ends.
#
#   ppp_sessions_side.sh AGENT L2TPCTL N BOUND_S POLL_S XL2TPD(0|1) [LOG_LEVEL [CAPTURE(0|1)]]
#                         (payload: ppp_lib.sh, ppp-root/ from stage.sh)
#
# Namespaces `lac` (192.0.2.1/24) and `lns` (192.0.2.2/24) joined by a veth,
# an `l2tp-agent --datapath=kernel` in each (--log-level=LOG_LEVEL, info).
#  - LNS: one L2TPv2 DYNAMIC tunnel RESPONDER, one PPP session template with
#    max_sessions N, local_address 10.9.0.1, pool 10.8.0.0/22 (1022
#    addresses), CHAP, a secrets file with one line per user ("uI" * "pw-I" *).
#  - LAC: one L2TPv2 DYNAMIC tunnel INITIATOR, N PPP sessions ppp-cI (I =
#    0..N-1), user uI, password_file /run/bench/pw/uI.
# Both configs are one YAML each, applied with `l2tpctl apply -f`. The LNS's
# first, then it rests 5 s; t0 is the start of the LAC's `l2tpctl apply`.
#
# Measured (every line "@@BENCH key=value@@" on the console):
#  - until_all_network_s: from t0 until `l2tpctl get sessions -o json` on
#    the LNS shows N ppp_calls in PPP_PHASE_NETWORK, polled every POLL_S
#    seconds (the polled figure, resolution POLL_S plus one l2tpctl run),
#    bounded by BOUND_S; first_network_polled_s likewise for the first.
#  - per call, from the agents' logs (milliseconds; the API's timestamps
#    are whole seconds): the time of the call's "PPP NETWORK" line minus t0,
#    first/median/p90/last over the calls (first_median_p90_last_network_s),
#    and minus its "PPP ESTABLISHING" line, i.e. its pppd's start
#    (pppd_start_to_network_*). The same from the LAC's log (lac_*).
#  - what each control plane did (its log) against what went on the wire
#    (its metrics): calls placed and ICRQs transmitted, calls hung up and
#    CDNs transmitted, set-ups given up, calls refused (lac_control,
#    lns_control); how long the pppd that exited on their own had run.
#  - at rest (10 s after all are up): VmRSS of both agents (also idle and
#    with the LNS config before the calls), their threads and descriptors,
#    the pppd processes whose parent is each agent (count, summed Pss from
#    smaps_rollup), ppp interfaces and PPPoL2TP sessions per namespace, the
#    VM's `free` (used, MiB), agents' CPU seconds from t0 to all up.
#  - cleanup: the LAC's config applied again without its sessions (--prune):
#    from that apply until no pppd is left in the VM, and until no ppp
#    interface is left in either namespace (polled every 0.5 s).
#  - XL2TPD=1, for comparison in the same VM: the LNS agent stopped, xl2tpd
#    (Debian's) as LNS in `lns` with the same pool, local address and CHAP
#    secrets; the same LAC config applied to the LAC agent: until the LAC's
#    l2tpctl shows N calls in NETWORK and until the lns namespace holds N
#    ppp interfaces with an address (polled), xl2tpd's RSS, its pppd count
#    and Pss, cleanup time.
# On failure (not all up within BOUND_S) it prints the evidence: phases and
# last_failure on both sides, how long the pppd that exited on their own
# had lived, the agents' warnings and errors, metrics; then goes on with
# the rest (figures at rest, cleanup, xl2tpd) on the calls that are up, and
# exits 3. LOG_LEVEL debug puts pppd's own lines in the agents' logs;
# CAPTURE=1 hands back a capture of the L2TP control messages on the veth
# (tcpdump in `lns`, control messages only: T bit set).
set -uo pipefail
AGENT=$1 CTL=$2 N=$3 BOUND=$4 POLL=$5 XL2TPD=${6:-0} LOG_LEVEL=${7:-info} CAPTURE=${8:-0}
source /payload/ppp_lib.sh
D=/run/bench
mkdir -p "$D/pw"
LAC4=192.0.2.1 LNS4=192.0.2.2
LOCAL=10.9.0.1 POOL=10.8.0.0/22

report() { echo "@@BENCH $1=$2@@"; }
note() { echo "[$(awk '{print $1}' /proc/uptime)] $*"; }
now() { echo "$EPOCHREALTIME"; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN {printf "%.1f", b - a}'; }
kib() { awk '/^VmRSS/ {print $2}' "/proc/$1/status" 2>/dev/null; }
mib() { awk -v k="$1" 'BEGIN {printf "%.1f MiB", k / 1024}'; }
cpu_s() { awk '{printf "%.2f", ($14 + $15) / 100}' "/proc/$1/stat" 2>/dev/null; }
threads() { awk '/^Threads/ {print $2}' "/proc/$1/status"; }
fds() { ls "/proc/$1/fd" 2>/dev/null | wc -l; }
free_used() { free -m | awk '/^Mem:/ {print $3}'; }
# children NAME PID: pppd processes whose parent is PID (count, summed Pss KiB).
pppd_of() {
  local n=0 pss=0 p
  for p in $(pidof pppd 2>/dev/null); do
    [[ $(awk '{print $4}' "/proc/$p/stat" 2>/dev/null) == "$1" ]] || continue
    n=$((n + 1))
    pss=$((pss + $(awk '/^Pss:/ {print $2}' "/proc/$p/smaps_rollup" 2>/dev/null || echo 0)))
  done
  echo "$n $pss"
}
n_pppd() { pidof pppd 2>/dev/null | wc -w; }
n_ppp_if() { ip -n "$1" -o link show 2>/dev/null | awk '$2 ~ /^(ppp|lns-)/' | wc -l; }
n_ppp_if_addr() { ip -n "$1" -o -4 addr show 2>/dev/null | awk '$2 ~ /^(ppp|lns-)/' | wc -l; }
n_pppol2tp_sessions() { ppp_sessions "$1" | wc -l; }

declare -A PID
start_agent() {  # NAME NETNS
  rm -f "$D/$1.sock"
  ip netns exec "$2" "$AGENT" --socket="$D/$1.sock" --state-dir="$D/$1-state" --datapath=kernel \
    --log-level="$LOG_LEVEL" >>"$D/$1.log" 2>&1 &
  PID[$1]=$!
  for _ in $(seq 1 300); do [[ -S $D/$1.sock ]] && return 0; kill -0 "${PID[$1]}" 2>/dev/null || break; sleep 0.1; done
  echo "agent $1 did not start"; tail -20 "$D/$1.log"; return 1
}
stop_agent() {
  [[ -n ${PID[$1]:-} ]] || return 0
  kill -TERM "${PID[$1]}" 2>/dev/null
  for _ in $(seq 1 600); do kill -0 "${PID[$1]}" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "${PID[$1]}" 2>/dev/null
  wait "${PID[$1]}" 2>/dev/null
  unset "PID[$1]"
  return 0
}
ctl() { local name=$1; shift; "$CTL" --socket "$D/$name.sock" --timeout 60s "$@"; }
# phases NAME: "PHASE COUNT" lines of the agent's ppp_calls (from -o json).
sessions_json() { ctl "$1" get sessions -o json >"$D/$1.sessions.json" 2>"$D/$1.sessions.err"; }
count_network() { grep -c '"phase": *"PPP_PHASE_NETWORK"' "$D/$1.sessions.json" 2>/dev/null; }
phase_counts() {
  grep -o '"phase": *"PPP_PHASE_[A-Z]*"' "$D/$1.sessions.json" 2>/dev/null | sed 's/.*PPP_PHASE_//; s/"//' |
    sort | uniq -c | awk '{printf "%s%s=%s", sep, $2, $1; sep = " "}'
}
# log_epoch: reads log lines, prints "epoch rest-of-line" (the agent logs
# UTC with milliseconds: 2026-12-06T07:54:20.123Z LEVEL ...).
log_epoch() {
  awk '{
    d = substr($1, 1, 10); t = substr($1, 12, 8); f = substr($1, 20, 4) + 0
    gsub(/-/, " ", d); gsub(/:/, " ", t)
    $1 = sprintf("%.3f", mktime(d " " t) + f); print }'
}
# call_times NAME T0: per call that reached NETWORK in the agent's log
# (since T0), "started network" as epochs: its pppd's start (the ESTABLISHING
# line) and its NETWORK line. Calls are told apart by session and call id.
call_times() {
  grep 'INFO ppp: session/.*: PPP \(ESTABLISHING\|NETWORK\)' "$D/$1.log" | log_epoch |
    awk -v t0="$2" '$1 >= t0 {
      key = $4 " " $6; sub(/:$/, "", key)
      if ($0 ~ /PPP ESTABLISHING/) st[key] = $1
      else if (!(key in net)) { net[key] = $1; order[++n] = key }
    } END { for (i = 1; i <= n; i++) print (order[i] in st ? st[order[i]] : ""), net[order[i]] }'
}
# stats_of LIST_FILE: first median p90 last of a column of numbers.
stats_of() {
  sort -n "$1" | awk '{v[NR] = $1} END {
    if (NR == 0) { print "- - - -"; exit }
    m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
    p = int((NR * 9 + 9) / 10); if (p > NR) p = NR
    printf "%.1f %.1f %.1f %.1f\n", v[1], m, v[p], v[NR] }'
}
report_call_times() {  # NAME PREFIX T0
  call_times "$1" "$3" >"$D/$1.times"
  awk -v t0="$3" '{print $2 - t0}' "$D/$1.times" >"$D/$1.net"
  awk '$1 != "" {print $2 - $1}' "$D/$1.times" >"$D/$1.dur"
  report "${2}network_entries" "$(wc -l <"$D/$1.net") (calls that reached NETWORK, from the log; more than N: calls that came up, ended and were placed again)"
  read -r a b c d < <(stats_of "$D/$1.net")
  report "${2}first_median_p90_last_network_s" "$a / $b / $c / $d"
  read -r a b c d < <(stats_of "$D/$1.dur")
  report "${2}pppd_start_to_network_min_median_p90_max_s" "$a / $b / $c / $d"
}
# metrics NETNS: the agent's l2tp_ppp_* and control counters (busybox wget
# reads nothing from the agent's server; bash's /dev/tcp does).
metrics() {
  ip netns exec "$1" timeout 10 bash -c 'exec 3<>/dev/tcp/127.0.0.1/9810 &&
    printf "GET /metrics HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n" >&3 && cat <&3' 2>/dev/null |
    tr -d '\r' | grep '^l2tp_ppp\|^l2tp_control_' | grep -v '_bucket'
}
# lifetimes NAME: how long the pppd that exited on their own had run
# (their ESTABLISHING line to their DEAD line), in buckets.
lifetimes() {
  grep 'INFO ppp: session' "$D/$1.log" | log_epoch | awk '{
    id = $4 " " $6
    if ($0 ~ /PPP ESTABLISHING/) st[id] = $1
    else if ($0 ~ /PPP DEAD, pppd exited/ && (id in st)) {
      d = $1 - st[id]
      b = d < 10 ? "a <10s" : d < 29 ? "b 10-29s" : d < 40 ? "c 29-40s" : d < 120 ? "d 40-120s" : "e >=120s"
      n[b]++; why[b] = why[b] == "" ? $0 : why[b]
    } } END { for (b in n) print b, n[b] }' | sort | awk '{printf "%s%s: %d", sep, $2, $3; sep = ", "}'
}
evidence() {  # what went wrong, for the report
  for a in lns lac; do
    [[ -n ${PID[$a]:-} ]] || continue
    echo "---- $a: phases $(phase_counts "$a"); the session's status: $(grep -m1 '"message"' "$D/$a.sessions.json" | sed 's/^ *//')"
    echo "---- $a: pppd that exited on their own, by how long they had run: $(lifetimes "$a")"
    echo "---- $a: calls refused: $(grep -c 'refused the peer.s call' "$D/$a.log"), by reason:"
    grep -o 'refused the peer.s call: .*' "$D/$a.log" | sort | uniq -c | sort -rn | head -5
    echo "---- $a: last_failure of calls (count, words)"
    grep -o '"lastFailure": *"[^"]*"' "$D/$a.sessions.json" 2>/dev/null | sort | uniq -c | sort -rn | head -10
    echo "---- $a: l2tpctl get tunnels -o wide"
    ctl "$a" get tunnels -o wide 2>&1 | head -5
    echo "---- $a: l2tpctl get sessions -o wide (first 15 lines)"
    ctl "$a" get sessions -o wide 2>&1 | head -15
    echo "---- $a: WARN/ERROR lines ($(grep -c ' WARN\| ERROR' "$D/$a.log") in all), the last 20"
    grep ' WARN\| ERROR' "$D/$a.log" | tail -20
    echo "---- $a: ppp event lines by kind"
    grep -o 'PPP [A-Z]*[,:]\? *[a-z]*' "$D/$a.log" | sort | uniq -c
    echo "---- $a: metrics (those not 0)"
    metrics "$a" | grep -v ' 0$'
  done
}

# On any exit (also an unexpected one): agents and xl2tpd stopped, the
# logs, configs and statuses handed back (run.sh --out).
on_exit() {
  for a in lac lns; do stop_agent "$a"; done
  ppp_stop_xl2tpd xlns
  ppp_capture_stop
  mkdir -p /results
  [[ -s $D/control.pcap ]] && cp "$D/control.pcap" /results/
  cp "$D"/*.log "$D"/*.yaml "$D"/*.json "$D"/*.txt /results/ 2>/dev/null
  return 0
}
trap on_exit EXIT
finish() { exit "$1"; }

# ---- setup
note "setup: N=$N bound=${BOUND}s poll=${POLL}s"
# gRPC programs block in getrandom() until the kernel's pool is ready.
dd if=/dev/random of=/dev/null bs=1 count=1 2>/dev/null
ppp_vm_install /payload || finish 1
report vm "$(nproc) vCPU, $(free -m | awk '/^Mem:/ {print $2}') MiB, kernel $(uname -r), pppd $PPP_VERSION, xl2tpd $XL2TPD_VERSION"
ppp_netns_pair lac lns veth-lac veth-lns "$LAC4/24" "$LNS4/24" || { echo "netns pair failed"; finish 1; }

# Secrets: one line per user on the LNS, a password file per user on the LAC.
: >"$D/lns-secrets"
for ((i = 0; i < N; i++)); do
  printf '"u%d" * "pw-%d" *\n' "$i" "$i" >>"$D/lns-secrets"
  printf 'pw-%d\n' "$i" >"$D/pw/u$i"
done
chmod 600 "$D/lns-secrets" "$D"/pw/*
cat >"$D/lns.yaml" <<YAML
tunnels:
- name: from-lac
  spec: {version: 2, local: $LNS4, remote: $LAC4, control: {mode: DYNAMIC, role: RESPONDER, host_name: lns}}
sessions:
- name: dial-in
  spec:
    tunnel: from-lac
    pseudowire: PPP
    interface_name: lns-
    ppp: {max_sessions: $N, local_address: $LOCAL, remote_address_pool: $POOL,
          authentication: CHAP, secrets_file: $D/lns-secrets}
YAML
cat >"$D/lac-tunnel.yaml" <<YAML
tunnels:
- name: to-lns
  spec: {version: 2, local: $LAC4, remote: $LNS4, control: {mode: DYNAMIC, role: INITIATOR, host_name: lac}}
YAML
{
  cat "$D/lac-tunnel.yaml"
  echo "sessions:"
  for ((i = 0; i < N; i++)); do
    echo "- name: c$i"
    echo "  spec: {tunnel: to-lns, pseudowire: PPP, interface_name: ppp-c$i, ppp: {user: u$i, password_file: $D/pw/u$i}}"
  done
} >"$D/lac.yaml"

report free_used_mib_boot "$(free_used)"
if [[ $CAPTURE == 1 ]]; then
  # L2TP control messages only (the T bit), whole frames.
  ppp_capture_start lns veth-lns "$D/control.pcap" 'udp port 1701 and udp[8] & 0x80 != 0' || finish 1
fi
start_agent lns lns || finish 1
start_agent lac lac || finish 1
sleep 2
report lns_rss_idle "$(mib "$(kib "${PID[lns]}")")"
report lac_rss_idle "$(mib "$(kib "${PID[lac]}")")"
ctl lns info >"$D/lns-info.txt" 2>&1
grep -q 'pseudowire/ppp' "$D/lns-info.txt" || { echo "the LNS agent cannot carry PPP:"; cat "$D/lns-info.txt"; finish 1; }
ctl lns apply -f "$D/lns.yaml" || { echo "LNS apply failed"; finish 1; }
sleep 5
report lns_rss_configured "$(mib "$(kib "${PID[lns]}")")"
report free_used_mib_before "$(free_used)"
lns_cpu0=$(cpu_s "${PID[lns]}") lac_cpu0=$(cpu_s "${PID[lac]}")

# One poll's cost, measured before the calls start (the poller shares the vCPU).
tp=$(now); sessions_json lns; report poll_cost_s "$(since "$tp")"

# ---- the calls
note "applying the LAC's $N sessions"
t0=$(now)
ctl lac apply -f "$D/lac.yaml" >"$D/lac-apply.txt" 2>&1 || { echo "LAC apply failed"; cat "$D/lac-apply.txt"; finish 1; }
report lac_apply_rpc_s "$(since "$t0")"
first="" all="" last_n=-1 last_note=$SECONDS
while :; do
  tp=$(now)
  sessions_json lns
  n=$(count_network lns)
  [[ -z $first && $n -ge 1 ]] && first=$(awk -v a="$t0" -v b="$tp" 'BEGIN {printf "%.1f", b - a}')
  if [[ $n -ge $N ]]; then all=$(awk -v a="$t0" -v b="$tp" 'BEGIN {printf "%.1f", b - a}'); break; fi
  if ((SECONDS - last_note >= 15)) || [[ $n != "$last_n" && $((SECONDS - last_note)) -ge 5 ]]; then
    note "t=$(since "$t0") s: LNS phases $(phase_counts lns); pppd $(n_pppd)"
    last_note=$SECONDS last_n=$n
  fi
  if awk -v a="$t0" -v b="$(now)" -v m="$BOUND" 'BEGIN {exit !(b - a > m)}'; then break; fi
  kill -0 "${PID[lns]}" 2>/dev/null || { echo "the LNS agent died"; tail -30 "$D/lns.log"; break; }
  kill -0 "${PID[lac]}" 2>/dev/null || { echo "the LAC agent died"; tail -30 "$D/lac.log"; break; }
  sleep "$POLL"
done
report first_network_polled_s "${first:--}"
lns_cpu1=$(cpu_s "${PID[lns]}") lac_cpu1=$(cpu_s "${PID[lac]}")
rc=0
if [[ -z $all ]]; then
  rc=3
  report until_all_network_s "not reached: $(count_network lns)/$N NETWORK after ${BOUND} s ($(phase_counts lns))"
  report lns_pppd_lifetimes "$(lifetimes lns)"
  report lac_pppd_lifetimes "$(lifetimes lac)"
  sessions_json lac
  evidence
  echo "---- the rest is measured on the calls that are up"
else
  report until_all_network_s "$all"
fi
report_call_times lns "" "$t0"
report agent_cpu_to_all_up_s "lns $(awk -v a="$lns_cpu0" -v b="$lns_cpu1" 'BEGIN {printf "%.1f", b - a}'), lac $(awk -v a="$lac_cpu0" -v b="$lac_cpu1" 'BEGIN {printf "%.1f", b - a}')"
# The LAC's view (its calls may be a moment behind or ahead).
lac_all=""
for _ in $(seq 1 "$( ((rc == 0)) && echo 120 || echo 1)"); do
  sessions_json lac
  [[ $(count_network lac) -ge $N ]] && { lac_all=1; break; }
  sleep 1
done
[[ -n $lac_all ]] || report lac_phases "$(phase_counts lac)"
report_call_times lac lac_ "$t0"

# ---- at rest
sleep 10
read -r lns_n lns_pss < <(pppd_of "${PID[lns]}")
read -r lac_n lac_pss < <(pppd_of "${PID[lac]}")
report lns_rss_up "$(mib "$(kib "${PID[lns]}")")"
report lac_rss_up "$(mib "$(kib "${PID[lac]}")")"
report threads_fds "lns $(threads "${PID[lns]}") threads $(fds "${PID[lns]}") fds, lac $(threads "${PID[lac]}") threads $(fds "${PID[lac]}") fds"
report pppd_count "lns $lns_n (Pss $(mib "$lns_pss")), lac $lac_n (Pss $(mib "$lac_pss")), VM $(n_pppd)"
one=$(pidof pppd | awk '{print $1}')
report pppd_one_rss "$(mib "$(kib "$one")") (Pss $(mib "$(awk '/^Pss:/ {print $2}' "/proc/$one/smaps_rollup")"))"
report ppp_interfaces "lns $(n_ppp_if lns) ($(n_ppp_if_addr lns) with an address), lac $(n_ppp_if lac) ($(n_ppp_if_addr lac) with an address)"
report pppol2tp_sessions "lns $(n_pppol2tp_sessions lns), lac $(n_pppol2tp_sessions lac)"
report free_used_mib_up "$(free_used)"
# Traffic over a few of the calls: LAC -> LNS's address through ppp-c0, the middle and the last.
# (The first, middle and last of the LAC's interfaces that have an address.)
pings=""
mapfile -t up_ifs < <(ip -n lac -o -4 addr show | awk '$2 ~ /^ppp-c/ {print $2}')
for i in 0 $((${#up_ifs[@]} / 2)) $((${#up_ifs[@]} - 1)); do
  ifc=${up_ifs[$i]:-}
  [[ -n $ifc ]] || continue
  if ip netns exec lac timeout 20 ping -q -c 2 -W 5 -I "$ifc" "$LOCAL" >"$D/ping.txt" 2>&1; then
    pings+="$ifc ok; "
  else
    pings+="$ifc FAILED; "
  fi
done
report pings "$pings"
metrics lns >"$D/lns-metrics-up.txt"; metrics lac >"$D/lac-metrics-up.txt"
report calls_started "lns $(awk '/^l2tp_ppp_calls_started_total/ {print $2}' "$D/lns-metrics-up.txt"), lac $(awk '/^l2tp_ppp_calls_started_total/ {print $2}' "$D/lac-metrics-up.txt")"
report warn_error_lines "lns $(grep -c ' WARN\| ERROR' "$D/lns.log"), lac $(grep -c ' WARN\| ERROR' "$D/lac.log")"
# What the LAC's control plane decided (its log) against what it put on the
# wire (its metrics, retransmissions included), and the LNS's side of it.
sent() { awk -v t="$2" -v k="$3" '$1 == "l2tp_control_messages_" k "_total{type=\"" t "\"}" {print $2}' "$D/$1-metrics-up.txt"; }
report lac_control "calls placed $(grep -c 'WAIT_REPLY: placing the call' "$D/lac.log"), ICRQs transmitted $(sent lac icrq sent); calls established $(grep -c 'control session ESTABLISHED' "$D/lac.log"), ICCNs transmitted $(sent lac iccn sent); calls it hung up $(grep -c 'control session DOWN: we ended' "$D/lac.log"), CDNs transmitted $(sent lac cdn sent); set-ups given up $(grep -c 'control session DOWN: no ICRP from the peer within' "$D/lac.log"); retransmissions $(awk '/^l2tp_control_retransmissions_total/ {print $2}' "$D/lac-metrics-up.txt")"
report lns_control "ICRQs received $(sent lns icrq received), calls refused $(grep -c 'refused the peer.s call' "$D/lns.log"), ICCNs received $(sent lns iccn received), CDNs received $(sent lns cdn received), calls it hung up $(grep -c 'control session DOWN: we ended' "$D/lns.log"); set-ups given up $(grep -c 'control session DOWN: no ICCN from the peer within' "$D/lns.log")"
report pppd_lifetimes "of those that exited on their own: lns $(lifetimes lns); lac $(lifetimes lac)"
ctl lns get sessions -o wide >"$D/lns-sessions-up.txt" 2>&1
ctl lac get sessions -o wide >"$D/lac-sessions-up.txt" 2>&1

# ---- cleanup at scale: the LAC's sessions deleted
note "deleting the LAC's $N sessions (apply --prune without them)"
t1=$(now)
ctl lac apply --prune -f "$D/lac-tunnel.yaml" >"$D/lac-prune.txt" 2>&1 || { echo "prune failed"; cat "$D/lac-prune.txt"; }
report prune_rpc_s "$(since "$t1")"
no_pppd="" no_if="" last_note=$SECONDS
while :; do
  [[ -z $no_pppd && $(n_pppd) == 0 ]] && no_pppd=$(since "$t1")
  [[ -z $no_if && $(n_ppp_if lns) == 0 && $(n_ppp_if lac) == 0 ]] && no_if=$(since "$t1")
  [[ -n $no_pppd && -n $no_if ]] && break
  if ((SECONDS - last_note >= 15)); then
    note "cleanup t=$(since "$t1") s: pppd $(n_pppd), ppp interfaces lns $(n_ppp_if lns) lac $(n_ppp_if lac)"
    last_note=$SECONDS
  fi
  awk -v a="$t1" -v b="$(now)" -v m="$BOUND" 'BEGIN {exit !(b - a > m)}' && break
  sleep 0.5
done
report cleanup_no_pppd_s "${no_pppd:-not reached: $(n_pppd) pppd left}"
report cleanup_no_ppp_interface_s "${no_if:-not reached: lns $(n_ppp_if lns), lac $(n_ppp_if lac) left}"
sleep 3
report cleanup_left "$(PPP_LEFTOVER_PROCS=pppd ppp_leftovers lac lns | grep -v '^l2tp \|pppol2tp .*TUNNEL' | wc -l) items (pppd, ppp interfaces, PPPoL2TP sessions)"
sessions_json lns
report lns_phases_after_cleanup "$(phase_counts lns)"
report lns_rss_after_cleanup "$(mib "$(kib "${PID[lns]}")")"
report lac_rss_after_cleanup "$(mib "$(kib "${PID[lac]}")")"
report free_used_mib_after_cleanup "$(free_used)"
[[ -n $no_pppd && -n $no_if ]] || { ((rc)) || rc=4; }

# ---- comparison: xl2tpd as LNS, the same calls from the agent LAC
if [[ $XL2TPD == 1 ]]; then
  note "xl2tpd as LNS: the LNS agent stops, the LAC's tunnel goes too"
  ctl lac delete tunnel to-lns --cascade >/dev/null 2>&1 || true
  stop_agent lns
  for _ in $(seq 1 60); do [[ -z $(ip -n lac l2tp show tunnel) ]] && break; sleep 0.5; done
  mkdir -p "$D/x"
  ppp_etc_dir "$D/x-etc"
  cp "$D/lns-secrets" "$D/x-etc/chap-secrets"
  # What the agent's LNS pppd gets, as far as xl2tpd lets it (docs/ppp.md).
  ppp_options "$D/x-etc/options.xl2tpd" "$D/x/pppd.log" "lcp-echo-interval 30" "lcp-echo-failure 4" nodeflate nobsdcomp novj
  ppp_xl2tpd_config lns "$D/x/xlns.conf" listen=$LNS4 port=1701 ip_range=10.8.0.1-10.8.3.254 local_ip=$LOCAL \
    name=lns hostname=lns pppoptfile=/etc/ppp/options.xl2tpd auth=chap
  ppp_start_xl2tpd xlns lns "$D/x" "$D/x-etc" || { echo "xl2tpd did not start"; finish 5; }
  sleep 3
  xpid=${XL2TPD_PID[xlns]}
  report xl2tpd_rss_idle "$(mib "$(kib "$xpid")") (pid $xpid: $(cat "/proc/$xpid/comm"))"
  lac_cpu0=$(cpu_s "${PID[lac]}")
  t0=$(now)
  ctl lac apply -f "$D/lac.yaml" >/dev/null 2>&1 || { echo "LAC apply (xl2tpd) failed"; finish 5; }
  all="" ifs_all="" first="" last_note=$SECONDS
  while :; do
    tp=$(now)
    sessions_json lac
    n=$(count_network lac)
    k=$(n_ppp_if_addr lns)
    [[ -z $first && $n -ge 1 ]] && first=$(awk -v a="$t0" -v b="$tp" 'BEGIN {printf "%.1f", b - a}')
    [[ -z $ifs_all && $k -ge $N ]] && ifs_all=$(awk -v a="$t0" -v b="$tp" 'BEGIN {printf "%.1f", b - a}')
    if [[ $n -ge $N ]]; then all=$(awk -v a="$t0" -v b="$tp" 'BEGIN {printf "%.1f", b - a}'); break; fi
    if ((SECONDS - last_note >= 15)); then
      note "xl2tpd t=$(since "$t0") s: LAC phases $(phase_counts lac); lns interfaces with an address $k; pppd $(n_pppd)"
      last_note=$SECONDS
    fi
    awk -v a="$t0" -v b="$(now)" -v m="$BOUND" 'BEGIN {exit !(b - a > m)}' && break
    sleep "$POLL"
  done
  [[ -z $ifs_all ]] && (($(n_ppp_if_addr lns) >= N)) && ifs_all=$(since "$t0")
  report x_first_network_polled_s "${first:--}"
  report x_until_all_network_lac_s "${all:-not reached: $(count_network lac)/$N ($(phase_counts lac))}"
  report x_until_all_lns_interfaces_s "${ifs_all:-not reached: $(n_ppp_if_addr lns)/$N}"
  report x_lac_cpu_to_all_up_s "$(awk -v a="$lac_cpu0" -v b="$(cpu_s "${PID[lac]}")" 'BEGIN {printf "%.1f", b - a}')"
  report x_xl2tpd_cpu_s "$(cpu_s "$xpid")"
  report_call_times lac x_lac_ "$t0"
  sleep 10
  read -r x_n x_pss < <(pppd_of "$xpid")
  read -r lac_n lac_pss < <(pppd_of "${PID[lac]}")
  report x_xl2tpd_rss_up "$(mib "$(kib "$xpid")")"
  report x_pppd_count "xl2tpd $x_n (Pss $(mib "$x_pss")), lac $lac_n (Pss $(mib "$lac_pss")), VM $(n_pppd)"
  report x_lac_rss_up "$(mib "$(kib "${PID[lac]}")")"
  report x_free_used_mib_up "$(free_used)"
  [[ -z $all ]] && { evidence; tail -30 "$D/x/xlns.log"; ((rc)) || rc=5; }
  # (xl2tpd runs its pppd `passive`: one whose call xl2tpd lost waits for
  # ever, so this waits 120 s at most and says whose pppd are left.)
  t1=$(now)
  ctl lac apply --prune -f "$D/lac-tunnel.yaml" >/dev/null 2>&1
  no_pppd="" no_if=""
  while :; do
    [[ -z $no_pppd && $(n_pppd) == 0 ]] && no_pppd=$(since "$t1")
    [[ -z $no_if && $(n_ppp_if lns) == 0 && $(n_ppp_if lac) == 0 ]] && no_if=$(since "$t1")
    [[ -n $no_pppd && -n $no_if ]] && break
    awk -v a="$t1" -v b="$(now)" 'BEGIN {exit !(b - a > 120)}' && break
    sleep 0.5
  done
  report x_cleanup_no_pppd_s "${no_pppd:-not reached in 120 s: pppd left: of xl2tpd $(pppd_of "$xpid" | cut -d' ' -f1), of the LAC $(pppd_of "${PID[lac]}" | cut -d' ' -f1)}"
  report x_cleanup_no_ppp_interface_s "${no_if:-not reached in 120 s: lns $(n_ppp_if lns), lac $(n_ppp_if lac) left}"
  cp "$D/x/xlns.log" "$D/xl2tpd.log" 2>/dev/null
fi
finish "$rc"
