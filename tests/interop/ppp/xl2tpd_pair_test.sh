#!/usr/bin/env bash
# xl2tpd + pppd on both ends of an L2TPv2 tunnel in the test VM (Debian's
# kernel under QEMU, tests/vm/), on the kernel's PPPoL2TP datapath: the peer
# and plumbing the agent's end-to-end PPP tests build on.
#
#   tests/interop/ppp/xl2tpd_pair_test.sh
#
# Stages Debian's ppp, xl2tpd and tcpdump (stage.sh, never installed on the
# host) into the VM's payload; the VM (xl2tpd_pair_side.sh) runs an LNS and
# a LAC in two namespaces joined by a veth (192.0.2.0/24, made there):
# kernel datapath on both, CHAP with the right secret brings ppp0 up with
# 10.8.1.2 <-> 10.8.0.1 and pings pass; a wrong secret fails CHAP; nothing
# is left behind. The veth's capture comes back to this host, where tshark
# must decode the L2TPv2 control messages (SCCRQ ... StopCCN) and the PPP
# LCP, CHAP (success and failure) and IPCP frames inside the data messages.
#
# Root. Exit 0 all passed, 1 a check failed, 77 skipped: QEMU, the VM's
# tools or tshark missing, or the kernel/ppp packages not obtainable.
# KEEP_WORK=1 keeps the work directory (console, logs, configs, pcap).
# About 40 s with warm caches (tests/vm/prepare.sh and stage.sh cache in
# $L2TP_VM_CACHE, default /var/cache/l2tp-agent-vm).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
VM_DIR=$(cd "$HERE/../../vm" && pwd)
source "$HERE/ppp_lib.sh"

skip() { echo "SKIP: $*"; exit 77; }
[[ $(id -u) -eq 0 ]] || skip "needs root (the VM image has device nodes)"
missing=()
for t in qemu-system-x86_64:qemu-system-x86 busybox:busybox-static depmod:kmod xz:xz-utils \
         readelf:binutils ip:iproute2 tshark:tshark apt-get:apt dpkg:dpkg; do
  command -v "${t%%:*}" >/dev/null 2>&1 || missing+=("${t#*:}")
