#!/usr/bin/env bash
# Scale of DYNAMIC tunnels: two agents run the L2TP control protocol (RFC
# 3931) with each other for T tunnels x S sessions (default 1,000 x 10).
#
# Setup: two network namespaces joined by a veth (scripts/lib/veth-pair.sh),
# one `l2tp-agent --datapath=memory` in each. The memory datapath moves no
# packets, but a DYNAMIC tunnel's control connection is real: every tunnel
# opens its own UDP socket (bound to local:port, connected to remote:port),
# so tunnel i uses port 10000+i on both ends, and the agents exchange
# SCCRQ/SCCRP/SCCCN, ICRQ/ICRP/ICCN per session and HELLOs over the veth.
# Site A is the INITIATOR of every tunnel, site B the RESPONDER; tunnel and
# session ids are 0 (picked by each agent), sessions are matched by their
# Remote End ID "pw-<i>-<j>", hello_interval is 10 s.
#
# Measured, for each agent:
#   1. DYNAMIC setup: both configs (JSON: the proto3 JSON mapping of
#      l2tpagent.v1.Config) applied with `l2tpctl apply -f` at the same time
#      (two background processes started together); the time from starting
#      them until, on both agents, every tunnel is READY with its control
#      connection ESTABLISHED (`l2tp_tunnel_control_up` = 1 for all T) and
#      every session is READY (`l2tp_agent_resources{kind="session",
#      phase="ready"}` = T*S). Polled from each agent's /metrics every
#      POLL_S (0.5 s): a scrape at 10,000 sessions costs the agent ~9 ms of
#      CPU (BENCHMARKS.md), so the poll costs each agent under 2% of a core
#      and the figure is late by at most one poll interval. The exact time
#      is also read from the agents' logs: the timestamp of the last
#      "reconcile: create tunnel|session ... done" line (the reconciler
#      records READY right after), the figure the ratios use. The agent's CPU
#      (utime+stime from /proc/PID/stat, all threads, those gone included)
#      over the same span, the scrapes included; peak RSS (VmHWM) and RSS.
#   2. Steady state: after SETTLE_S (5 s) of quiet, each agent's CPU over
#      STEADY_S (60 s) with nothing polling it, as a percentage of one core;
#      the HELLOs sent meanwhile (l2tp_control_messages_sent_total, read
#      before and after the window); context switches of all its threads per
#      second (wake-ups); RSS after. Then, outside any timing, the API is
#      checked (`l2tpctl get tunnels|sessions -o json` on both): every tunnel
#      READY and ESTABLISHED, every session READY and ESTABLISHED, and the
#      ids each agent learned are the ids the other picked.
#   3. Restart: both agents stopped (SIGTERM) and started again at once
#      with their state and --resync-interval=1h; the time from starting
#      them until all is up again (an agent that hands its connections over
#      to the next run resumes them, else they are set up anew: the summary
#      counts which, from the log), and the same steady-state window: the
#      control protocol's cost alone, without the reconciler's periodic
#      resync of every resource (default every 10 s).
#   4. Teardown (extra): both configs pruned at the same time (`l2tpctl apply
#      --prune` of a config holding one STATIC tunnel: an empty one is
#      refused): StopCCN both ways; the time until each agent holds only that
#      tunnel.
#   5. Reference, same run: fresh agents (same binaries, flags and
#      namespaces, empty state, so both workloads start from the same point)
#      get the same T x S as STATIC tunnels (ids written out: tunnel i,
#      session j, same ports), applied to both at once; the time until every
#      tunnel and session is READY on both, their CPU, RSS, and the same
#      steady-state window (no control protocol: what remains is the
#      agent's own resync every 10 s). The summary gives dynamic/static
#      ratios.
#
# The agents log at info (the default): every control transition is a line
# with a timestamp, which is where the summary's "where the time goes"
# figures come from (first connection opened, last tunnel ESTABLISHED, last
# session ESTABLISHED, per agent).
#
#   bench/control-scale.sh [--tunnels N] [--sessions M] [--quick] [BUILD_DIR]
#       defaults: 1000 x 10, STEADY_S=60, BUILD_DIR=build
#       --quick: 100 x 10, 10 s steady states after 2 s (about 50 s in all)
#   environment: STEADY_S, SETTLE_S, POLL_S, WAIT_S (bound of every wait,
#   default 300), KEEP=1 keeps the work directory (configs, agent logs, the
#   poll trace poll-*.txt), PERF=1 profiles both agents with `perf record
#   --call-graph dwarf` during the DYNAMIC setup and its steady state and
#   writes the hottest symbols to perf-*.txt in the work directory (kept):
#   perf costs the agents CPU, so the figures of such a run are not records.
#
# Needs root (network namespaces), curl, python3. Prints a Markdown summary.
set -euo pipefail

T=1000 S=10 QUICK=0 BUILD_DIR=build
while (($#)); do
  case $1 in
    --tunnels) T=${2:?}; shift 2 ;;
    --sessions) S=${2:?}; shift 2 ;;
    --quick) QUICK=1; shift ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    -*) echo "unknown flag $1" >&2; exit 2 ;;
    *) BUILD_DIR=$1; shift ;;
  esac
