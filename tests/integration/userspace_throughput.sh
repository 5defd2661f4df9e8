#!/usr/bin/env bash
# Single-stream TCP throughput across a userspace-datapath pseudowire, next to
# kernel VXLAN over the same veth for scale. Two private namespaces joined by a
# veth; addresses only on links created here; bounded runs; cleaned up on exit.
#
# Usage (root): userspace_throughput.sh [driver] [seconds]   (needs iperf3)
set -euo pipefail

DRIVER=${1:-$(dirname "$0")/../../build-userspace/datapath/userspace/l2tp-userspace-driver}
SECS=${2:-5}
[[ -x "$DRIVER" ]] || { echo "driver not found: $DRIVER" >&2; exit 2; }
[[ $(id -u) -eq 0 ]] || { echo "needs root" >&2; exit 77; }
command -v iperf3 >/dev/null || { echo "iperf3 missing" >&2; exit 77; }

NS_A=l2tpbw-a-$$
NS_B=l2tpbw-b-$$
WORK=$(mktemp -d)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]:-}"; do [[ -n "$pid" ]] && kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]:-}"; do [[ -n "$pid" ]] && timeout 5 tail --pid="$pid" -f /dev/null 2>/dev/null || true; done
  ip netns del "$NS_A" 2>/dev/null || true
  ip netns del "$NS_B" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

ip netns add "$NS_A"; ip netns add "$NS_B"
ip link add veth-a netns "$NS_A" type veth peer name veth-b netns "$NS_B"
for ns in "$NS_A" "$NS_B"; do ip -n "$ns" link set lo up; done
ip -n "$NS_A" addr add 192.0.2.1/24 dev veth-a
ip -n "$NS_B" addr add 192.0.2.2/24 dev veth-b
ip -n "$NS_A" link set veth-a up; ip -n "$NS_B" link set veth-b up

iperf_between() {  # server address in NS_B, prints Gbit/s
  ip netns exec "$NS_B" timeout $((SECS + 15)) iperf3 -s -1 -B "$1" >/dev/null 2>&1 &
  local spid=$!
  sleep 0.5
  ip netns exec "$NS_A" timeout $((SECS + 10)) iperf3 -c "$1" -t "$SECS" -J >"$WORK/iperf.json" || true
  wait "$spid" 2>/dev/null || true
  python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print("%.2f" % (d["end"]["sum_received"]["bits_per_second"]/1e9))' "$WORK/iperf.json"
}

# Kernel VXLAN reference.
ip -n "$NS_A" link add vx0 type vxlan id 42 local 192.0.2.1 remote 192.0.2.2 dstport 4789
ip -n "$NS_B" link add vx0 type vxlan id 42 local 192.0.2.2 remote 192.0.2.1 dstport 4789
ip -n "$NS_A" addr add 10.98.0.1/24 dev vx0; ip -n "$NS_B" addr add 10.98.0.2/24 dev vx0
ip -n "$NS_A" link set vx0 up; ip -n "$NS_B" link set vx0 up
VXLAN=$(iperf_between 10.98.0.2)

for ns_args in "$NS_A 192.0.2.1 192.0.2.2 10 20 100 200" "$NS_B 192.0.2.2 192.0.2.1 20 10 200 100"; do
  read -r ns l r t pt s ps <<<"$ns_args"
  ip netns exec "$ns" "$DRIVER" --local="$l" --remote="$r" --tunnel="$t" --peer-tunnel="$pt" \
    --session="$s" --peer-session="$ps" --ifname=l2tpbw0 --log=warning ${EXTRA_ARGS:-} >"$WORK/$ns.out" 2>&1 &
  PIDS+=($!)
done
for _ in $(seq 50); do
  grep -q ready "$WORK/$NS_A.out" 2>/dev/null && grep -q ready "$WORK/$NS_B.out" 2>/dev/null && break
  sleep 0.1
done
ip -n "$NS_A" addr add 10.99.0.1/24 dev l2tpbw0; ip -n "$NS_B" addr add 10.99.0.2/24 dev l2tpbw0
L2TP=$(iperf_between 10.99.0.2)
echo "vxlan_gbps=$VXLAN userspace_l2tp_gbps=$L2TP ratio=$(python3 -c "print('%.2f' % ($L2TP / $VXLAN if $VXLAN else 0))")"
