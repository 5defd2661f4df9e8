#!/usr/bin/env bash
# Interop with an independent decoder: Wireshark's L2TPv3 dissector (tshark)
# must decode the frames our userspace datapath sends as L2TPv3 carrying
# Ethernet, with the session ids, cookies and sublayer we configured.
#
#   tshark_decode_test.sh L2TP_USERSPACE_DRIVER
#
# Two namespaces joined by a veth, one l2tp-userspace-driver in each (reversed
# ids), pings across the pseudowire; one capture on the veth for all cases.
# Per case and direction: every L2TP data frame of the case decodes with the
# expected session id and cookie (and sublayer S bit / sequence numbers), the
# inner frame decodes as Ethernet carrying the ICMP echo requests or replies
# we sent, and decoding with a wrong cookie size does NOT find them (so the
# check is sensitive to the header layout).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
DRIVER=${1:-}
require_exec l2tp-userspace-driver "$DRIVER"
require tshark:tshark ip:iproute2 ping:iputils-ping

NS_A=l2tp-tsa-$$ NS_B=l2tp-tsb-$$
WORK=$(mktemp -d /tmp/l2tp-tshark-XXXXXX)
chmod 755 "$WORK"  # dumpcap may drop privileges to write the capture
PIDS=() CAP_PID=""
cleanup() {
  stop_pid "$CAP_PID"
  for p in "${PIDS[@]:-}"; do stop_pid "$p"; done
  ip netns del "$NS_A" 2>/dev/null || true
  ip netns del "$NS_B" 2>/dev/null || true
  if [[ ${KEEP_WORK:-0} == 1 ]]; then echo "work dir kept: $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

source "$INTEROP_DIR/../../scripts/lib/veth-pair.sh"
veth_pair "$NS_A" "$NS_B" 192.0.2 2001:db8:3

PCAP=$WORK/wire.pcap
ip netns exec "$NS_B" tshark -q -i veth-b -w "$PCAP" >"$WORK/capture.log" 2>&1 &
CAP_PID=$!
for _ in $(seq 1 100); do grep -q 'Capturing on' "$WORK/capture.log" 2>/dev/null && break; sleep 0.1; done
grep -q 'Capturing on' "$WORK/capture.log" || { echo "FAIL: capture did not start"; cat "$WORK/capture.log"; exit 1; }

wait_ready() { for _ in $(seq 1 50); do grep -q ready "$1" 2>/dev/null && return 0; sleep 0.1; done; return 1; }

# Cases: name af encap cookie_a cookie_b l2spec seq. Ids and ports per case i:
# A tunnel 10+i session 100+i port 20000+i; B tunnel 50+i session 500+i port 21000+i.
CASES=()
for encap in udp ip; do
  for ck in 0 4 8; do
    for l2 in default none; do CASES+=("v4-$encap-c$ck-$l2 4 $encap $ck $l2 -"); done
  done
done
CASES+=("v6-udp-c8-default 6 udp 8 default -" "v6-udp-c4-none 6 udp 4 none -"
        "v6-ip-c8-default 6 ip 8 default -" "v6-ip-c0-none 6 ip 0 none -"
        "v4-udp-c4-default-seq 4 udp 4 default seq" "v6-ip-c8-default-seq 6 ip 8 default seq")

cookie_hex() {  # cookie_hex SIZE SEED: distinct per case and direction
  case $1 in
    0) echo "" ;;
    4) printf '%02x%02x%02x%02x' "$2" $(($2 + 1)) $(($2 + 2)) $(($2 + 3)) ;;
    8) printf '%02x%02x%02x%02x%02x%02x%02x%02x' "$2" $(($2 + 1)) $(($2 + 2)) $(($2 + 3)) \
         $(($2 + 4)) $(($2 + 5)) $(($2 + 6)) $(($2 + 7)) ;;
  esac
}

