#!/usr/bin/env bash
# DYNAMIC tunnels on the kernel datapath (managed kernel tunnels: the agent's
# control plane owns the socket, L2TP_ATTR_FD hands it to the kernel), in one
# boot of Debian's kernel under QEMU (tests/vm/):
#
#   kernel_dynamic_test.sh L2TP_AGENT L2TPCTL
#
#  - pair: two agents on --datapath=kernel in two namespaces of the VM, a
#    UDP/IPv4 and an IP/IPv6 tunnel with two sessions each, matched by
#    remote_end_id; iproute2 shows them; ping across all four; the tunnels
#    are left alone by later resync passes; they die with the agent's sockets;
#    the RESPONDER reconnects when the INITIATOR comes back.
#  - mixed: the VM's agent (kernel datapath) against this host's agent
#    (userspace datapath, in a namespace joined to the VM by a tap NIC, as in
#    kernel_userspace_test.sh): a UDP tunnel the VM initiates and an IP tunnel
#    the host initiates; ping both ways.
# Prints iproute2's view from the VM and one line per check.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
AGENT=${1:-} CTL=${2:-}
require_exec l2tp-agent "$AGENT"
require_exec l2tpctl "$CTL"
require qemu-system-x86_64:qemu-system-x86 busybox:busybox-static depmod:kmod xz:xz-utils \
  ip:iproute2 jq:jq ping:iputils-ping readelf:binutils strip:binutils

vm_host_init l2tp-kdyn l2tp-kernel-dynamic

HOST4=192.0.2.1 VM4=192.0.2.2

# The binaries go into the VM's initramfs: without their debug sections they
# are a twentieth of the size, which the emulated CPU unpacks much faster.
mkdir -p "$WORK/bin" "$WORK/payload"
strip --strip-debug -o "$WORK/bin/l2tp-agent" "$AGENT"
strip --strip-debug -o "$WORK/bin/l2tpctl" "$CTL"
cp "$INTEROP_DIR/kernel_dynamic_side.sh" "$WORK/payload/"

# The host's side of "mixed", in two parts: the UDP RESPONDER now, the IP
# INITIATOR once the VM's agent runs (an SCCRQ sent while the VM boots would
# only wait out retransmission backoff).
cat >"$WORK/host-udp.yaml" <<YAML
tunnels:
- name: m-udp
  spec: {local: $HOST4, remote: $VM4, control: {mode: MODE_DYNAMIC, role: ROLE_RESPONDER, host_name: host, hello_interval: 5s}}
sessions:
- name: m-udp-1
  spec: {tunnel: m-udp, remote_end_id: mixed-udp, interface_name: h-udp1, peer_cookie: "f1f2f3f4"}
YAML
cat >"$WORK/host-ip.yaml" <<YAML
tunnels:
- name: m-ip
  spec: {local: $HOST4, remote: $VM4, encap: ENCAPSULATION_IP, control: {mode: MODE_DYNAMIC, role: ROLE_INITIATOR, host_name: host, hello_interval: 5s}}
sessions:
- name: m-ip-1
  spec: {tunnel: m-ip, remote_end_id: mixed-ip, interface_name: h-ip1}
YAML

vm_host_tap "$HOST4/24"

start_ns_agent "$NS" "$WORK/agent" "$AGENT"
SOCK=$WORK/agent/agent.sock
hctl() { "$CTL" --socket "$SOCK" "$@"; }
hctl apply -f "$WORK/host-udp.yaml" >/dev/null
start_capture "$NS" vm0 "$WORK/underlay.pcap"

CONSOLE=$WORK/console.log
t0=$SECONDS
boot_vm "$CONSOLE" "$WORK/vm.out" --netns "$NS" --tap vm0 --control "$WORK/ctl" --memory 1024 --out "$WORK/vm" \
  --bin "$WORK/bin/l2tp-agent" --bin "$WORK/bin/l2tpctl" \
  "$WORK/payload" kernel_dynamic_side.sh "$WORK/bin/l2tp-agent" "$WORK/bin/l2tpctl" "$HOST4" "$VM4"
