#!/usr/bin/env bash
# The main job, end to end: set up, build, and run two l2tp-agents (one per
# network namespace, "site A" and "site B", joined by a veth) with
# --datapath=auto, apply a pseudowire to each with l2tpctl, and pass traffic
# through it. On this machine's kernel (no L2TP) auto picks the userspace
# datapath.
#
#   scripts/demo.sh          run, then keep the agents up until Ctrl-C
#   scripts/demo.sh --once   run, check traffic, clean up, exit (used by tests)
#
# Needs root (namespaces, TAP devices). Uses only addresses on the veth and
# TAPs it creates inside its own namespaces.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
ONCE=false
[[ "${1:-}" == "--once" ]] && ONCE=true
[[ $(id -u) -eq 0 ]] || { echo "demo: needs root (network namespaces and TAP devices)" >&2; exit 1; }

if [[ "${SKIP_BUILD:-}" != 1 ]]; then
  printf '\n\033[1m== %s\033[0m\n' "Installing what the demo needs (scripts/setup.sh)"
  "$ROOT/scripts/setup.sh"
  # Only the two programs the demo runs, not the tests (scripts/test.sh builds
  # those). The first build compiles the gRPC API and the agent: minutes.
  printf '\n\033[1m== %s\033[0m\n' "Building l2tp-agent and l2tpctl with CMake (scripts/build.sh, into ${BUILD_DIR:-build/})"
  "$ROOT/scripts/build.sh" l2tp-agent l2tpctl
fi
BUILD_DIR=${BUILD_DIR:-$ROOT/build}
AGENT=$BUILD_DIR/agent/l2tp-agent
CTL=$BUILD_DIR/client/l2tpctl
RUN=$(mktemp -d /tmp/l2tp-demo-XXXXXX)
source "$ROOT/scripts/lib/two-sites.sh"

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
cleanup() {
  sites_down
  rm -rf "$RUN"
}
trap cleanup EXIT

say "Two sites: namespaces $NS_A and $NS_B joined by a veth (192.0.2.1 <-> 192.0.2.2)"
sites_up
say "Starting an l2tp-agent in each site (--datapath=auto)"
start_site_agent a
start_site_agent b
ctl_a info

say "Applying examples/demo/site-a.yaml and site-b.yaml"
ctl_a apply -f "$ROOT/examples/demo/site-a.yaml"
ctl_b apply -f "$ROOT/examples/demo/site-b.yaml"

all_ready() { session_ready a lan && session_ready b lan && session_ready a lan-dyn && session_ready b lan-dyn; }
for _ in $(seq 1 150); do all_ready && break; sleep 0.1; done
all_ready || { echo "demo: sessions did not become READY" >&2; ctl_a get sessions -o wide; exit 1; }
say "Reconciled state at site A"
ctl_a get tunnels
ctl_a get sessions -o wide

say "Putting 198.51.100.1 and .2 on the STATIC pseudowire (l2tp-demo) and pinging across"
ip -n "$NS_A" addr add 198.51.100.1/24 dev l2tp-demo
ip -n "$NS_B" addr add 198.51.100.2/24 dev l2tp-demo
ip netns exec "$NS_A" ping -c 5 -i 0.2 -W 2 198.51.100.2
say "The same on the DYNAMIC pseudowire (l2tp-dyn): 198.51.101.1 and .2"
ip -n "$NS_A" addr add 198.51.101.1/24 dev l2tp-dyn
ip -n "$NS_B" addr add 198.51.101.2/24 dev l2tp-dyn
ip netns exec "$NS_A" ping -c 5 -i 0.2 -W 2 198.51.101.2

# Status counters come from the agent's periodic observation (--resync-interval).
rx_packets() { ctl_a get sessions lan -o json | jq -r '.status.counters.rxPackets // "0"'; }
for _ in $(seq 1 40); do [[ $(rx_packets) != 0 ]] && break; sleep 0.25; done
rx=$(rx_packets)
[[ "$rx" != 0 ]] || { echo "demo: no packets counted on the session" >&2; exit 1; }
say "Counters at site A (l2tpctl stats)"
ctl_a stats
say "Traffic passed through the L2TPv3 pseudowire (site A received $rx packets)."

if ! $ONCE; then
  echo
  echo "The agents keep running. Try, in another shell:"
  echo "  $CTL --socket $RUN/a.sock get sessions -o yaml"
  echo "  $CTL --socket $RUN/a.sock watch"
  echo "  ip netns exec $NS_A ping 198.51.100.2"
  echo "Press Ctrl-C to stop and clean up."
  trap 'echo; echo "stopping"; exit 0' INT TERM
  while true; do sleep 1; done
fi
