#!/usr/bin/env bash
# Scale of the kernel datapath, measured inside the test VM (Debian's kernel
# under QEMU TCG, one vCPU: absolute times are those of an emulated CPU, the
# ratios are what to read):
#   1. `ip -batch` creates T tunnels x S sessions (the reference);
#   2. they are deleted; the agent (--datapath=kernel) converges the same
#      objects from empty after one `l2tpctl apply` (time until all READY);
#   3. the agent restarts with its state and adopts everything (time until
#      all READY again, kernel writes made: should be 0);
#   4. the agent's RSS after each.
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
  now() { cut -d' ' -f1 /proc/uptime; }
  since() { awk -v a="$1" -v b="$(now)" 'BEGIN {printf "%.1f", b - a}'; }
  rss() { awk '/VmRSS/ {print $2 " " $3}' "/proc/$1/status"; }
  report() { echo "@@BENCH $1=$2@@"; }
  sessions_ready() { "$CTL" --socket "$SOCK" --timeout 120s get sessions 2>/dev/null | grep -c READY || true; }
  wait_ready() {
    while [[ $(sessions_ready) -lt $1 ]]; do
      kill -0 "$AGENT_PID" 2>/dev/null || { echo "agent died"; tail -20 "$DIR/agent.log"; exit 1; }
      sleep 1
    done
  }
  start_agent() {
    rm -f "$SOCK"
    "$AGENT" --socket="$SOCK" --state-dir="$DIR/state" --datapath=kernel --log-level=debug >"$DIR/$1" 2>&1 &
    AGENT_PID=$!
    until [[ -S $SOCK ]]; do kill -0 "$AGENT_PID" || exit 1; sleep 0.1; done
  }

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
  {
    echo "tunnels:"
    for ((t = 1; t <= T; t++)); do
      echo "  - {name: t$t, spec: {tunnelId: $t, peerTunnelId: $t, local: 10.2.0.1, remote: 10.2.0.2, udpSourcePort: $((20000 + t)), udpDestinationPort: $((20000 + t))}}"
    done
    echo "sessions:"
    for ((t = 1; t <= T; t++)); do
      for ((s = 1; s <= S; s++)); do
        echo "  - {name: s$t-$s, spec: {tunnel: t$t, sessionId: $s, peerSessionId: $s, interfaceName: b$t-$s}}"
      done
    done
  } >"$DIR/config.yaml"
  N=$((T * S))

  t0=$(now)
  ip -batch "$DIR/create.batch"
  report ip_batch_create_s "$(since "$t0")"
  [[ $(ip l2tp show session | grep -c '^Session') == "$N" ]] || { echo "ip -batch made the wrong number of sessions"; exit 1; }
  for ((t = 1; t <= T; t++)); do echo "l2tp del tunnel tunnel_id $t"; done >"$DIR/delete.batch"
  t0=$(now)
  ip -batch "$DIR/delete.batch"
  while [[ -n $(ip l2tp show tunnel) ]]; do sleep 0.2; done
  report ip_batch_delete_s "$(since "$t0")"

  start_agent agent.log
  report agent_idle_rss "$(rss "$AGENT_PID")"
  t0=$(now)
  "$CTL" --socket "$SOCK" --timeout 600s apply -f "$DIR/config.yaml" >/dev/null
  report apply_rpc_s "$(since "$t0")"
  wait_ready "$N"
  report agent_converge_s "$(since "$t0")"
  report agent_writes "$(grep -c 'kernel: write' "$DIR/agent.log")"
  # From the first kernel write to the last: the datapath's share of the time.
  report agent_write_span_s "$(grep 'kernel: write' "$DIR/agent.log" | sed -n '1p;$p' |
    awk '{split(substr($1, 12, 12), t, ":"); s[NR] = t[1] * 3600 + t[2] * 60 + t[3]} END {printf "%.1f", s[2] - s[1]}')"
  report agent_rss "$(rss "$AGENT_PID")"
  [[ $(ip l2tp show session | grep -c '^Session') == "$N" ]] || { echo "the agent made the wrong number of sessions"; exit 1; }

  kill -TERM "$AGENT_PID"; wait "$AGENT_PID" || true
  t0=$(now)
  start_agent agent-restart.log
  wait_ready "$N"
  report restart_adopt_s "$(since "$t0")"
  report restart_writes "$(grep -c 'kernel: write' "$DIR/agent-restart.log" || true)"
  report restart_rss "$(rss "$AGENT_PID")"
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
