#!/usr/bin/env bash
# The agent's PPP pseudowires end to end (issue 14, docs/ppp.md) in one boot
# of Debian's kernel under QEMU (tests/vm/): the agent (--datapath=kernel)
# runs pppd (Debian's, with pppol2tp.so) per call, against xl2tpd + pppd
# and against itself.
#
#   tests/interop/ppp/agent_ppp_test.sh L2TP_AGENT L2TPCTL
#
# In the VM (agent_ppp_side.sh; each case in its own pair of namespaces
# joined by a veth, 192.0.2.1/24 and 192.0.2.2/24):
#  1. the agent as LAC (L2TPv2 INITIATOR, CHAP user alice, password_file)
#     dialing xl2tpd + pppd as LNS: NETWORK 10.8.1.x <-> 10.8.0.1, CHAP,
#     pings; a wrong password: DEAD "...authenticate...", re-dialed with
#     backoff, the file fixed: up again.
#  2. xl2tpd + pppd as LAC dialing the agent as LNS (L2TPv2 RESPONDER,
#     template dialin-, max_sessions 2, pool 10.8.1.0/29): 10.8.1.1, user
#     alice, pings; xl2tpd hangs up: call over, address released (the next
#     call gets 10.8.1.1 again).
#  3. L2TPv3 PPP pseudowire between two agents (remote_end_id, CHAP): up, pings.
#  4. cleanup: kill -9 of the agent's pppd (CDN, re-dial, stable for 8 s;
#     case 1, and both ends of case 3); deleting a session or a tunnel
#     leaves no PPPoL2TP socket, pppd, ppp interface or call file (cases 1,
#     2, 3).
#  5. the captures of cases 1, 2 and 3 come back here: tshark must decode
#     the L2TP control messages (v2 and v3) and the PPP LCP/CHAP/IPCP
#     frames inside the data messages.
# Prints one line per check and "N passed, N failed".
#
# Root. Exit 0 all passed, 1 a check failed, 77 skipped: not root, QEMU, the
# VM's tools, jq or tshark missing, or the kernel/ppp packages not
# obtainable. KEEP_WORK=1 keeps the work directory (console, agents' and
# xl2tpd's logs, configs, captures). About 5 minutes with warm caches
# (tests/vm/prepare.sh and stage.sh cache in $L2TP_VM_CACHE), up to 15 when
# checks fail and wait out their bounds.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
VM_DIR=$(cd "$HERE/../../vm" && pwd)
source "$HERE/ppp_lib.sh"
AGENT=${1:-} CTL=${2:-}

skip() { echo "SKIP: $*"; exit 77; }
[[ -n $AGENT && -x $AGENT ]] || { echo "FAIL: l2tp-agent not executable: '$AGENT'"; exit 1; }
[[ -n $CTL && -x $CTL ]] || { echo "FAIL: l2tpctl not executable: '$CTL'"; exit 1; }
[[ $(id -u) -eq 0 ]] || skip "needs root (the VM image has device nodes)"
missing=()
for t in qemu-system-x86_64:qemu-system-x86 busybox:busybox-static depmod:kmod xz:xz-utils \
         readelf:binutils strip:binutils ip:iproute2 tshark:tshark jq:jq apt-get:apt dpkg:dpkg; do
  command -v "${t%%:*}" >/dev/null 2>&1 || missing+=("${t#*:}")
