#!/usr/bin/env bash
# Cost of a Prometheus scrape of the agent at scale.
#
# One run, one agent (--datapath=memory: the datapath is not what is measured;
# the scrape reads the statuses the reconciler cached, whatever the datapath):
#   1. empty agent: the reference scrape (fixed cost of the exposer);
#   2. T tunnels x S sessions applied (default 1,000 x 10 = 10,000 sessions),
#      per-tunnel metrics only (the default);
#   3. the same with --session-metrics --session-metrics-limit=T*S, i.e. every
#      session exported (11 series per session);
#   4. the List RPC of all sessions (`l2tpctl get sessions -o json`) at the
#      same size, as a second reference: what reading the same data over the
#      API costs.
# For each: series and bytes per scrape, wall time per scrape (median and
# worst of N, from curl's time_total), and the agent's CPU per scrape
# (utime+stime from /proc/PID/stat over the N scrapes, which run back to
# back with nothing else going on). Also the agent's RSS.
#
#   bench/metrics-scrape.sh [BUILD_DIR]          (default: build)
#   TUNNELS=100 SESSIONS=10 SCRAPES=20 bench/metrics-scrape.sh
set -euo pipefail

BUILD_DIR=$(readlink -f "${1:-build}")
AGENT="$BUILD_DIR/agent/l2tp-agent" CTL="$BUILD_DIR/client/l2tpctl"
T=${TUNNELS:-1000} S=${SESSIONS:-10} N=${SCRAPES:-50}
SESSIONS_TOTAL=$((T * S))
WORK=$(mktemp -d /tmp/l2tp-scrape-bench-XXXXXX)
SOCK="$WORK/agent.sock" PORT=${PORT:-19810}
AGENT_PID=""
cleanup() {
  [[ -n $AGENT_PID ]] && kill -9 "$AGENT_PID" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
for tool in curl awk; do command -v "$tool" >/dev/null || { echo "needs $tool" >&2; exit 1; }; done

ctl() { "$CTL" --socket "$SOCK" --timeout 300s "$@"; }
ticks_per_s=$(getconf CLK_TCK)
cpu_ticks() { awk '{print $14 + $15}' "/proc/$AGENT_PID/stat"; }
rss_mib() { awk '/VmRSS/ {printf "%.1f", $2 / 1024}' "/proc/$AGENT_PID/status"; }

start_agent() {  # extra flags...
  rm -f "$SOCK"
  "$AGENT" --socket="$SOCK" --state-dir="$WORK/state" --datapath=memory --resync-interval=1h \
    --metrics-addr="127.0.0.1:$PORT" --log-level=warning "$@" >>"$WORK/agent.log" 2>&1 &
  AGENT_PID=$!
  for _ in $(seq 1 100); do
    curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1 && return 0
    kill -0 "$AGENT_PID" 2>/dev/null || { cat "$WORK/agent.log" >&2; exit 1; }
    sleep 0.1
  done
  echo "agent not ready within 10 s" >&2; exit 1
}
stop_agent() { kill -TERM "$AGENT_PID"; wait "$AGENT_PID" || true; AGENT_PID=""; }

# Waits until the agent reports every session READY (through its own gauge).
wait_converged() {
  for _ in $(seq 1 600); do
    curl -sf "http://127.0.0.1:$PORT/metrics" >"$WORK/poll" || true
    grep -qx "l2tp_agent_resources{kind=\"session\",phase=\"ready\"} $SESSIONS_TOTAL" "$WORK/poll" && return 0
    sleep 0.5
  done
  echo "not converged within 300 s" >&2; exit 1
}

# measure LABEL CMD...: runs CMD N times back to back; prints one table row.
measure() {
  local label=$1; shift
  "$@" >"$WORK/out" # warm-up, and the size
  local bytes series
  bytes=$(wc -c <"$WORK/out")
  series=$(grep -vc '^#' "$WORK/out" || true)
  [[ $label == List* ]] && series="-"  # JSON, not series
  local c0 c1
  c0=$(cpu_ticks)
  : >"$WORK/times"
  for _ in $(seq 1 "$N"); do
    local s0 s1
    s0=$(date +%s%N)
    "$@" >/dev/null
    s1=$(date +%s%N)
    echo $(((s1 - s0) / 1000)) >>"$WORK/times"
  done
  c1=$(cpu_ticks)
  sort -n "$WORK/times" -o "$WORK/times"
  local median worst cpu_ms
  median=$(awk -v n="$N" 'NR == int((n + 1) / 2) {printf "%.1f", $1 / 1000}' "$WORK/times")
  worst=$(tail -1 "$WORK/times" | awk '{printf "%.1f", $1 / 1000}')
  cpu_ms=$(awk -v d="$((c1 - c0))" -v hz="$ticks_per_s" -v n="$N" 'BEGIN {printf "%.1f", d * 1000 / hz / n}')
  ROW_MEDIAN[$label]=$median ROW_CPU[$label]=$cpu_ms
  printf '| %s | %s | %s | %s | %s | %s | %s |\n' "$label" "$series" "$bytes" "$median" "$worst" "$cpu_ms" "$(rss_mib)"
}
declare -A ROW_MEDIAN ROW_CPU

scrape() { curl -sf "http://127.0.0.1:$PORT/metrics"; }
list_sessions() { ctl get sessions -o json; }

{
  echo "tunnels:"
  for ((t = 1; t <= T; t++)); do
    echo "  - {name: t$t, spec: {tunnelId: $t, peerTunnelId: $t, local: 10.3.0.1, remote: 10.3.0.2, udpSourcePort: $((20000 + t % 40000)), udpDestinationPort: 1701}}"
  done
  echo "sessions:"
  for ((t = 1; t <= T; t++)); do
    for ((s = 1; s <= S; s++)); do
      echo "  - {name: s$t-$s, spec: {tunnel: t$t, sessionId: $s, peerSessionId: $s, interfaceName: b$t-$s}}"
    done
  done
} >"$WORK/config.yaml"

echo "## Metrics scrape cost: $T tunnels x $S sessions"
echo
echo "Command: \`bench/metrics-scrape.sh $*\` (TUNNELS=$T SESSIONS=$S SCRAPES=$N)"
echo "Date: $(date -u +%Y-%m-%dT%H:%MZ); kernel $(uname -r); $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo), $(nproc) cores"
echo
echo "| case | series | bytes | median ms (client wall) | worst ms | agent CPU ms per call | agent RSS MiB |"
echo "|---|---|---|---|---|---|---|"

start_agent
measure "scrape, empty agent (reference)" scrape
ctl apply -f "$WORK/config.yaml" >/dev/null
wait_converged
measure "scrape, $SESSIONS_TOTAL sessions, per-tunnel metrics" scrape
measure "List RPC of $SESSIONS_TOTAL sessions (reference)" list_sessions
stop_agent

start_agent --session-metrics --session-metrics-limit="$SESSIONS_TOTAL"
wait_converged
measure "scrape, $SESSIONS_TOTAL sessions, per-session metrics" scrape
grep -q "^l2tp_agent_session_metrics_truncated 0" "$WORK/out" || { echo "per-session metrics were truncated" >&2; exit 1; }
stop_agent

per_session="scrape, $SESSIONS_TOTAL sessions, per-session metrics"
echo
awk -v a="${ROW_MEDIAN[$per_session]}" -v b="${ROW_MEDIAN["List RPC of $SESSIONS_TOTAL sessions (reference)"]}" \
  -v c="${ROW_CPU[$per_session]}" -v d="${ROW_CPU["List RPC of $SESSIONS_TOTAL sessions (reference)"]}" \
  'BEGIN {printf "Full per-session scrape vs the List RPC of the same sessions: %.2fx the wall time, %.2fx the agent CPU.\n", a / b, (d > 0 ? c / d : 0)}'
echo "Scrapes ran back to back with the agent otherwise idle (--resync-interval=1h); nothing queried the datapath during a scrape."
