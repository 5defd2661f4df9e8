#!/usr/bin/env bash
# Scale of the kernel datapath, measured inside the test VM (Debian's kernel
# under QEMU TCG, one vCPU: absolute times are those of an emulated CPU, the
# ratios are what to read):
#   1. `ip -batch` creates T tunnels x S sessions (the reference): per session
#      `l2tp add session` and `link set dev IF up`, i.e. the same kernel
#      objects the agent makes (tunnel, session, l2tpeth interface, up);
#   2. they are deleted; the agent (--datapath=kernel) converges the same
#      objects from empty after one `l2tpctl apply`: the time from starting
#      `l2tpctl apply` (which reads the config, JSON) until the agent has recorded
#      every session READY;
#   3. the agent restarts with its state and adopts everything (time from
#      starting the process until every session is READY again; kernel writes
#      made: must be 0);
#   4. the agent's RSS idle, converged (also after one `l2tpctl get sessions`
#      of all of them, the biggest reply) and after the restart.
#
# How "all READY" is detected without disturbing the measurement: the VM has
# one vCPU, so a poller competes with the agent and the kernel. Polling
# `l2tpctl get sessions` (10,000 rows, a process start, a table) every second
# took a large share of that CPU and made the agent look up to 2x slower than
# it is. Instead the bench waits on the agent's log (--log-level=debug): after
# every reconcile pass the agent logs "reconcile: pass took ... sessions R/N
# ready", right after recording those statuses. The time is that line's
# timestamp; a `grep` of the log's tail every 0.5 s finds it. Then, outside the
# timing, it checks that the API reports all N sessions READY
# (`l2tpctl get sessions`), that the kernel holds N sessions (`ip l2tp show
# session`) and that their N interfaces are up, for both workloads.
#
# Before anything is timed the bench waits until the kernel's random pool is
# initialised: under TCG that takes seconds after boot, and the first
# getrandom() of a gRPC program (l2tpctl, the agent) blocks until then, which
# `ip` never calls.
#
#   bench/kernel-scale.sh AGENT L2TPCTL          (T=1000 S=10 by default)
#   TUNNELS=100 SESSIONS=10 bench/kernel-scale.sh build/agent/l2tp-agent build/client/l2tpctl
#
# Needs root and what tests/vm/run.sh needs. Prints a summary table.
set -euo pipefail

