#!/usr/bin/env bash
# Interop: the Linux kernel's own L2TPv3 (Debian's kernel in a QEMU VM,
# configured with iproute2's `ip l2tp`) <-> our userspace datapath, run the way
# users run it: l2tp-agent --datapath=userspace + `l2tpctl apply -f`.
#
#   kernel_userspace_test.sh L2TP_AGENT L2TPCTL
#
# One VM boot carries every case at once: one tunnel + one session per case,
# distinct ids, ports and overlay subnets. The host end lives in a namespace
# this script creates, joined to the VM by a tap NIC (192.0.2.0/24,
# 2001:db8:2::/64). Every case must pass traffic both ways (ping over IPv4 and
# IPv6 across the pseudowire, from each side). Prints one line per case.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
AGENT=${1:-} CTL=${2:-}
require_exec l2tp-agent "$AGENT"
require_exec l2tpctl "$CTL"
require qemu-system-x86_64:qemu-system-x86 busybox:busybox-static depmod:kmod xz:xz-utils \
  ip:iproute2 jq:jq ping:iputils-ping readelf:binutils

vm_host_init l2tp-kvm l2tp-kernel-interop

HOST4=192.0.2.1 VM4=192.0.2.2 HOST6=2001:db8:2::1 VM6=2001:db8:2::2

# Cases, one per line:
#   name encap af host_tunnel vm_tunnel host_session vm_session host_port vm_port
#   host_cookie host_peer_cookie vm_cookie vm_peer_cookie host_l2spec vm_l2spec
#   seq csum expect
# A cookie is what that end sends, a peer cookie what it requires ("-": none).
# Session ids are unique across all cases (IP encap has no tunnel id on the
# wire). expect=fail cases are deliberate mismatches: they prove the checks
# can fail and document what a mismatch looks like.
mkdir -p "$WORK/payload"
{
  i=0
  for encap in udp ip; do
    for af in 4 6; do
      for v in c0-default c4-default c8-none c4c8-none; do
        i=$((i + 1))
        case $v in
          c0-default) hc=- vc=- l2=default ;;
          c4-default) hc=a1b2c3d4 vc=5e6f7081 l2=default ;;
          c8-none) hc=0102030405060708 vc=f1f2f3f4f5f6f7f8 l2=none ;;
          c4c8-none) hc=cafef00d vc=0011223344556677 l2=none ;;
        esac
        echo "$encap-v$af-$v $encap $af $((100 + i)) $((200 + i)) $((1000 + i)) $((2000 + i)) $((17000 + i)) $((17100 + i)) $hc $vc $vc $hc $l2 $l2 - - pass"
      done
    done
  done
  # Sequencing (kernel `seq both` <-> send_sequence + require_sequence) and
  # the UDP checksum options.
  echo "udp-v4-c8-default-seq udp 4 121 221 1021 2021 17021 17121 1112131415161718 2122232425262728 2122232425262728 1112131415161718 default default both - pass"
  echo "ip-v6-c4-default-seq ip 6 122 222 1022 2022 - - 31323334 41424344 41424344 31323334 default default both - pass"
  echo "udp-v4-csum udp 4 123 223 1023 2023 17023 17123 - - - - default default - csum4 pass"
  echo "udp-v6-zerocsum udp 6 124 224 1024 2024 17024 17124 51525354 61626364 61626364 51525354 none none - zero6 pass"
  # Deliberate mismatches: the kernel sends a cookie the agent does not expect;
  # the kernel sends the default sublayer, the agent expects none.
  echo "neg-cookie-mismatch udp 4 125 225 1025 2025 17025 17125 71727374 deadbeef 0badf00d 71727374 default default - - fail"
  echo "neg-l2spec-mismatch ip 4 126 226 1026 2026 - - - - - - none default - - fail"
} >"$WORK/payload/cases"
cp "$INTEROP_DIR/kernel_side.sh" "$WORK/payload/"
NCASES=$(grep -c . "$WORK/payload/cases")

# The agent's config: the same cases seen from the host.
{
  echo '{"tunnels": ['
  n=0
  while read -r name encap af htid vtid hsid vsid hport vport hc hpc vc vpc hl2 vl2 seq csum expect; do
    n=$((n + 1))
    if [[ $af == 4 ]]; then l=$HOST4 r=$VM4; else l=$HOST6 r=$VM6; fi
    [[ $n -gt 1 ]] && echo ','
    printf '{"name": "t%d", "spec": {"tunnelId": %d, "peerTunnelId": %d, "encap": "%s", "local": "%s", "remote": "%s"' \
      "$n" "$htid" "$vtid" "ENCAPSULATION_${encap^^}" "$l" "$r"
    [[ $encap == udp ]] && printf ', "udpSourcePort": %d, "udpDestinationPort": %d' "$hport" "$vport"
    [[ $csum == csum4 ]] && printf ', "udpChecksum": true'
    [[ $csum == zero6 ]] && printf ', "udp6ZeroChecksumTx": true, "udp6ZeroChecksumRx": true'
    printf '}}'
  done <"$WORK/payload/cases"
  echo '], "sessions": ['
  n=0
  while read -r name encap af htid vtid hsid vsid hport vport hc hpc vc vpc hl2 vl2 seq csum expect; do
    n=$((n + 1))
    [[ $n -gt 1 ]] && echo ','
    printf '{"name": "s%d", "spec": {"tunnel": "t%d", "sessionId": %d, "peerSessionId": %d, "interfaceName": "l2tph%d", "l2SpecificSublayer": "L2_SPECIFIC_SUBLAYER_%s"' \
      "$n" "$n" "$hsid" "$vsid" "$n" "${hl2^^}"
    [[ $hc != - ]] && printf ', "cookie": "%s"' "$hc"
    [[ $hpc != - ]] && printf ', "peerCookie": "%s"' "$hpc"
    [[ $seq == both ]] && printf ', "sendSequence": true, "requireSequence": true'
    printf '}}'
  done <"$WORK/payload/cases"
  echo ']}'
} >"$WORK/config.json"
jq . "$WORK/config.json" >/dev/null