done
if ((QUICK)); then
  [[ $T == 1000 ]] && T=100
  STEADY_S=${STEADY_S:-10} SETTLE_S=${SETTLE_S:-2}
fi
STEADY_S=${STEADY_S:-60} SETTLE_S=${SETTLE_S:-5} POLL_S=${POLL_S:-0.5} WAIT_S=${WAIT_S:-300}
N=$((T * S))
((T >= 1 && T <= 50000 && S >= 1)) || { echo "need 1 <= tunnels <= 50000 (ports 10001..) and sessions >= 1" >&2; exit 2; }
[[ $EUID == 0 ]] || { echo "needs root (network namespaces)" >&2; exit 1; }
for tool in curl python3 ip awk; do command -v "$tool" >/dev/null || { echo "needs $tool" >&2; exit 1; }; done

HERE=$(cd "$(dirname "$0")" && pwd)
BUILD_DIR=$(readlink -f "$BUILD_DIR")
AGENT="$BUILD_DIR/agent/l2tp-agent" CTL="$BUILD_DIR/client/l2tpctl"
[[ -x $AGENT && -x $CTL ]] || { echo "no $AGENT or $CTL (build them first)" >&2; exit 1; }
# shellcheck source=scripts/lib/veth-pair.sh
source "$HERE/../scripts/lib/veth-pair.sh"

