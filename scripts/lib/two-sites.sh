# Two "sites": network namespaces joined by a veth (192.0.2.1 <-> 192.0.2.2),
# each with its own l2tp-agent. Shared by scripts/demo.sh and the tests that
# need real traffic. Source it; set AGENT, CTL and RUN (a scratch directory).
# Uses only addresses on the veth and TAPs it creates in its own namespaces.

NS_A=l2tp-site-a-$$
NS_B=l2tp-site-b-$$
SITE_PIDS=()

source "$(dirname "${BASH_SOURCE[0]}")/veth-pair.sh"

sites_up() { veth_pair "$NS_A" "$NS_B" 192.0.2; }

# start_site_agent a|b [extra agent flags...]: waits for the socket (10 s).
start_site_agent() {
  local site=$1; shift
  local ns=$NS_A; [[ $site == b ]] && ns=$NS_B
  ip netns exec "$ns" "$AGENT" --socket="$RUN/$site.sock" --state-dir="$RUN/state-$site" \
    --datapath=auto --resync-interval=1s "$@" >"$RUN/agent-$site.log" 2>&1 &
  SITE_PIDS+=($!)
  for _ in $(seq 1 100); do [[ -S "$RUN/$site.sock" ]] && return 0; sleep 0.1; done
  echo "agent $site did not start:" >&2; cat "$RUN/agent-$site.log" >&2; return 1
}

ctl_a() { "$CTL" --socket "$RUN/a.sock" "$@"; }
ctl_b() { "$CTL" --socket "$RUN/b.sock" "$@"; }

# session_ready a|b NAME
session_ready() {
  [[ $("$CTL" --socket "$RUN/$1.sock" get sessions "$2" -o json | jq -r .status.phase) == PHASE_READY ]]
}

sites_down() {
  for pid in "${SITE_PIDS[@]:-}"; do [[ -n "$pid" ]] && kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${SITE_PIDS[@]:-}"; do [[ -n "$pid" ]] && timeout 10 tail --pid="$pid" -f /dev/null 2>/dev/null || true; done
  ip netns del "$NS_A" 2>/dev/null || true
  ip netns del "$NS_B" 2>/dev/null || true
}