vm_host_tap "$HOST4/24" "$HOST6/64"

start_ns_agent "$NS" "$WORK/agent" "$AGENT"
SOCK=$WORK/agent/agent.sock
apply_and_address "$NS" "$SOCK" "$WORK/config.json" "$NCASES" l2tph 77
start_capture "$NS" vm0 "$WORK/underlay.pcap"

CONSOLE=$WORK/console.log
t0=$SECONDS
boot_vm "$CONSOLE" "$WORK/vm.out" --netns "$NS" --tap vm0 --control "$WORK/ctl" \
  "$WORK/payload" kernel_side.sh "$HOST4" "$VM4" "$HOST6" "$VM6"
echo "VM ready after $((SECONDS - t0)) s"

# The host's pings, all cases at once; results in files.
n=0
while read -r name encap af htid vtid hsid vsid hport vport hc hpc vc vpc hl2 vl2 seq csum expect; do
  n=$((n + 1))
  ping_case "$NS" 77 "$n" "$expect" "$WORK/host-result-" &
done <"$WORK/payload/cases"
finish_vm "$CONSOLE" "$WORK/ctl" "$SOCK" "$WORK/sessions.json"
vm_rc=$VM_RC
echo "VM done after $((SECONDS - t0)) s (run.sh exit $vm_rc)"

FAILED=0
n=0
while read -r name encap af htid vtid hsid vsid hport vport hc hpc vc vpc hl2 vl2 seq csum expect; do
  n=$((n + 1))
  case_result "$name" "$n" "$CONSOLE" "$WORK/host-result-" "$WORK/sessions.json"
  kmtu=$(grep -a "^kernel $name mtu=" "$WORK/vm.out" | sed 's/.*mtu=//' | tr -d '\r' || true)
  hmtu=$(ip -n "$NS" -o link show "l2tph$n" 2>/dev/null | sed -n 's/.* mtu \([0-9]*\).*/\1/p' || true)
  if [[ $expect == fail ]]; then
    # A mismatch must stop traffic both ways; a foreign cookie must be counted.
    discards=$(jq -r --arg s "s$n" '.sessions[] | select(.name == $s) | .status.counters.rxCookieDiscards // "0"' \
      "$WORK/sessions.json" 2>/dev/null || echo 0)
    if [[ $from_vm == "ipv4=fail ipv6=fail" && $from_host == "ipv4=fail ipv6=fail" ]] &&
       { [[ $hpc == "$vc" ]] || ((discards > 0)); }; then
      printf 'ok   %-24s no traffic either way, as expected | agent %s\n' "$name" "$counters"
    else
      FAILED=$((FAILED + 1))
      printf 'FAIL %-24s a deliberate mismatch was not detected: host->kernel %s | kernel->host %s | agent %s\n' \
        "$name" "$from_host" "${from_vm:-none}" "$counters"
    fi
    continue
  fi
  if [[ $from_vm == "ipv4=ok ipv6=ok" && $from_host == "ipv4=ok ipv6=ok" ]]; then
    printf 'ok   %-24s host->kernel %s %s | kernel->host %s %s | agent %s | mtu kernel=%s ours=%s\n' \
      "$name" "$from_host" "$host_replies" "$from_vm" "$vm_replies" "$counters" "$kmtu" "$hmtu"
  else
    FAILED=$((FAILED + 1))
    printf 'FAIL %-24s host->kernel %s %s | kernel->host %s %s | agent %s | mtu kernel=%s ours=%s\n' \
      "$name" "$from_host" "$host_replies" "${from_vm:-none}" "$vm_replies" "$counters" "$kmtu" "$hmtu"
    grep -a "^kernel $name " "$WORK/vm.out" | sed 's/^/    /' || true
    if [[ -s $WORK/underlay.pcap ]]; then
      # First frames of this case each way, raw, for the datapath's owner.
      if [[ $encap == udp ]]; then f="udp.port == $hport"; else f="ip.proto == 115 || ipv6.nxt == 115"; fi
      tshark -r "$WORK/underlay.pcap" -Y "$f" -x 2>/dev/null | sed "s/^/    /" | head -60 || true
    fi
  fi
done <"$WORK/payload/cases"

if grep -aq '@@MARK setup ' "$CONSOLE"; then grep -a '@@MARK setup ' "$CONSOLE"; fi
if [[ $vm_rc != 0 ]]; then echo "VM job failed ($vm_rc):"; cat "$WORK/vm.out"; FAILED=$((FAILED + 1)); fi
echo "$((NCASES - FAILED))/$NCASES kernel<->userspace cases passed ($((SECONDS - t0)) s with the VM)"
[[ $FAILED == 0 ]]
