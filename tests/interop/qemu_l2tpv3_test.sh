#!/usr/bin/env bash
# Interop: QEMU's own userspace L2TPv3 endpoint (`-netdev l2tpv3`: a VM NIC
# whose frames QEMU itself tunnels) <-> our userspace datapath, run as users
# run it: l2tp-agent --datapath=userspace + `l2tpctl apply -f`.
#
#   qemu_l2tpv3_test.sh L2TP_AGENT L2TPCTL
#
# Two namespaces this script creates, joined by a veth: QEMU runs in "q"
# (192.0.2.1, 2001:db8:4::1), the agent in "u" (192.0.2.2, 2001:db8:4::2).
# One VM boot, one virtio NIC per case. The VM puts 10.66.N.2 on the NIC and
# pings our TAP (10.66.N.1) and back, IPv4 and IPv6. expect=fail cases are
# settings that do not interoperate, kept to document (and prove) it.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
AGENT=${1:-} CTL=${2:-}
require_exec l2tp-agent "$AGENT"
require_exec l2tpctl "$CTL"
require qemu-system-x86_64:qemu-system-x86 busybox:busybox-static depmod:kmod xz:xz-utils \
  ip:iproute2 jq:jq ping:iputils-ping readelf:binutils

NS_Q=l2tp-qq-$$ NS_U=l2tp-qu-$$
WORK=$(mktemp -d /tmp/l2tp-qemu-interop-XXXXXX)
AGENT_PID="" VM_PID="" CAP_PID=""
cleanup() {
  stop_pid "$CAP_PID"
  [[ -n $VM_PID ]] && { kill "$VM_PID" 2>/dev/null || true; for _ in $(seq 1 150); do kill -0 "$VM_PID" 2>/dev/null || break; sleep 0.1; done; }
  stop_pid "$AGENT_PID"
  ip netns del "$NS_Q" 2>/dev/null || true
  ip netns del "$NS_U" 2>/dev/null || true
  if [[ ${KEEP_WORK:-0} == 1 ]]; then echo "work dir kept: $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

Q4=192.0.2.1 U4=192.0.2.2 Q6=2001:db8:4::1 U6=2001:db8:4::2
# name encap af counter cookie(0|32|64) our_l2spec our_extra expect
#   counter: QEMU's counter=on|off (on: a 4-byte counter word after the
#   cookie, S bit clear); our_extra: - | seq (send_sequence) | reqseq
#   (send_sequence + require_sequence).
cat >"$WORK/cases.in" <<'EOF'
udp-v4-nocounter-none     udp 4 off 0  none    -      pass
udp-v4-counter-default    udp 4 on  32 default -      pass
udp-v6-counter-c64        udp 6 on  64 default -      pass
udp-v4-counter-ourseq     udp 4 on  32 default seq    pass
ip-v4-nocounter-c32-none  ip  4 off 32 none    -      pass
ip-v4-counter-default     ip  4 on  0  default -      pass
ip-v6-counter-c64         ip  6 on  64 default -      pass
ip-v6-nocounter-c64-none  ip  6 off 64 none    -      pass
neg-counter-vs-none       udp 4 on  32 none    -      fail
neg-nocounter-vs-default  udp 4 off 32 default -      fail
neg-counter-vs-reqseq     udp 4 on  32 default reqseq fail
EOF
NCASES=$(grep -c . "$WORK/cases.in")

mkdir -p "$WORK/payload"
cp "$INTEROP_DIR/qemu_side.sh" "$WORK/payload/"
NETDEVS=()
{
  echo '{"tunnels": ['
  n=0
  while read -r name encap af counter cookie l2 extra expect; do
    n=$((n + 1))
    mac=$(printf '52:54:00:12:34:%02x' $((0x10 + n - 1)))  # run.sh numbers NICs so
    echo "$name $mac $expect" >>"$WORK/payload/cases"
    if [[ $af == 4 ]]; then q=$Q4 u=$U4; else q=$Q6 u=$U6; fi
    # QEMU: txsession is the id it sends (our session id), rxsession the id it
    # expects (our peer session id); txcookie it sends, rxcookie it requires.
    nd="l2tpv3,src=$q,dst=$u,txsession=$((3000 + n)),rxsession=$((4000 + n)),counter=$counter"
    [[ $encap == udp ]] && nd+=",udp=on,srcport=$((18000 + n)),dstport=$((18100 + n))"
    [[ $af == 6 ]] && nd+=",ipv6=on"
    ours_cookie="" peer_cookie=""
    case $cookie in
      32) nd+=",txcookie=0x$(printf '%08x' $((0x51000000 + n))),rxcookie=0x$(printf '%08x' $((0x61000000 + n)))"
          peer_cookie=$(printf '%08x' $((0x51000000 + n))); ours_cookie=$(printf '%08x' $((0x61000000 + n))) ;;
      64) nd+=",cookie64=on,txcookie=0x$(printf '%016x' $((0x7100000000000000 + n))),rxcookie=0x$(printf '%016x' $((0x0200000000000000 + n)))"
          peer_cookie=$(printf '%016x' $((0x7100000000000000 + n))); ours_cookie=$(printf '%016x' $((0x0200000000000000 + n))) ;;
    esac
    NETDEVS+=(--netdev "$nd")
    echo "$n $encap $l2 $extra $ours_cookie $peer_cookie" >>"$WORK/ours"
    [[ $n -gt 1 ]] && echo ','
    printf '{"name": "t%d", "spec": {"tunnelId": %d, "peerTunnelId": %d, "encap": "ENCAPSULATION_%s", "local": "%s", "remote": "%s"' \
      "$n" $((300 + n)) $((400 + n)) "${encap^^}" "$u" "$q"
    [[ $encap == udp ]] && printf ', "udpSourcePort": %d, "udpDestinationPort": %d' $((18100 + n)) $((18000 + n))
    printf '}}'
  done <"$WORK/cases.in"
  echo '], "sessions": ['
  while read -r n encap l2 extra ours_cookie peer_cookie; do
    [[ $n -gt 1 ]] && echo ','
    printf '{"name": "s%d", "spec": {"tunnel": "t%d", "sessionId": %d, "peerSessionId": %d, "interfaceName": "l2tpq%d", "l2SpecificSublayer": "L2_SPECIFIC_SUBLAYER_%s"' \
      "$n" "$n" $((3000 + n)) $((4000 + n)) "$n" "${l2^^}"
    [[ -n $ours_cookie ]] && printf ', "cookie": "%s", "peerCookie": "%s"' "$ours_cookie" "$peer_cookie"
    [[ $extra == seq ]] && printf ', "sendSequence": true'
    [[ $extra == reqseq ]] && printf ', "sendSequence": true, "requireSequence": true'
    printf '}}'
  done <"$WORK/ours"
  echo ']}'
} >"$WORK/config.json"
jq . "$WORK/config.json" >/dev/null