if [[ ${1:-} == --in-vm ]]; then
  # ---- inside the VM ----
  shift
  AGENT=$1 CTL=$2 T=$3 S=$4
  DIR=/run/bench SOCK=/run/bench/agent.sock
  mkdir -p "$DIR"
  now() { echo "$EPOCHREALTIME"; }
  since() { awk -v a="$1" -v b="$(now)" 'BEGIN {printf "%.1f", b - a}'; }
  # Seconds from epoch time $1 to the timestamp of log line $2 (UTC, same day
  # or the next).
  to_line() {
    awk -v a="$1" -v line="$2" 'BEGIN {
      split(substr(line, 12, 12), t, ":"); s = t[1] * 3600 + t[2] * 60 + t[3]
      d = s - (a % 86400); if (d < -43200) d += 86400
      printf "%.1f", d }'
  }
  rss() { awk '/VmRSS/ {print $2 " " $3}' "/proc/$1/status"; }
  report() { echo "@@BENCH $1=$2@@"; }
  # Waits for the first "sessions N/N ready" pass line in log $1; prints it.
  wait_ready_line() {
    local line
    while true; do
      # The tail only: the log holds tens of thousands of lines by then, and
      # nothing logs fast enough after the pass to push its line out of 64 KB.
      line=$(tail -c 65536 "$DIR/$1" | grep -m1 "reconcile: pass took .* sessions $N/$N ready" || true)
      [[ -n $line ]] && { echo "$line"; return 0; }
      kill -0 "$AGENT_PID" 2>/dev/null || { echo "agent died" >&2; tail -20 "$DIR/$1" >&2; exit 1; }
      sleep 0.5
    done
  }
  check_kernel() {  # WHO: N sessions in the kernel, N of their interfaces up
    local sessions up
    sessions=$(ip l2tp show session | grep -c '^Session' || true)
    up=$(ip -o link show up | grep -c ': b[0-9]*-[0-9]*[:@]' || true)
    [[ $sessions == "$N" && $up == "$N" ]] || { echo "$1: $sessions sessions, $up interfaces up (want $N)"; exit 1; }
  }
  check_api() {
    local ready
    ready=$("$CTL" --socket "$SOCK" --timeout 300s get sessions | grep -c READY || true)
    [[ $ready == "$N" ]] || { echo "the agent reports $ready sessions READY (want $N)"; exit 1; }
  }
  start_agent() {
    rm -f "$SOCK"
    "$AGENT" --socket="$SOCK" --state-dir="$DIR/state" --datapath=kernel --log-level=debug >"$DIR/$1" 2>&1 &
    AGENT_PID=$!
    until [[ -S $SOCK ]]; do kill -0 "$AGENT_PID" || exit 1; sleep 0.1; done
  }

  dd if=/dev/random of=/dev/null bs=1 count=1 2>/dev/null
  ip link add u0 type veth peer name u1
  ip addr add 10.2.0.1/24 dev u0
  ip link set u0 up
  ip link set u1 up

  # Both workloads: tunnel t (1..T) UDP port 20000+t, sessions s (1..S) named b<t>-<s>.
  for ((t = 1; t <= T; t++)); do
    echo "l2tp add tunnel tunnel_id $t peer_tunnel_id $t encap udp local 10.2.0.1 remote 10.2.0.2 udp_sport $((20000 + t)) udp_dport $((20000 + t))"
    for ((s = 1; s <= S; s++)); do
      echo "l2tp add session name b$t-$s tunnel_id $t session_id $s peer_session_id $s"
      echo "link set dev b$t-$s up"
    done
  done >"$DIR/create.batch"
  # The agent's config as JSON (the proto3 JSON mapping; YAML is the same
  # with another syntax): l2tpctl's YAML reader takes about 6x the CPU of its
  # JSON reader, seconds for 11,000 resources on the emulated CPU, which
  # would be measured as the agent's time.
  {
    echo '{"tunnels": ['
    for ((t = 1; t <= T; t++)); do
      sep=,; ((t < T)) || sep=
      echo "  {\"name\": \"t$t\", \"spec\": {\"tunnelId\": $t, \"peerTunnelId\": $t, \"local\": \"10.2.0.1\", \"remote\": \"10.2.0.2\", \"udpSourcePort\": $((20000 + t)), \"udpDestinationPort\": $((20000 + t))}}$sep"
    done
    echo '], "sessions": ['
    for ((t = 1; t <= T; t++)); do
      for ((s = 1; s <= S; s++)); do
        sep=,; ((t < T || s < S)) || sep=
        echo "  {\"name\": \"s$t-$s\", \"spec\": {\"tunnel\": \"t$t\", \"sessionId\": $s, \"peerSessionId\": $s, \"interfaceName\": \"b$t-$s\"}}$sep"
      done
    done
    echo ']}'
  } >"$DIR/config.json"
  N=$((T * S))

  t0=$(now)
  ip -batch "$DIR/create.batch"
  report ip_batch_create_s "$(since "$t0")"
  check_kernel "ip -batch"
  for ((t = 1; t <= T; t++)); do echo "l2tp del tunnel tunnel_id $t"; done >"$DIR/delete.batch"
  t0=$(now)
  ip -batch "$DIR/delete.batch"
  while [[ -n $(ip l2tp show tunnel) ]]; do sleep 0.2; done
  report ip_batch_delete_s "$(since "$t0")"
  # The interfaces go on a workqueue after their tunnels: the agent starts on
  # a kernel that is done with them.
  while ip -o link show | grep -q ': b[0-9]*-[0-9]*[:@]'; do sleep 0.5; done

  start_agent agent.log
  report agent_idle_rss "$(rss "$AGENT_PID")"
  t0=$(now)
  "$CTL" --socket "$SOCK" --timeout 600s apply -f "$DIR/config.json" >/dev/null
  report apply_rpc_s "$(since "$t0")"
  line=$(wait_ready_line agent.log)
  report agent_converge_s "$(to_line "$t0" "$line")"
  report agent_rss "$(rss "$AGENT_PID")"
  report agent_writes "$(grep -c 'kernel: write' "$DIR/agent.log")"
  # From the first kernel write to the last: the datapath's share of the time.
  report agent_write_span_s "$(grep 'kernel: write' "$DIR/agent.log" | sed -n '1p;$p' |
    awk '{split(substr($1, 12, 12), t, ":"); s[NR] = t[1] * 3600 + t[2] * 60 + t[3]} END {printf "%.1f", s[2] - s[1]}')"
  check_kernel "the agent"
  check_api
  report agent_rss_after_list "$(rss "$AGENT_PID")"

  kill -TERM "$AGENT_PID"; wait "$AGENT_PID" || true
  t0=$(now)
  start_agent agent-restart.log
  line=$(wait_ready_line agent-restart.log)
  report restart_adopt_s "$(to_line "$t0" "$line")"
  report restart_writes "$(grep -c 'kernel: write' "$DIR/agent-restart.log" || true)"
  report restart_rss "$(rss "$AGENT_PID")"
  check_api
  kill -TERM "$AGENT_PID"; wait "$AGENT_PID" || true
  exit 0
fi

# ---- on the host ----
AGENT=${1:?usage: bench/kernel-scale.sh AGENT L2TPCTL} CTL=${2:?usage: bench/kernel-scale.sh AGENT L2TPCTL}
T=${TUNNELS:-1000} S=${SESSIONS:-10}
HERE=$(cd "$(dirname "$0")" && pwd)
AGENT=$(readlink -f "$AGENT") CTL=$(readlink -f "$CTL")
PAYLOAD=$(mktemp -d /tmp/l2tp-kernel-bench-XXXXXX)
CONSOLE=$PAYLOAD.console
trap 'rm -rf "$PAYLOAD" "$CONSOLE"' EXIT
install -m 0755 "$HERE/kernel-scale.sh" "$PAYLOAD/"
"$HERE/../tests/vm/run.sh" --timeout "${L2TP_VM_TIMEOUT:-3000}" --memory 3072 --console "$CONSOLE" \
  --bin "$AGENT" --bin "$CTL" "$PAYLOAD" kernel-scale.sh --in-vm "$AGENT" "$CTL" "$T" "$S" >/dev/null || {
  rc=$?; tr -d '\r' <"$CONSOLE" | tail -40; exit "$rc"; }
echo "kernel datapath scale: $T tunnels x $S sessions ($((T * S)) l2tpeth interfaces), QEMU TCG, 1 vCPU"
tr -d '\r' <"$CONSOLE" | sed -n 's/.*@@BENCH \([^=]*\)=\(.*\)@@.*/  \1: \2/p'