NS_A=l2tp-cs-a-$$ NS_B=l2tp-cs-b-$$
ADDR_A=198.18.0.1 ADDR_B=198.18.0.2  # RFC 2544 benchmarking range, only on the test's own veth
METRICS_PORT=9810
WORK=$(mktemp -d /tmp/l2tp-control-bench-XXXXXX)
PID_A="" PID_B="" PERF_PIDS=()
cleanup() {
  local rc=$?
  ((${#PERF_PIDS[@]})) && { kill -INT "${PERF_PIDS[@]}" 2>/dev/null || true; wait "${PERF_PIDS[@]}" 2>/dev/null || true; }
  for pid in $PID_A $PID_B; do kill -9 "$pid" 2>/dev/null || true; done
  for pid in $PID_A $PID_B; do wait "$pid" 2>/dev/null || true; done
  ip netns del "$NS_A" 2>/dev/null || true
  ip netns del "$NS_B" 2>/dev/null || true
  if [[ ${KEEP:-0} == 1 || $rc != 0 ]]; then
    echo "work directory kept: $WORK" >&2
  else
    rm -rf "$WORK"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
die() { echo "control-scale: $*" >&2; exit 1; }

# 2 sockets per tunnel at most (the tunnel's, and a lingering one while it
# closes) plus gRPC and files: the agent raises its soft limit to the hard one.
ulimit -n "$(ulimit -Hn)"
(($(ulimit -n) >= 2 * T + 256)) || die "open files hard limit $(ulimit -Hn) is too low for $T tunnels"

veth_pair "$NS_A" "$NS_B" 198.18.0

# ---------------------------------------------------------------- helpers
now() { echo "$EPOCHREALTIME"; }
nap() { sleep "$1" & wait $!; }  # a sleep that a signal interrupts (the trap runs at once)
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", b - a}'; }
clk_tck=$(getconf CLK_TCK)
cpu_s() { awk -v hz="$clk_tck" '{printf "%.2f", ($14 + $15) / hz}' "/proc/$1/stat"; }
kib_field() { awk -v f="$2:" '$1 == f {print $2}' "/proc/$1/status"; }
max2() { awk -v a="$1" -v b="$2" 'BEGIN {print (a > b ? a : b)}'; }
mib() { awk -v k="$1" 'BEGIN {printf "%.1f", k / 1024}'; }
ctxt_switches() {  # all threads of PID $1
  cat /proc/"$1"/task/*/status 2>/dev/null | awk '/^(non)?voluntary_ctxt_switches/ {n += $2} END {print n + 0}'
}
ns_of() { [[ $1 == a ]] && echo "$NS_A" || echo "$NS_B"; }
pid_of() { [[ $1 == a ]] && echo "$PID_A" || echo "$PID_B"; }
ctl() { "$CTL" --socket "$WORK/$1.sock" --timeout 300s "${@:2}"; }
scrape() { ip netns exec "$(ns_of "$1")" curl -sf --max-time 10 "http://127.0.0.1:$METRICS_PORT/metrics"; }
# "tunnels-ready sessions-ready tunnels-control-up hellos-sent
# reconcile-passes reconcile-seconds" of agent $1.
progress() {
  scrape "$1" | awk '
    $1 == "l2tp_agent_resources{kind=\"tunnel\",phase=\"ready\"}" {t = $2}
    $1 == "l2tp_agent_resources{kind=\"session\",phase=\"ready\"}" {s = $2}
    $1 == "l2tp_agent_resources{kind=\"tunnel\",phase=\"pending\"}" {tp = $2}
    $1 ~ /^l2tp_tunnel_control_up\{/ {up += $2}
    $1 == "l2tp_control_messages_sent_total{type=\"hello\"}" {h = $2}
    $1 ~ /^l2tp_agent_reconcile_total/ {p += $2}
    $1 == "l2tp_agent_reconcile_duration_seconds_sum" {ps = $2}
    END {printf "%d %d %d %d %d %.6f\n", t, s, up, h, p, ps}'
}
resources() {  # tunnels+sessions agent $1 holds, in any phase (deleting too)
  scrape "$1" | awk '$1 ~ /^l2tp_agent_resources\{/ {n += $2} END {print n + 0}'
}

# start_agents STATE LOG [flags...]: both agents at once, state in
# $WORK/STATE-{a,b}, logs $WORK/LOG-{a,b}.log; returns when both serve.
start_agents() {
  local state=$1 log=$2 side ns pid; shift 2
  for side in a b; do
    rm -f "$WORK/$side.sock"
    ip netns exec "$(ns_of "$side")" "$AGENT" --socket="$WORK/$side.sock" --state-dir="$WORK/$state-$side" \
      --datapath=memory --metrics-addr="127.0.0.1:$METRICS_PORT" --log-level=info "$@" >>"$WORK/$log-$side.log" 2>&1 &
    pid=$!  # `ip netns exec` execs the agent: this is its pid
    [[ $side == a ]] && PID_A=$pid || PID_B=$pid
  done
  local deadline=$((SECONDS + 20))
  for side in a b; do
    ns=$(ns_of "$side") pid=$(pid_of "$side")
    until ip netns exec "$ns" curl -sf --max-time 2 "http://127.0.0.1:$METRICS_PORT/readyz" >/dev/null 2>&1; do
      kill -0 "$pid" 2>/dev/null || { tail -20 "$WORK/$log-$side.log" >&2; die "agent $side died at start"; }
      ((SECONDS < deadline)) || die "agent $side not ready within 20 s"
      sleep 0.1
    done
  done
}
stop_agents() {
  kill -TERM "$PID_A" "$PID_B" 2>/dev/null || true
  local deadline=$((SECONDS + 20))
  while kill -0 "$PID_A" 2>/dev/null || kill -0 "$PID_B" 2>/dev/null; do
    ((SECONDS < deadline)) || { kill -9 "$PID_A" "$PID_B" 2>/dev/null || true; break; }
    sleep 0.1
  done
  wait "$PID_A" "$PID_B" 2>/dev/null || true
  PID_A="" PID_B=""
}

# apply_both FILE_A FILE_B [flags...]: starts both applies together, waits for
# both; fails if either failed.
apply_both() {
  local fa=$1 fb=$2; shift 2
  ctl a apply -f "$fa" "$@" >"$WORK/apply-a.out" 2>&1 &
  local pa=$!
  ctl b apply -f "$fb" "$@" >"$WORK/apply-b.out" 2>&1 &
  local pb=$!
  wait "$pa" || { cat "$WORK/apply-a.out" >&2; die "apply on A failed"; }
  wait "$pb" || { cat "$WORK/apply-b.out" >&2; die "apply on B failed"; }
}

# wait_up KIND T0: polls both agents every POLL_S until each holds all T
# tunnels and N sessions READY (KIND=dynamic: and T control connections up).
# Sets DONE_A, DONE_B (epoch times of the poll that saw each side done).
wait_up() {
  local kind=$1 t0=$2 side p ps tr sr up
  DONE_A="" DONE_B=""
  local deadline
  deadline=$(awk -v a="$t0" -v w="$WAIT_S" 'BEGIN {printf "%d", a + w}')
  while [[ -z $DONE_A || -z $DONE_B ]]; do
    for side in a b; do
      [[ $side == a && -n $DONE_A ]] && continue
      [[ $side == b && -n $DONE_B ]] && continue
      kill -0 "$(pid_of "$side")" 2>/dev/null || die "agent $side died (log: $WORK)"
      ps=$(now)
      p=$(progress "$side" || echo "0 0 0 0 0 0")
      echo "$(elapsed "$t0" "$ps") $(elapsed "$t0" "$(now)") $side $p" >>"$WORK/poll-$kind.txt"  # scrape from, to (s), side, progress
      read -r tr sr up _ _ _ <<<"$p"
      if ((tr == T && sr == N)) && [[ $kind == static || $up == "$T" ]]; then
        [[ $side == a ]] && DONE_A=$(now) || DONE_B=$(now)
      fi
      LAST_PROGRESS[$side]="$tr/$T tunnels ready, $up up, $sr/$N sessions ready"
    done
    if (($(date +%s) > deadline)); then
      die "$kind: not up within ${WAIT_S} s: A: ${LAST_PROGRESS[a]}; B: ${LAST_PROGRESS[b]}"
    fi
    [[ -n $DONE_A && -n $DONE_B ]] || sleep "$POLL_S"
  done
}
declare -A LAST_PROGRESS

# perf_start PHASE / perf_stop: with PERF=1, profile both agents meanwhile.
perf_start() {
  [[ ${PERF:-0} == 1 ]] || return 0
  local side
  for side in a b; do
    perf record -F "${PERF_HZ:-199}" --call-graph dwarf,16384 -p "$(pid_of "$side")" \
      -o "$WORK/perf-$1-$side.data" >"$WORK/perf-$1-$side.err" 2>&1 &
    PERF_PIDS+=($!)
  done
  sleep 1  # attached
}
perf_stop() {
  [[ ${PERF:-0} == 1 ]] || return 0
  kill -INT "${PERF_PIDS[@]}" 2>/dev/null || true
  wait "${PERF_PIDS[@]}" 2>/dev/null || true
  PERF_PIDS=()
}
perf_reports() {
  [[ ${PERF:-0} == 1 ]] || return 0
  local f
  for f in "$WORK"/perf-*.data; do
    perf report -i "$f" --no-children --sort sym --stdio -g none --percent-limit 1 2>/dev/null |
      grep -v '^#' | grep -v '^$' | head -25 >"${f%.data}.txt" || true
    perf report -i "$f" --children --sort sym --stdio -g none --percent-limit 3 2>/dev/null |
      grep -v '^#' | grep -v '^$' | head -40 >"${f%.data}-children.txt" || true
  done
  KEEP=1
}

# steady PERF_PHASE: quiet for SETTLE_S, then STEADY_S unobserved (but
# profiled with PERF=1 if PERF_PHASE is set); sets per side STEADY_PCT,
# STEADY_HELLOS, STEADY_WAKEUPS, STEADY_RSS, STEADY_UP.
declare -A STEADY_PCT STEADY_HELLOS STEADY_WAKEUPS STEADY_RSS
steady() {
  local side c1 w1 h1 p1 ps1 up t0 t1
  [[ -n ${1:-} ]] && perf_start "$1"
  nap "$SETTLE_S"
  declare -A C0 W0 H0 P0 PS0
  for side in a b; do read -r _ _ _ "H0[$side]" "P0[$side]" "PS0[$side]" <<<"$(progress "$side")"; done
  t0=$(now)
  for side in a b; do C0[$side]=$(cpu_s "$(pid_of "$side")"); W0[$side]=$(ctxt_switches "$(pid_of "$side")"); done
  nap "$STEADY_S"
  t1=$(now)
  [[ -n ${1:-} ]] && perf_stop
  for side in a b; do
    c1=$(cpu_s "$(pid_of "$side")"); w1=$(ctxt_switches "$(pid_of "$side")")
    STEADY_PCT[$side]=$(awk -v a="${C0[$side]}" -v b="$c1" -v d="$(elapsed "$t0" "$t1")" 'BEGIN {printf "%.2f", (b - a) * 100 / d}')
    STEADY_WAKEUPS[$side]=$(awk -v a="${W0[$side]}" -v b="$w1" -v d="$(elapsed "$t0" "$t1")" 'BEGIN {printf "%.1f", (b - a) / d}')
  done
  for side in a b; do
    read -r _ _ up h1 p1 ps1 <<<"$(progress "$side")"
    STEADY_HELLOS[$side]=$((h1 - H0[$side]))
    STEADY_PASSES[$side]=$((p1 - P0[$side]))
    STEADY_PASS_MS[$side]=$(awk -v a="${PS0[$side]}" -v b="$ps1" -v n="${STEADY_PASSES[$side]}" 'BEGIN {if (n > 0) printf "%.1f", (b - a) * 1000 / n; else print "-"}')
    STEADY_UP[$side]=$up
    STEADY_RSS[$side]=$(mib "$(kib_field "$(pid_of "$side")" VmRSS)")
  done
}
declare -A STEADY_UP STEADY_PASSES STEADY_PASS_MS

# Last timestamp (seconds of the day, UTC) of log lines matching $2 in $1.
log_time() {
  grep -E -- "$2" "$1" | sed -n "${3:-\$}p" | awk '{split(substr($1, 12, 12), t, ":"); printf "%.2f", t[1] * 3600 + t[2] * 60 + t[3]}'
}
sod() { awk -v a="$1" 'BEGIN {printf "%.2f", a % 86400}'; }  # epoch -> seconds of the day (UTC)
rel() { [[ -n $2 ]] && awk -v a="$1" -v b="$2" 'BEGIN {d = b - a; if (d < -43200) d += 86400; printf "%.2f", d}' || echo "-"; }

# ---------------------------------------------------------------- configs
python3 - "$WORK" "$T" "$S" "$ADDR_A" "$ADDR_B" <<'PY'
import json, sys
work, T, S, a, b = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
for side, local, remote, role, host in (("a", a, b, "ROLE_INITIATOR", "site-a"), ("b", b, a, "ROLE_RESPONDER", "site-b")):
    dyn = {"tunnels": [], "sessions": []}
    sta = {"tunnels": [], "sessions": []}
    for i in range(1, T + 1):
        port = 10000 + i
        common = {"local": local, "remote": remote, "encap": "ENCAPSULATION_UDP",
                  "udpSourcePort": port, "udpDestinationPort": port}
        dyn["tunnels"].append({"name": f"t{i}", "spec": dict(common, control={
            "mode": "MODE_DYNAMIC", "role": role, "hostName": host, "helloInterval": "10s"})})
        sta["tunnels"].append({"name": f"t{i}", "spec": dict(common, tunnelId=i, peerTunnelId=i)})
        for j in range(1, S + 1):
            dyn["sessions"].append({"name": f"s{i}-{j}", "spec": {"tunnel": f"t{i}", "remoteEndId": f"pw-{i}-{j}"}})
            sta["sessions"].append({"name": f"s{i}-{j}", "spec": {"tunnel": f"t{i}", "sessionId": j, "peerSessionId": j}})
    for kind, cfg in (("dynamic", dyn), ("static", sta)):
        with open(f"{work}/{kind}-{side}.json", "w") as f:
            json.dump(cfg, f, indent=0)
# What the teardown prunes to (an empty config is refused with --prune): one
# STATIC tunnel without sessions, no socket on the memory datapath.
for side, local, remote in (("a", a, b), ("b", b, a)):
    with open(f"{work}/teardown-{side}.json", "w") as f:
        json.dump({"tunnels": [{"name": "keep", "spec": {"local": local, "remote": remote, "tunnelId": 65000,
                   "peerTunnelId": 65000, "udpSourcePort": 9999, "udpDestinationPort": 9999}}]}, f)
PY

# ---------------------------------------------------------------- DYNAMIC
RUN_START=$(date -u +%Y-%m-%dT%H:%M:%SZ)
echo "control-scale: $T tunnels x $S sessions, DYNAMIC then STATIC; work dir $WORK" >&2
start_agents dynamic dynamic
declare -A IDLE_RSS DYN_CPU DYN_HWM DYN_RSS DYN_DONE
for side in a b; do IDLE_RSS[$side]=$(mib "$(kib_field "$(pid_of "$side")" VmRSS)"); done
ca0=$(cpu_s "$PID_A") cb0=$(cpu_s "$PID_B")
perf_start dynamic-setup
echo "control-scale: applying $T DYNAMIC tunnels x $S sessions to both agents" >&2
T0=$(now)
apply_both "$WORK/dynamic-a.json" "$WORK/dynamic-b.json"
APPLY_S=$(elapsed "$T0" "$(now)")
wait_up dynamic "$T0"
DYN_DONE[a]=$(elapsed "$T0" "$DONE_A") DYN_DONE[b]=$(elapsed "$T0" "$DONE_B")
perf_stop
DYN_CPU[a]=$(awk -v a="$ca0" -v b="$(cpu_s "$PID_A")" 'BEGIN {printf "%.2f", b - a}')
DYN_CPU[b]=$(awk -v a="$cb0" -v b="$(cpu_s "$PID_B")" 'BEGIN {printf "%.2f", b - a}')
for side in a b; do
  DYN_HWM[$side]=$(mib "$(kib_field "$(pid_of "$side")" VmHWM)")
  DYN_RSS[$side]=$(mib "$(kib_field "$(pid_of "$side")" VmRSS)")
done
DYN_ALL=$(awk -v a="${DYN_DONE[a]}" -v b="${DYN_DONE[b]}" 'BEGIN {print (a > b ? a : b)}')
echo "control-scale: all up on both after $DYN_ALL s (A ${DYN_DONE[a]}, B ${DYN_DONE[b]}); steady state for ${STEADY_S} s" >&2

steady dynamic-steady
declare -A DYN_STEADY_PCT DYN_STEADY_HELLOS DYN_STEADY_WAKEUPS DYN_STEADY_RSS DYN_STEADY_PASSES DYN_STEADY_PASS_MS
for side in a b; do
  DYN_STEADY_PCT[$side]=${STEADY_PCT[$side]} DYN_STEADY_HELLOS[$side]=${STEADY_HELLOS[$side]}
  DYN_STEADY_PASSES[$side]=${STEADY_PASSES[$side]} DYN_STEADY_PASS_MS[$side]=${STEADY_PASS_MS[$side]}
  DYN_STEADY_WAKEUPS[$side]=${STEADY_WAKEUPS[$side]} DYN_STEADY_RSS[$side]=${STEADY_RSS[$side]}
  [[ ${STEADY_UP[$side]} == "$T" ]] || die "agent $side: ${STEADY_UP[$side]}/$T control connections up after the steady window"
done

# The API's view, outside any timing: states, and the ids agree across agents.
for side in a b; do
  ctl "$side" get tunnels -o json >"$WORK/tunnels-$side.json"
  ctl "$side" get sessions -o json >"$WORK/sessions-$side.json"
done
CHECK=$(python3 - "$WORK" "$T" "$N" <<'PY'
import json, sys
work, T, N = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
def load(kind, side):
    with open(f"{work}/{kind}-{side}.json") as f:
        doc = json.load(f)
    return {r["name"]: r for r in doc.get(kind, [])}
errors = []
tun = {s: load("tunnels", s) for s in "ab"}
ses = {s: load("sessions", s) for s in "ab"}
for s in "ab":
    if len(tun[s]) != T: errors.append(f"{s}: {len(tun[s])} tunnels")
    if len(ses[s]) != N: errors.append(f"{s}: {len(ses[s])} sessions")
    for name, r in tun[s].items():
        st = r.get("status", {})
        if st.get("phase") != "PHASE_READY" or st.get("tunnelControl", {}).get("state") != "CONTROL_STATE_ESTABLISHED":
            errors.append(f"{s}: tunnel {name}: {st.get('phase')} {st.get('tunnelControl', {}).get('state')}")
    for name, r in ses[s].items():
        st = r.get("status", {})
        if st.get("phase") != "PHASE_READY" or st.get("sessionControl", {}).get("state") != "CONTROL_STATE_ESTABLISHED":
            errors.append(f"{s}: session {name}: {st.get('phase')} {st.get('sessionControl', {}).get('state')}")
for name in tun["a"]:
    ca = tun["a"][name].get("status", {}).get("tunnelControl", {})
    cb = tun["b"].get(name, {}).get("status", {}).get("tunnelControl", {})
    if ca.get("peerTunnelId") != cb.get("tunnelId") or cb.get("peerTunnelId") != ca.get("tunnelId"):
        errors.append(f"tunnel {name}: ids do not pair: A {ca.get('tunnelId')}/{ca.get('peerTunnelId')} B {cb.get('tunnelId')}/{cb.get('peerTunnelId')}")
for name in ses["a"]:
    ca = ses["a"][name].get("status", {}).get("sessionControl", {})
    cb = ses["b"].get(name, {}).get("status", {}).get("sessionControl", {})
    if ca.get("peerSessionId") != cb.get("sessionId") or cb.get("peerSessionId") != ca.get("sessionId"):
        errors.append(f"session {name}: ids do not pair")
retrans = sum(int(r.get("status", {}).get("tunnelControl", {}).get("retransmissions", 0) or 0) for s in "ab" for r in tun[s].values())
print(f"ok retransmissions={retrans}" if not errors else f"FAILED {len(errors)}: " + "; ".join(errors[:5]))
PY
)
[[ $CHECK == ok* ]] || die "API check: $CHECK"
RETRANS=${CHECK#ok retransmissions=}

# Where the time went, from the agents' log timestamps (seconds after T0).
declare -A LOG_FIRST_OPEN LOG_LAST_OPEN LOG_LAST_TUN LOG_LAST_SES DYN_LOG_READY STA_LOG_READY
for side in a b; do
  log="$WORK/dynamic-$side.log"
  DYN_LOG_READY[$side]=$(rel "$(sod "$T0")" "$(log_time "$log" 'reconcile: create (tunnel|session) ')")
  LOG_FIRST_OPEN[$side]=$(rel "$(sod "$T0")" "$(log_time "$log" 'control connection opened' 1)")
  LOG_LAST_OPEN[$side]=$(rel "$(sod "$T0")" "$(log_time "$log" 'control connection opened')")
  LOG_LAST_TUN[$side]=$(rel "$(sod "$T0")" "$(log_time "$log" 'control: tunnel/.*ESTABLISHED')")
  LOG_LAST_SES[$side]=$(rel "$(sod "$T0")" "$(log_time "$log" 'control: session/.*ESTABLISHED')")
  scrape "$side" >"$WORK/metrics-dynamic-$side.txt" || true  # the control counters, for reading later
done

# Both agents restarted at once with their state and --resync-interval=1h
# (connections resumed if the agent hands them over, else set up again), then
# the steady state of the control protocol alone, without the reconciler's
# periodic resync of all resources.
echo "control-scale: both agents restarted with --resync-interval=1h" >&2
stop_agents
T0=$(now)
start_agents dynamic restart --resync-interval=1h
wait_up dynamic "$T0"
declare -A RST_DONE RST_CPU
RST_DONE[a]=$(elapsed "$T0" "$DONE_A") RST_DONE[b]=$(elapsed "$T0" "$DONE_B")
for side in a b; do RST_CPU[$side]=$(cpu_s "$(pid_of "$side")"); done  # all of it since the start
declare -A RST_RESUMED RST_NEW
for side in a b; do
  RST_RESUMED[$side]=$(grep -c 'control: tunnel/.*ESTABLISHED: resumed' "$WORK/restart-$side.log" || true)
  RST_NEW[$side]=$(grep -c 'control: tunnel/.*ESTABLISHED: established' "$WORK/restart-$side.log" || true)
done
echo "control-scale: all up again after $(max2 "${RST_DONE[a]}" "${RST_DONE[b]}") s; steady state for ${STEADY_S} s" >&2
steady
declare -A RST_STEADY_PCT RST_STEADY_HELLOS RST_STEADY_WAKEUPS RST_STEADY_PASSES RST_STEADY_RSS RST_HWM
for side in a b; do
  RST_STEADY_PCT[$side]=${STEADY_PCT[$side]} RST_STEADY_HELLOS[$side]=${STEADY_HELLOS[$side]}
  RST_STEADY_WAKEUPS[$side]=${STEADY_WAKEUPS[$side]} RST_STEADY_PASSES[$side]=${STEADY_PASSES[$side]}
  RST_STEADY_RSS[$side]=${STEADY_RSS[$side]} RST_HWM[$side]=$(mib "$(kib_field "$(pid_of "$side")" VmHWM)")
  [[ ${STEADY_UP[$side]} == "$T" ]] || die "agent $side: ${STEADY_UP[$side]}/$T control connections up after the restart's steady window"
done

# Teardown: both pruned at once (to one STATIC tunnel: an empty config is
# refused with --prune); until each holds that one resource only.
echo "control-scale: teardown (prune on both)" >&2
T1=$(now)
apply_both "$WORK/teardown-a.json" "$WORK/teardown-b.json" --prune
TEARDOWN_S="not done within ${WAIT_S} s"
deadline=$(($(date +%s) + WAIT_S))
while (($(date +%s) <= deadline)); do
  if [[ $(resources a) == 1 && $(resources b) == 1 ]]; then TEARDOWN_S=$(elapsed "$T1" "$(now)"); break; fi
  sleep "$POLL_S"
done
stop_agents

# ---------------------------------------------------------------- STATIC reference
echo "control-scale: reference: the same as STATIC tunnels on fresh agents" >&2
start_agents static static
declare -A STA_CPU STA_HWM STA_RSS STA_DONE
ca0=$(cpu_s "$PID_A") cb0=$(cpu_s "$PID_B")
T0=$(now)
apply_both "$WORK/static-a.json" "$WORK/static-b.json"
STA_APPLY_S=$(elapsed "$T0" "$(now)")
wait_up static "$T0"
STA_DONE[a]=$(elapsed "$T0" "$DONE_A") STA_DONE[b]=$(elapsed "$T0" "$DONE_B")
STA_CPU[a]=$(awk -v a="$ca0" -v b="$(cpu_s "$PID_A")" 'BEGIN {printf "%.2f", b - a}')
STA_CPU[b]=$(awk -v a="$cb0" -v b="$(cpu_s "$PID_B")" 'BEGIN {printf "%.2f", b - a}')
for side in a b; do
  STA_HWM[$side]=$(mib "$(kib_field "$(pid_of "$side")" VmHWM)")
  STA_RSS[$side]=$(mib "$(kib_field "$(pid_of "$side")" VmRSS)")
done
for side in a b; do STA_LOG_READY[$side]=$(rel "$(sod "$T0")" "$(log_time "$WORK/static-$side.log" 'reconcile: create (tunnel|session) ')"); done
STA_ALL=$(awk -v a="${STA_DONE[a]}" -v b="${STA_DONE[b]}" 'BEGIN {print (a > b ? a : b)}')
echo "control-scale: static: all READY on both after $STA_ALL s; steady state for ${STEADY_S} s" >&2
steady
stop_agents
RUN_END=$(date -u +%H:%M:%SZ)
perf_reports

# ---------------------------------------------------------------- summary
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {if (b > 0) printf "%.2f", a / b; else print "-"}'; }
sum2() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a + b}'; }
pass() { awk -v a="$1" -v b="$2" 'BEGIN {print (a < b ? "met" : "NOT met")}'; }
DYN_LOG_ALL=$(max2 "${DYN_LOG_READY[a]}" "${DYN_LOG_READY[b]}") STA_LOG_ALL=$(max2 "${STA_LOG_READY[a]}" "${STA_LOG_READY[b]}")
tree=$(git -C "$HERE/.." rev-parse --short HEAD 2>/dev/null || echo "?")
dirty=$(git -C "$HERE/.." status --porcelain --untracked-files=no 2>/dev/null | wc -l)

cat <<EOF
## DYNAMIC tunnels: $T tunnels x $S sessions ($N sessions), two agents

Command: \`bench/control-scale.sh --tunnels $T --sessions $S$( ((QUICK)) && echo " --quick")\` (STEADY_S=$STEADY_S POLL_S=$POLL_S)
Tree $tree$( ((dirty)) && echo " with $dirty uncommitted changes"); $RUN_START to $RUN_END; kernel $(uname -r); $(nproc) cores; --datapath=memory, hello_interval 10s

| figure | A (initiator) | B (responder) |
|---|---|---|
| DYNAMIC: apply until all tunnels ESTABLISHED + READY and all sessions READY, s | ${DYN_DONE[a]} | ${DYN_DONE[b]} |
| … the same from the log: last tunnel or session created in the datapath (READY), s | ${DYN_LOG_READY[a]} | ${DYN_LOG_READY[b]} |
| … agent CPU during it, s | ${DYN_CPU[a]} | ${DYN_CPU[b]} |
| … RSS idle / peak (VmHWM) / at the end, MiB | ${IDLE_RSS[a]} / ${DYN_HWM[a]} / ${DYN_RSS[a]} | ${IDLE_RSS[b]} / ${DYN_HWM[b]} / ${DYN_RSS[b]} |
| … from the log: first / last connection opened, s | ${LOG_FIRST_OPEN[a]} / ${LOG_LAST_OPEN[a]} | ${LOG_FIRST_OPEN[b]} / ${LOG_LAST_OPEN[b]} |
| … from the log: last tunnel / last session ESTABLISHED, s | ${LOG_LAST_TUN[a]} / ${LOG_LAST_SES[a]} | ${LOG_LAST_TUN[b]} / ${LOG_LAST_SES[b]} |
| steady state over ${STEADY_S} s: CPU, % of one core | ${DYN_STEADY_PCT[a]} | ${DYN_STEADY_PCT[b]} |
| … HELLOs sent in it / context switches per s | ${DYN_STEADY_HELLOS[a]} / ${DYN_STEADY_WAKEUPS[a]} | ${DYN_STEADY_HELLOS[b]} / ${DYN_STEADY_WAKEUPS[b]} |
| … reconcile passes in it / mean ms per pass | ${DYN_STEADY_PASSES[a]} / ${DYN_STEADY_PASS_MS[a]} | ${DYN_STEADY_PASSES[b]} / ${DYN_STEADY_PASS_MS[b]} |
| … RSS after it, MiB | ${DYN_STEADY_RSS[a]} | ${DYN_STEADY_RSS[b]} |
| both restarted at once (state kept, --resync-interval=1h): start until all up again, s | ${RST_DONE[a]} | ${RST_DONE[b]} |
| … tunnels resumed from the previous run / set up anew | ${RST_RESUMED[a]} / ${RST_NEW[a]} | ${RST_RESUMED[b]} / ${RST_NEW[b]} |
| … agent CPU from its start until then, s / peak RSS, MiB | ${RST_CPU[a]} / ${RST_HWM[a]} | ${RST_CPU[b]} / ${RST_HWM[b]} |
| … steady state over ${STEADY_S} s without resync: CPU, % of one core | ${RST_STEADY_PCT[a]} | ${RST_STEADY_PCT[b]} |
| … HELLOs sent in it / context switches per s / reconcile passes | ${RST_STEADY_HELLOS[a]} / ${RST_STEADY_WAKEUPS[a]} / ${RST_STEADY_PASSES[a]} | ${RST_STEADY_HELLOS[b]} / ${RST_STEADY_WAKEUPS[b]} / ${RST_STEADY_PASSES[b]} |
| … RSS after it, MiB | ${RST_STEADY_RSS[a]} | ${RST_STEADY_RSS[b]} |
| STATIC reference: apply until all READY, s | ${STA_DONE[a]} | ${STA_DONE[b]} |
| … the same from the log, s | ${STA_LOG_READY[a]} | ${STA_LOG_READY[b]} |
| … agent CPU during it, s | ${STA_CPU[a]} | ${STA_CPU[b]} |
| … RSS peak / at the end, MiB | ${STA_HWM[a]} / ${STA_RSS[a]} | ${STA_HWM[b]} / ${STA_RSS[b]} |
| … steady state CPU, % of one core / context switches per s | ${STEADY_PCT[a]} / ${STEADY_WAKEUPS[a]} | ${STEADY_PCT[b]} / ${STEADY_WAKEUPS[b]} |
| … reconcile passes in it / mean ms per pass | ${STEADY_PASSES[a]} / ${STEADY_PASS_MS[a]} | ${STEADY_PASSES[b]} / ${STEADY_PASS_MS[b]} |

- Both \`l2tpctl apply\` calls returned after $APPLY_S s (DYNAMIC) and $STA_APPLY_S s (STATIC).
- Control retransmissions (all tunnels, both agents, at the end): $RETRANS. API check: every tunnel and session READY and ESTABLISHED, ids paired across agents.
- Teardown (both pruned at once, StopCCN both ways) until neither agent holds a DYNAMIC resource: $TEARDOWN_S s.
- DYNAMIC / STATIC: time to all up $(ratio "$DYN_ALL" "$STA_ALL")x as polled ($DYN_ALL / $STA_ALL s), $(ratio "$DYN_LOG_ALL" "$STA_LOG_ALL")x from the logs ($DYN_LOG_ALL / $STA_LOG_ALL s); CPU of both agents $(ratio "$(sum2 "${DYN_CPU[a]}" "${DYN_CPU[b]}")" "$(sum2 "${STA_CPU[a]}" "${STA_CPU[b]}")")x ($(sum2 "${DYN_CPU[a]}" "${DYN_CPU[b]}") / $(sum2 "${STA_CPU[a]}" "${STA_CPU[b]}") s); peak RSS A $(ratio "${DYN_HWM[a]}" "${STA_HWM[a]}")x, B $(ratio "${DYN_HWM[b]}" "${STA_HWM[b]}")x.

| target | result |
|---|---|
| all $N sessions established in < 30 s | $(pass "$DYN_ALL" 30): $DYN_ALL s |
| steady state < 1% of a core | $(pass "$(max2 "${DYN_STEADY_PCT[a]}" "${DYN_STEADY_PCT[b]}")" 1) with the default --resync-interval=10s: A ${DYN_STEADY_PCT[a]}%, B ${DYN_STEADY_PCT[b]}% (STATIC reference: ${STEADY_PCT[a]}%, ${STEADY_PCT[b]}%); $(pass "$(max2 "${RST_STEADY_PCT[a]}" "${RST_STEADY_PCT[b]}")" 1) for the control protocol alone (--resync-interval=1h): A ${RST_STEADY_PCT[a]}%, B ${RST_STEADY_PCT[b]}% |
| RSS < 128 MiB per agent | $(pass "$(max2 "$(max2 "${DYN_HWM[a]}" "${DYN_HWM[b]}")" "$(max2 "${RST_HWM[a]}" "${RST_HWM[b]}")")" 128): peak A ${DYN_HWM[a]}, B ${DYN_HWM[b]} MiB (after the restart: ${RST_HWM[a]}, ${RST_HWM[b]}) |
EOF