i=0
for c in "${CASES[@]}"; do
  read -r name af encap ck l2 seq <<<"$c"
  i=$((i + 1))
  if [[ $af == 4 ]]; then la=192.0.2.1 lb=192.0.2.2; else la=2001:db8:3::1 lb=2001:db8:3::2; fi
  ca=$(cookie_hex "$ck" $((16 + i * 8)))
  cb=$(cookie_hex "$ck" $((160 + i * 4)))
  common=(--encap="$encap" --l2spec="$l2" --log=warning)
  [[ $seq == seq ]] && common+=(--send-seq)
  a=(--local=$la --remote=$lb --tunnel=$((10 + i)) --peer-tunnel=$((50 + i)) --session=$((100 + i))
     --peer-session=$((500 + i)) --sport=$((20000 + i)) --dport=$((21000 + i)) --ifname=tsa$i "${common[@]}")
  b=(--local=$lb --remote=$la --tunnel=$((50 + i)) --peer-tunnel=$((10 + i)) --session=$((500 + i))
     --peer-session=$((100 + i)) --sport=$((21000 + i)) --dport=$((20000 + i)) --ifname=tsb$i "${common[@]}")
  [[ -n $ca ]] && a+=(--cookie="$ca") && b+=(--peer-cookie="$ca")
  [[ -n $cb ]] && b+=(--cookie="$cb") && a+=(--peer-cookie="$cb")
  ip netns exec "$NS_A" "$DRIVER" "${a[@]}" >"$WORK/a$i.out" 2>&1 & pa=$!
  ip netns exec "$NS_B" "$DRIVER" "${b[@]}" >"$WORK/b$i.out" 2>&1 & pb=$!
  PIDS+=("$pa" "$pb")
  if wait_ready "$WORK/a$i.out" && wait_ready "$WORK/b$i.out"; then
    ip -n "$NS_A" addr add "10.98.$i.1/24" dev "tsa$i"
    ip -n "$NS_B" addr add "10.98.$i.2/24" dev "tsb$i"
    ip netns exec "$NS_A" ping -q -c 3 -i 0.2 -W 2 "10.98.$i.2" >/dev/null 2>&1 || echo "  (ping failed in $name)"
  else
    echo "  (drivers did not start in $name)"; cat "$WORK/a$i.out" "$WORK/b$i.out"
  fi
  stop_pid "$pa"; stop_pid "$pb"
  echo "$name $af $encap $ck $l2 $seq $i $ca $cb" >>"$WORK/cases"
done
sleep 0.5  # let the capture write the last frames
stop_pid "$CAP_PID"; CAP_PID=""

# decode COOKIE_PREF L2_PREF I FILTER: one tab-separated line per frame:
# sid cookie l2spec-present S-bit sequence version type icmp.type
decode() {
  local cookie_pref=$1 l2_pref=$2 i=$3 filter=$4
  tshark -r "$PCAP" -o "l2tp.cookie_size:$cookie_pref" -o "l2tp.l2_specific:$l2_pref" \
    -d "l2tp.pw_type==0,eth" -d "udp.port==$((20000 + i)),l2tp" -d "udp.port==$((21000 + i)),l2tp" \
    -Y "$filter" -T fields -E occurrence=f \
    -e l2tp.sid -e l2tp.cookie -e l2tp.l2_spec_def -e l2tp.l2_spec_s -e l2tp.l2_spec_sequence \
    -e l2tp.version -e l2tp.type -e icmp.type 2>/dev/null
}
cookie_pref() { case $1 in 0) echo None ;; 4) echo "4 Byte Cookie" ;; 8) echo "8 Byte Cookie" ;; esac; }