done
[[ ${#missing[@]} -eq 0 ]] || skip "missing tools; apt-get install --no-install-recommends ${missing[*]}"

WORK=$(mktemp -d /tmp/l2tp-ppp-pair-XXXXXX)
chmod 755 "$WORK"
cleanup() { if [[ ${KEEP_WORK:-0} == 1 ]]; then echo "work dir kept: $WORK"; else rm -rf "$WORK"; fi; }
trap cleanup EXIT

t_start=$SECONDS
rc=0
timeout 900 "$VM_DIR/prepare.sh" >/dev/null 2>"$WORK/prepare.log" || rc=$?
if [[ $rc != 0 ]]; then cat "$WORK/prepare.log"; skip "tests/vm/prepare.sh failed ($rc): no kernel for the VM"; fi
mkdir -p "$WORK/payload"
rc=0
timeout 900 bash "$HERE/stage.sh" "$WORK/payload" 2>"$WORK/stage.log" || rc=$?
cat "$WORK/stage.log"
[[ $rc == 77 ]] && skip "the ppp/xl2tpd packages are not obtainable"
[[ $rc == 0 ]] || { echo "FAIL: stage.sh exited $rc"; exit 1; }
cp "$HERE/ppp_lib.sh" "$HERE/xl2tpd_pair_side.sh" "$WORK/payload/"
echo "prepared in $((SECONDS - t_start)) s"

t_vm=$SECONDS
VM_RC=0
timeout 600 "$VM_DIR/run.sh" --timeout 420 --memory 768 --console "$WORK/console.log" --out "$WORK/vm" \
  "$WORK/payload" xl2tpd_pair_side.sh >"$WORK/vm.out" 2>&1 || VM_RC=$?
echo "VM finished in $((SECONDS - t_vm)) s (run.sh exit $VM_RC)"
echo "==== in the VM"
grep -v '^@@' "$WORK/vm.out" | sed -n '/^---- /,$p' | grep -v '^ok \|^fail \|^vm/run' || true

FAILED=0 TOTAL=0
check() {  # check NAME ok|fail DETAIL
  TOTAL=$((TOTAL + 1))
  if [[ $2 == ok ]]; then printf 'ok   %-18s %s\n' "$1" "$3"; else FAILED=$((FAILED + 1)); printf 'FAIL %-18s %s\n' "$1" "$3"; fi
}
echo "==== results"
for name in install mountns kernel-mode ppp-up private-etc-ppp chap pppol2tp ping teardown \
            wrong-password wrong-pw-cleanup clean; do
  line=$(grep -a "@@MARK result $name " "$WORK/console.log" | tail -1 | sed "s/.*@@MARK result $name \(.*\)@@.*/\1/" | tr -d '\r' || true)
  if [[ -z $line ]]; then check "$name" fail "no result from the VM"; continue; fi
  check "$name" "${line%% *}" "${line#* }"
done

# tshark on the capture: L2TPv2 control messages, PPP inside data messages.
PCAP=$WORK/vm/wire.pcap
if [[ -s $PCAP ]]; then
  ppp_tshark_check "$PCAP" 1701 1702
  echo "==== tshark decoded (kind value count)"
  echo "$PPP_DECODED" | sed 's/^/  /'
  has() { grep -q "^$1 $2 " <<<"$PPP_DECODED"; }
  missing=()
  for m in 1:SCCRQ 2:SCCRP 3:SCCCN 4:StopCCN 10:ICRQ 11:ICRP 12:ICCN 14:CDN; do
    has l2tp-msg "${m%%:*}" || missing+=("${m#*:}")
  done
  [[ ${#missing[@]} -eq 0 ]] && check tshark-l2tp ok "SCCRQ SCCRP SCCCN ICRQ ICRP ICCN CDN StopCCN (+ZLB acks) decoded" ||
    check tshark-l2tp fail "not decoded: ${missing[*]}"
  missing=()
  for m in lcp:1 lcp:2 chap:1 chap:2 chap:3 chap:4 ipcp:1 ipcp:2 ipcp:3 icmp-in-ppp:8 icmp-in-ppp:0; do
    has "${m%%:*}" "${m#*:}" || missing+=("$m")
  done
  [[ ${#missing[@]} -eq 0 ]] &&
    check tshark-ppp ok "LCP Conf-Req/Ack, CHAP Challenge/Response/Success/Failure, IPCP Conf-Req/Ack/Nak, ICMP echo in L2TP data" ||
    check tshark-ppp fail "not decoded: ${missing[*]}"
  echo "==== tshark: L2TP control messages and PPP negotiation (ICMP in PPP counted above)"
  ppp_tshark_summary "$PCAP" 1701 1702 | head -80 | sed 's/^/  /'
  echo "==== tshark: the first CHAP Challenge, an L2TPv2 data message"
  ppp_tshark_detail "$PCAP" 'chap.code == 1' 1701 1702 | head -40 | sed 's/^/  /'
else
  check tshark-l2tp fail "no capture came back from the VM"
  check tshark-ppp fail "no capture came back from the VM"
fi

if [[ $VM_RC != 0 ]]; then
  echo "VM job failed ($VM_RC):"; tail -40 "$WORK/vm.out"
  FAILED=$((FAILED + 1)) TOTAL=$((TOTAL + 1))
fi
if ((FAILED)); then
  for f in lns.log lac.log lac-good.log pppd-lns.log pppd-lac.log; do
    [[ -f $WORK/vm/pair/$f ]] && { echo "---- $f (tail)"; tail -25 "$WORK/vm/pair/$f"; }
  done
fi
echo "xl2tpd pair: $((SECONDS - t_start)) s in all"
echo "$((TOTAL - FAILED)) passed, $FAILED failed"
[[ $FAILED == 0 ]]