done
[[ ${#missing[@]} -eq 0 ]] || skip "missing tools; apt-get install --no-install-recommends ${missing[*]}"

WORK=$(mktemp -d /tmp/l2tp-agent-ppp-XXXXXX)
chmod 755 "$WORK"
cleanup() { if [[ ${KEEP_WORK:-0} == 1 ]]; then echo "work dir kept: $WORK"; else rm -rf "$WORK"; fi; }
trap cleanup EXIT

t_start=$SECONDS
rc=0
timeout 900 "$VM_DIR/prepare.sh" >/dev/null 2>"$WORK/prepare.log" || rc=$?
if [[ $rc != 0 ]]; then cat "$WORK/prepare.log"; skip "tests/vm/prepare.sh failed ($rc): no kernel for the VM"; fi
mkdir -p "$WORK/payload" "$WORK/bin"
rc=0
timeout 900 bash "$HERE/stage.sh" "$WORK/payload" 2>"$WORK/stage.log" || rc=$?
cat "$WORK/stage.log"
[[ $rc == 77 ]] && skip "the ppp/xl2tpd packages are not obtainable"
[[ $rc == 0 ]] || { echo "FAIL: stage.sh exited $rc"; exit 1; }
cp "$HERE/ppp_lib.sh" "$HERE/agent_ppp_side.sh" "$WORK/payload/"
# Into the VM's initramfs without debug sections: far less for the emulated
# CPU to unpack.
strip --strip-debug -o "$WORK/bin/l2tp-agent" "$AGENT"
strip --strip-debug -o "$WORK/bin/l2tpctl" "$CTL"
JQ=$(readlink -f "$(command -v jq)")
echo "prepared in $((SECONDS - t_start)) s"

t_vm=$SECONDS
VM_RC=0
timeout 1000 "$VM_DIR/run.sh" --timeout 900 --memory 1536 --console "$WORK/console.log" --out "$WORK/vm" \
  --bin "$WORK/bin/l2tp-agent" --bin "$WORK/bin/l2tpctl" --bin "$JQ" \
  "$WORK/payload" agent_ppp_side.sh "$WORK/bin/l2tp-agent" "$WORK/bin/l2tpctl" >"$WORK/vm.out" 2>&1 || VM_RC=$?
echo "VM finished in $((SECONDS - t_vm)) s (run.sh exit $VM_RC)"
echo "==== in the VM"
grep -av '^@@' "$WORK/vm.out" | sed -n '/^---- /,$p' | grep -av '^ok  \|^fail \|^vm/run' || true

FAILED=0 TOTAL=0
check() {  # check NAME ok|fail DETAIL
  TOTAL=$((TOTAL + 1))
  if [[ $2 == ok ]]; then printf 'ok   %-22s %s\n' "$1" "$3"; else FAILED=$((FAILED + 1)); printf 'FAIL %-22s %s\n' "$1" "$3"; fi
}
echo "==== results"
NAMES=(install agent-start
       lac-up lac-chap lac-ping lac-kill-cdn lac-kill-redial lac-wrong-pw lac-wrong-pw-redial lac-fixed-pw
       lac-delete-session lac-delete-tunnel
       lns-up lns-status lns-ping lns-hangup lns-same-address lns-delete-tunnel
       v3-up v3-status v3-ping v3-kill-lac-pppd v3-kill-lns-pppd v3-redial-first-try v3-delete-session v3-delete-tunnel
       clean)
for name in "${NAMES[@]}"; do
  line=$(grep -a "@@MARK result $name " "$WORK/console.log" | tail -1 | sed "s/.*@@MARK result $name \(.*\)@@.*/\1/" | tr -d '\r' || true)
  if [[ -z $line ]]; then check "$name" fail "no result from the VM"; continue; fi
  check "$name" "${line%% *}" "${line#* }"
done

# ---- tshark on the captures (case 5).
has() { grep -q "^$1 $2 " <<<"$PPP_DECODED"; }
# tshark_case NAME PCAP L2TP_MESSAGES PPP_CODES: the messages ("N:NAME") and
# PPP codes ("lcp:1") that must have been decoded.
tshark_case() {
  local name=$1 pcap=$2 msgs=$3 codes=$4 m missing=()
  if [[ ! -s $pcap ]]; then
    check "tshark-$name-l2tp" fail "no capture came back from the VM"
    check "tshark-$name-ppp" fail "no capture came back from the VM"
    return
  fi
  ppp_tshark_check "$pcap" 1701
  echo "==== tshark, $name (kind value count)"
  echo "$PPP_DECODED" | sed 's/^/  /'
  for m in $msgs; do has l2tp-msg "${m%%:*}" || missing+=("${m#*:}"); done
  if [[ ${#missing[@]} -eq 0 ]]; then
    check "tshark-$name-l2tp" ok "$(tr ' ' '\n' <<<"$msgs" | cut -d: -f2 | tr '\n' ' ')decoded ($(grep -c . <<<"$PPP_DECODED") kinds)"
  else
    check "tshark-$name-l2tp" fail "not decoded: ${missing[*]}"
  fi
  missing=()
  for m in $codes; do has "${m%%:*}" "${m#*:}" || missing+=("$m"); done
  if [[ ${#missing[@]} -eq 0 ]]; then
    check "tshark-$name-ppp" ok "$codes decoded inside L2TP data messages"
  else
    check "tshark-$name-ppp" fail "not decoded: ${missing[*]}"
  fi
}
V2_MSGS="1:SCCRQ 2:SCCRP 3:SCCCN 4:StopCCN 10:ICRQ 11:ICRP 12:ICCN 14:CDN"
tshark_case lac "$WORK/vm/lac.pcap" "$V2_MSGS" \
  "lcp:1 lcp:2 chap:1 chap:2 chap:3 chap:4 ipcp:1 ipcp:2 icmp-in-ppp:8 icmp-in-ppp:0"
if [[ -s $WORK/vm/lac.pcap ]]; then
  echo "==== tshark, lac: control messages and PPP negotiation (first 60)"
  { ppp_tshark_summary "$WORK/vm/lac.pcap" 1701 || true; } | head -60 | sed 's/^/  /' || true
  echo "==== tshark, lac: the first CHAP Failure (the wrong password)"
  { ppp_tshark_detail "$WORK/vm/lac.pcap" 'chap.code == 4' 1701 || true; } | head -30 | sed 's/^/  /' || true
fi
tshark_case lns "$WORK/vm/lns.pcap" "$V2_MSGS" \
  "lcp:1 lcp:2 chap:1 chap:2 chap:3 ipcp:1 ipcp:2 icmp-in-ppp:8 icmp-in-ppp:0"
# L2TPv3 (case 3): the control messages, and PPP inside the data messages
# (Wireshark takes the pseudowire type from the ICRQ).
if [[ -s $WORK/vm/v3.pcap ]]; then
  ppp_tshark_check "$WORK/vm/v3.pcap" 1701
  echo "==== tshark, v3 (kind value count)"
  echo "$PPP_DECODED" | sed 's/^/  /'
  missing=()
  for m in 1:SCCRQ 2:SCCRP 3:SCCCN 4:StopCCN 10:ICRQ 11:ICRP 12:ICCN 14:CDN; do
    has l2tp-msg "${m%%:*}" || missing+=("${m#*:}")
  done
  if [[ ${#missing[@]} -eq 0 ]]; then
    check tshark-v3-l2tp ok "L2TPv3 SCCRQ SCCRP SCCCN ICRQ ICRP ICCN CDN StopCCN decoded"
  else
    check tshark-v3-l2tp fail "not decoded: ${missing[*]}"
  fi
  missing=()
  for m in lcp:1 lcp:2 chap:1 chap:2 chap:3 ipcp:1 ipcp:2 icmp-in-ppp:8 icmp-in-ppp:0; do
    has "${m%%:*}" "${m#*:}" || missing+=("$m")
  done
  if [[ ${#missing[@]} -eq 0 ]]; then
    check tshark-v3-ppp ok "LCP, CHAP, IPCP and ICMP decoded inside L2TPv3 data messages (PW type PPP from the ICRQ)"
  else
    check tshark-v3-ppp fail "not decoded: ${missing[*]}"
  fi
else
  check tshark-v3-l2tp fail "no capture came back from the VM"
  check tshark-v3-ppp fail "no capture came back from the VM"
fi

if [[ $VM_RC != 0 ]]; then
  echo "VM job failed ($VM_RC):"; tail -40 "$WORK/vm.out"
  FAILED=$((FAILED + 1)) TOTAL=$((TOTAL + 1))
fi
if ((FAILED)); then
  for f in lac1.log lns1.log pppd-lns1.log lns2.log lac2.log pppd-lac2.log v3lac.log v3lns.log; do
    [[ -f $WORK/vm/ap/$f ]] && { echo "---- $f (tail)"; grep -av '^xl2tpd\[[0-9]*\]: "' "$WORK/vm/ap/$f" | tail -25; }
  done
fi
echo "agent PPP: $((SECONDS - t_start)) s in all"
echo "$((TOTAL - FAILED)) passed, $FAILED failed"
[[ $FAILED == 0 ]]