FAILED=0
while read -r name af encap ck l2 seq i ca cb; do
  [[ $l2 == default ]] && l2p="Default L2-Specific" || l2p=None
  problems=()
  for dir in ab ba; do
    if [[ $dir == ab ]]; then
      src=$([[ $af == 4 ]] && echo 192.0.2.1 || echo 2001:db8:3::1); sid=$((500 + i)); cookie=$ca icmp=8
    else
      src=$([[ $af == 4 ]] && echo 192.0.2.2 || echo 2001:db8:3::2); sid=$((100 + i)); cookie=$cb icmp=0
    fi
    # "#1": the outermost header only; ICMP errors quoting one of our packets
    # (sent while a driver was stopping) are left out.
    if [[ $af == 4 ]]; then f="ip.src#1 == $src && !(icmp.type#1 == 3)"; nxt="ip.proto#1 == 115"
    else f="ipv6.src#1 == $src && !(icmpv6.type#1 < 128)"; nxt="ipv6.nxt#1 == 115"; fi
    if [[ $encap == udp ]]; then f="$f && (udp.srcport#1 == $((20000 + i)) || udp.srcport#1 == $((21000 + i)))"
    else f="$f && $nxt && l2tp.sid == $sid"; fi
    decode "$(cookie_pref "$ck")" "$l2p" "$i" "$f" >"$WORK/d$i-$dir"
    frames=$(wc -l <"$WORK/d$i-$dir")
    ((frames >= 3)) || { problems+=("$dir: only $frames L2TP frames"); continue; }
    # Every frame: our session id and cookie; UDP frames say version 3.
    want_sid=$(printf '0x%08x' "$sid")
    bad=$(awk -F'\t' -v s="$want_sid" '$1 != s' "$WORK/d$i-$dir" | head -2)
    [[ -z $bad ]] || problems+=("$dir: session id not $want_sid: $bad")
    if [[ -n $cookie ]]; then
      bad=$(awk -F'\t' -v c="$cookie" 'tolower($2) != c' "$WORK/d$i-$dir" | head -2)
      [[ -z $bad ]] || problems+=("$dir: cookie not $cookie: $bad")
    fi
    if [[ $encap == udp ]]; then
      # UDP: the first word says data message (T=0), version 3.
      bad=$(awk -F'\t' '$6 != 3 || $7 != 0' "$WORK/d$i-$dir" | head -2)
      [[ -z $bad ]] || problems+=("$dir: not an L2TPv3 data header: $bad")
    fi
    # ICMP echo requests (A->B) or replies (B->A) found inside as Ethernet.
    n_icmp=$(grep -c "	$icmp\$" "$WORK/d$i-$dir" || true)
    ((n_icmp >= 3)) || problems+=("$dir: $n_icmp ICMP type $icmp frames decoded inside (want 3)")
    if [[ $seq == seq ]]; then
      # S bit set and sequence numbers counting up by one per frame.
      nseq=$(awk -F'\t' 'prev != "" && $5 != prev + 1 {bad++} {prev = $5} $4 != "True" && $4 != "1" {bad++} END {print bad + 0}' "$WORK/d$i-$dir")
      ((nseq == 0)) || problems+=("$dir: S bit/sequence wrong in $nseq frames")
    fi
    # Sensitivity: a wrong cookie size shifts everything; echo frames vanish.
    case $ck in 0) wrong=4 ;; 4) wrong=8 ;; 8) wrong=4 ;; esac
    n_wrong=$(decode "$(cookie_pref "$wrong")" "$l2p" "$i" "$f" | grep -c "	$icmp\$" || true)
    ((n_wrong == 0)) || problems+=("$dir: still decodes with a ${wrong}-byte cookie")
  done
  if [[ ${#problems[@]} -eq 0 ]]; then
    printf 'ok   %-24s sid a->b %d b->a %d, cookies %s/%s, sublayer %s%s\n' "$name" $((500 + i)) $((100 + i)) \
      "${ca:-none}" "${cb:-none}" "$l2" "$([[ $seq == seq ]] && echo ", S bit + sequence")"
  else
    FAILED=$((FAILED + 1))
    printf 'FAIL %-24s %s\n' "$name" "$(IFS='; '; echo "${problems[*]}")"
    { head -3 "$WORK/d$i-ab" | sed 's/^/    decoded a->b: /'
      tshark -r "$PCAP" -o "l2tp.cookie_size:$(cookie_pref "$ck")" -o "l2tp.l2_specific:$l2p" \
        -d "udp.port==$((20000 + i)),l2tp" -d "udp.port==$((21000 + i)),l2tp" \
        -Y "l2tp.sid == $((500 + i)) || l2tp.sid == $((100 + i))" -x 2>/dev/null | sed 's/^/    /' | head -24; } || true
  fi
done <"$WORK/cases"
echo "$((${#CASES[@]} - FAILED))/${#CASES[@]} tshark decode cases passed"
[[ $FAILED == 0 ]]