source "$INTEROP_DIR/../../scripts/lib/veth-pair.sh"
veth_pair "$NS_Q" "$NS_U" 192.0.2 2001:db8:4  # veth-a: $Q4/$Q6, veth-b: $U4/$U6

start_ns_agent "$NS_U" "$WORK/agent" "$AGENT"
SOCK=$WORK/agent/agent.sock
apply_and_address "$NS_U" "$SOCK" "$WORK/config.json" "$NCASES" l2tpq 66
start_capture "$NS_U" veth-b "$WORK/underlay.pcap"

CONSOLE=$WORK/console.log
t0=$SECONDS
boot_vm "$CONSOLE" "$WORK/vm.out" --netns "$NS_Q" "${NETDEVS[@]}" --control "$WORK/ctl" \
  "$WORK/payload" qemu_side.sh
echo "VM ready after $((SECONDS - t0)) s"

n=0
while read -r name encap af counter cookie l2 extra expect; do
  n=$((n + 1))
  ping_case "$NS_U" 66 "$n" "$expect" "$WORK/host-result-" &
done <"$WORK/cases.in"
finish_vm "$CONSOLE" "$WORK/ctl" "$SOCK" "$WORK/sessions.json"
vm_rc=$VM_RC
echo "VM done after $((SECONDS - t0)) s (run.sh exit $vm_rc)"

FAILED=0
n=0
while read -r name encap af counter cookie l2 extra expect; do
  n=$((n + 1))
  case_result "$name" "$n" "$CONSOLE" "$WORK/host-result-" "$WORK/sessions.json"
  settings="qemu counter=$counter cookie=$cookie | ours l2spec=$l2 $extra"
  if [[ $expect == fail ]]; then
    if [[ $from_vm == "ipv4=fail ipv6=fail" && $from_host == "ipv4=fail ipv6=fail" ]]; then
      printf 'ok   %-26s (%s) does not interoperate, as documented | agent %s\n' "$name" "$settings" "$counters"
    else
      FAILED=$((FAILED + 1))
      printf 'FAIL %-26s (%s) expected no traffic: ours->qemu %s | qemu->ours %s\n' "$name" "$settings" "$from_host" "${from_vm:-none}"
    fi
  elif [[ $from_vm == "ipv4=ok ipv6=ok" && $from_host == "ipv4=ok ipv6=ok" ]]; then
    printf 'ok   %-26s (%s) ours->qemu %s | qemu->ours %s | agent %s\n' "$name" "$settings" "$host_replies" "$vm_replies" "$counters"
  else
    FAILED=$((FAILED + 1))
    printf 'FAIL %-26s (%s) ours->qemu %s %s | qemu->ours %s %s | agent %s\n' "$name" "$settings" \
      "$from_host" "$host_replies" "${from_vm:-none}" "$vm_replies" "$counters"
    if [[ -s $WORK/underlay.pcap ]]; then
      if [[ $encap == udp ]]; then f="udp.port == $((18000 + n))"; else f="ip.proto == 115 || ipv6.nxt == 115"; fi
      tshark -r "$WORK/underlay.pcap" -Y "$f" -x 2>/dev/null | sed 's/^/    /' | head -40 || true
    fi
  fi
done <"$WORK/cases.in"
grep -a '@@MARK setup ' "$CONSOLE" || true
grep -a '^qemu:' "$WORK/vm.out" | sort | uniq -c | head -5 || true
if [[ $vm_rc != 0 ]]; then echo "VM job failed ($vm_rc):"; cat "$WORK/vm.out"; FAILED=$((FAILED + 1)); fi
echo "$((NCASES - FAILED))/$NCASES QEMU l2tpv3<->userspace cases passed ($((SECONDS - t0)) s with the VM)"
[[ $FAILED == 0 ]]