echo "VM agents running after $((SECONDS - t0)) s"
hctl apply -f "$WORK/host-ip.yaml" >/dev/null

# Mixed, the host's side: both sessions READY, then ping the VM's ends.
host_ready=fail
for _ in $(seq 1 180); do
  n=$(hctl get sessions -o json 2>/dev/null | jq '[.sessions[]? | select(.status.phase == "PHASE_READY")] | length' || echo 0)
  [[ $n == 2 ]] && { host_ready=ok; break; }
  sleep 0.5
done
ip -n "$NS" addr add 10.61.1.1/24 dev h-udp1 2>/dev/null || true
ip -n "$NS" addr add 10.61.2.1/24 dev h-ip1 2>/dev/null || true
vm_wait_mark "$CONSOLE" mixed-ready 180 "$VM_PID" || true
declare -A HOST_PING
for pw in "udp1 1" "ip1 2"; do
  set -- $pw
  if ip netns exec "$NS" ping -q -c 3 -i 0.2 -W 5 "10.61.$2.2" >"$WORK/ping-$1" 2>&1 ||
     ip netns exec "$NS" ping -q -c 3 -i 0.2 -W 5 "10.61.$2.2" >"$WORK/ping-$1" 2>&1; then
    HOST_PING[$1]="ok host -> v-$1: $(grep -o '[0-9]* received' "$WORK/ping-$1")"
  else
    HOST_PING[$1]="fail $(tr '\n' ' ' <"$WORK/ping-$1")"
  fi
done
vm_wait_mark "$CONSOLE" vm-pings-done 180 "$VM_PID" || echo "the VM did not finish its pings"
hctl get tunnels -o wide >"$WORK/host-tunnels.txt" 2>&1 || true
hctl get sessions -o wide >"$WORK/host-sessions.txt" 2>&1 || true
vm_send "$WORK/ctl" done || true
VM_RC=0
wait "$VM_PID" || VM_RC=$?
VM_PID=""
stop_pid "$CAP_PID"; CAP_PID=""
echo "VM done after $((SECONDS - t0)) s (run.sh exit $VM_RC)"

# What the VM printed: iproute2's view of the managed tunnels.
echo "==== in the VM"
sed -n '/^---- ip /,/^---- agent\|^@@/p' "$WORK/vm.out" | grep -v '^@@' || true
echo "==== host agent (userspace datapath)"
cat "$WORK/host-tunnels.txt" "$WORK/host-sessions.txt"

FAILED=0 TOTAL=0
check() {  # check NAME ok|fail DETAIL
  TOTAL=$((TOTAL + 1))
  if [[ $2 == ok ]]; then printf 'ok   %-30s %s\n' "$1" "$3"; else FAILED=$((FAILED + 1)); printf 'FAIL %-30s %s\n' "$1" "$3"; fi
}
echo "==== results"
for name in pair-up pair-udp1 pair-udp2 pair-ip1 pair-ip2 pair-stable mixed-up mixed-udp1-vm-to-host \
            mixed-ip1-vm-to-host managed-gone-with-agent handover-restart new-connection-same-responder \
            managed-drift-repair; do
  line=$(grep -a "@@MARK result $name " "$CONSOLE" | tail -1 | sed "s/.*@@MARK result $name \(.*\)@@.*/\1/" | tr -d '\r' || true)
  if [[ -z $line ]]; then check "$name" fail "no result from the VM"; continue; fi
  check "$name" "${line%% *}" "${line#* }"
done
check mixed-host-up "$host_ready" "host agent: both DYNAMIC sessions READY"
for pw in udp1 ip1; do
  check "mixed-$pw-host-to-vm" "${HOST_PING[$pw]%% *}" "${HOST_PING[$pw]#* }"
done
if [[ $VM_RC != 0 ]]; then echo "VM job failed ($VM_RC):"; tail -50 "$WORK/vm.out"; FAILED=$((FAILED + 1)); fi
echo "$((TOTAL - FAILED))/$TOTAL kernel DYNAMIC checks passed ($((SECONDS - t0)) s with the VM)"
[[ $FAILED == 0 ]]
