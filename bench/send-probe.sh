#!/usr/bin/env bash
# Send-side experiments for the userspace datapath (issue 15): does zero-copy
# pay for its large UDP GSO sends, and can a packet socket replace the raw IP
# socket of L2TPv3/IP (with or without PACKET_VNET_HDR super-frames)? The
# sender is bench/send_probe.cc (`send-probe`); its header says what each
# mode does. One thread sends 1400-byte L2TPv3-shaped packets as fast as it
# can, $SECS s per mode:
#   gso       UDP GSO, 44 x 1400 bytes per sendmsg (what the datapath does)
#   gso-zc    the same with MSG_ZEROCOPY (16 buffers, reused after completion)
#   uring     the same GSO sends as io_uring SENDMSG (control for uring-zc)
#   uring-zc  io_uring SENDMSG_ZC, buffers reused after the notification
#   raw-ip    raw IPv4 socket, protocol 115, sendmmsg of 32 (what L2TPv3/IP
#             does today)
#   raw-hdrincl  the same with IP_HDRINCL (the probe writes the IPv4 header)
#   raw-uring the raw-ip packets as 32 io_uring SENDMSG per io_uring_enter
#   packet    AF_PACKET + PACKET_QDISC_BYPASS, whole Ethernet/IPv4/L2TP
#             frames, sendmmsg of 32
# $ROUNDS rounds, the modes in a rotated order each round (this machine's
# speed drifts from minute to minute): the table gives medians, each ratio is
# the median of that round's ratio to gso (mode 1) or raw-ip (mode 4); the
# zero-copy modes also get their ratio to their copying twin in the same
# round (gso-zc / gso, uring-zc / uring), the figure that decides.
#
# Then the PACKET_VNET_HDR probe: $VNET_COUNT 64 KiB L2TP/IP (protocol 115)
# super-frames per variant (send_probe.cc: no GSO, gso_type TCPV4 with and
# without NEEDS_CSUM, UDP_L4 with NEEDS_CSUM; and a real UDP super-frame as
# the control), with what sendmsg returned and what the counters saw.
#
# Network: two private namespaces joined by a veth (192.0.2.1 on veth-a,
# 192.0.2.2 on veth-b; scripts/lib/veth-pair.sh), a static neighbour entry
# for .2 in A. What arrives at veth-b is disposed of by DROP:
#   ingress   (default) an nftables netdev ingress chain on veth-b with
#             policy drop: frames die in __netif_receive_skb_core before any
#             protocol handler, so nothing on this machine copies zero-copy
#             pages: the nearest a veth gets to a frame leaving on a
#             physical wire for another host. Needs nft (apt nftables).
#   iptables  `iptables -t raw -A PREROUTING -j DROP` in B: frames enter
#             IPv4 and die at its first hook. (Still no copy of zero-copy
#             pages on 6.18: the copy for local receivers,
#             skb_orphan_frags_rx, is in ip_local_deliver_finish.)
#   local     no filter on the way in: frames are delivered locally in B to
#             UDP port 1701 / IP protocol 115, where no socket listens, and
#             freed there (the ICMP errors B would answer with are dropped by
#             `iptables -A OUTPUT -p icmp -j DROP`, so the sender never sees
#             ECONNREFUSED). Zero-copy pages are copied on the way in, as
#             when the peer is a local namespace (the datapath's own
#             benchmark).
# What crossed the wire is read from veth-b's sysfs counters (rx_packets,
# rx_bytes; veth counts at transmit, before the drop). L2TP packets
# delivered = (rx_bytes - rx_packets x headers) / 1400, headers = Ethernet +
# IPv4 (+ UDP): right both for single packets and for GSO super-frames that
# cross the veth whole. Gbit/s counts those packets with their headers
# (no preamble, no FCS). VETH_USO=on (default) leaves the veth's UDP
# segmentation offload on, so a GSO send crosses as one super-frame (as
# between namespaces); VETH_USO=off turns it off on veth-a, which then
# segments in software (a NIC without USO), and rx_packets counts packets.
#
# CPU: the sender process's run time (all its threads, schedstat) over its
# sending loop, per L2TP packet delivered, with getrusage's user/system split.
# A veth delivers in the sender's own softirq, so the receiving side's work
# (up to the drop) is inside that figure when it runs on return from the
# system call; what ksoftirqd did meanwhile is given separately. The load
# average is printed before each round: other jobs on the machine skew
# everything.
#
# Usage (root):
#   bench/send-probe.sh                   about 2 min (6 modes x 3 rounds x 5 s)
#   NICE=-10 ROUNDS=5 DROP=ingress VETH_USO=on bench/send-probe.sh    (the runs of record)
#   DROP=local VETH_USO=off bench/send-probe.sh
# Environment: BUILD_DIR (build/), PROBE (the send-probe binary), SECS (5),
#   ROUNDS (3), MODES ("gso gso-zc uring uring-zc raw-ip packet"), DROP
#   (ingress), VETH_USO (on), VNET_COUNT (20), NO_INSTALL=1 (never apt-get),
#   NICE (e.g. -10: the sender before other jobs on a busy machine),
#   CPU (pin the sender to this CPU with taskset; default: not pinned),
#   RESULTS (path prefix: keep the raw JSON lines as PREFIX.jsonl and
#   PREFIX.vnet.jsonl).
# Every loop is bounded: each send-probe run by SECS (plus at most 1 s of
# collecting completions) under a watchdog. Removes its namespaces on exit.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
CMDLINE="$0 $*"
[[ $(id -u) -eq 0 ]] || { echo "send-probe.sh: needs root (namespaces)" >&2; exit 77; }

BUILD_DIR=${BUILD_DIR:-$ROOT/build}
PROBE=${PROBE:-$BUILD_DIR/bench/send-probe}
SECS=${SECS:-5}
ROUNDS=${ROUNDS:-3}
MODES=${MODES:-"gso gso-zc uring uring-zc raw-ip packet"}
DROP=${DROP:-ingress}
VETH_USO=${VETH_USO:-on}
VNET_COUNT=${VNET_COUNT:-20}
[[ $SECS =~ ^[1-9][0-9]*$ ]] || { echo "SECS must be a whole number of seconds" >&2; exit 2; }
[[ -x $PROBE ]] || { echo "send-probe.sh: $PROBE not built (cmake --build build --target send-probe)" >&2; exit 2; }
[[ $DROP =~ ^(ingress|iptables|local)$ ]] || { echo "DROP must be ingress, iptables or local" >&2; exit 2; }
[[ $VETH_USO == on || $VETH_USO == off ]] || { echo "VETH_USO must be on or off" >&2; exit 2; }
need=()
[[ $DROP == ingress ]] && ! command -v nft >/dev/null && need+=(nftables)
[[ $DROP != ingress ]] && ! command -v iptables >/dev/null && need+=(iptables)
command -v ethtool >/dev/null || need+=(ethtool)
if [[ ${#need[@]} -gt 0 ]]; then
  [[ ${NO_INSTALL:-} == 1 ]] && { echo "send-probe.sh: missing ${need[*]}" >&2; exit 77; }
  echo "send-probe.sh: installing ${need[*]}" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
PY=/usr/bin/python3  # not a version-manager shim: no startup cost
[[ -n ${NICE:-} ]] && renice -n "$NICE" -p $$ >/dev/null
PIN=()
[[ -n ${CPU:-} ]] && PIN=(taskset -c "$CPU")
[[ -x $PY ]] || PY=$(command -v python3)

NS_A=l2tp-sp-a-$$
NS_B=l2tp-sp-b-$$
RUN=$(mktemp -d /tmp/l2tp-send-probe-XXXXXX)
RES=$RUN/results.jsonl
cleanup() {
  ip netns del "$NS_A" 2>/dev/null || true
  ip netns del "$NS_B" 2>/dev/null || true
  rm -rf "$RUN"
}
trap cleanup EXIT
source "$ROOT/scripts/lib/veth-pair.sh"
veth_pair "$NS_A" "$NS_B" 192.0.2
MAC_B=$(ip netns exec "$NS_B" cat /sys/class/net/veth-b/address)
# Static: B drops everything, ARP requests included.
ip -n "$NS_A" neigh replace 192.0.2.2 lladdr "$MAC_B" dev veth-a nud permanent
ip netns exec "$NS_A" ethtool -K veth-a tx-udp-segmentation "$VETH_USO" >/dev/null
if [[ $DROP == ingress ]]; then
  ip netns exec "$NS_B" nft -f - <<'EOF'
table netdev send_probe {
  chain in {
    type filter hook ingress device "veth-b" priority -500; policy drop;
  }
}
EOF
elif [[ $DROP == iptables ]]; then
  ip netns exec "$NS_B" iptables -t raw -A PREROUTING -j DROP
else
  ip netns exec "$NS_B" iptables -A OUTPUT -p icmp -j DROP
fi

# "rx_packets rx_bytes" of veth-b; "tx_packets tx_dropped" of veth-a.
counters_b() { ip netns exec "$NS_B" sh -c 'cd /sys/class/net/veth-b/statistics && echo $(cat rx_packets rx_bytes)'; }
counters_a() { ip netns exec "$NS_A" sh -c 'cd /sys/class/net/veth-a/statistics && echo $(cat tx_packets tx_dropped)'; }
KSOFTIRQD=()
for p in /proc/[0-9]*; do
  [[ $(cat "$p/comm" 2>/dev/null) == ksoftirqd/* ]] && KSOFTIRQD+=("${p#/proc/}")
done
ksoftirqd_ns() {
  local t=0 ns _
  for pid in "${KSOFTIRQD[@]}"; do read -r ns _ <"/proc/$pid/schedstat" && t=$((t + ns)); done
  echo "$t"
}
# Busy jiffies of all CPUs (everything but idle and iowait).
busy_ticks() { awk '/^cpu /{print $2+$3+$4+$7+$8+$9}' /proc/stat; }

# run_one ROUND MODE: one send-probe run and the counters around it, one
# JSON line appended to $RES.
run_one() {
  local round=$1 mode=$2 b0 b1 a0 a1 k0 k1 c0 c1 out
  b0=$(counters_b) a0=$(counters_a) k0=$(ksoftirqd_ns) c0=$(busy_ticks)
  out=$(timeout $((SECS + 20)) ip netns exec "$NS_A" "${PIN[@]}" "$PROBE" send "$mode" "$SECS" 192.0.2.1 192.0.2.2 \
    veth-a "$MAC_B") || true
  b1=$(counters_b) a1=$(counters_a) k1=$(ksoftirqd_ns) c1=$(busy_ticks)
  [[ -n $out ]] || out='{"mode":"'$mode'","error":"send-probe failed or timed out"}'
  read -r rp0 rb0 <<<"$b0"; read -r rp1 rb1 <<<"$b1"
  read -r tp0 td0 <<<"$a0"; read -r tp1 td1 <<<"$a1"
  echo "$out" | "$PY" -c '
import json, sys
r = json.loads(sys.stdin.read())
r.update(round=int(sys.argv[1]), rx_packets=int(sys.argv[2]), rx_bytes=int(sys.argv[3]),
         tx_packets_a=int(sys.argv[4]), tx_dropped_a=int(sys.argv[5]), ksoftirqd_ns=int(sys.argv[6]),
         busy_ticks=int(sys.argv[7]), load=sys.argv[8])
print(json.dumps(r))' "$round" $((rp1 - rp0)) $((rb1 - rb0)) $((tp1 - tp0)) $((td1 - td0)) $((k1 - k0)) \
    $((c1 - c0)) "$(cut -d' ' -f1-3 /proc/loadavg)" >>"$RES"
  tail -n1 "$RES" | "$PY" -c '
import json, sys
r = json.loads(sys.stdin.read())
h = 14 + 20 + (8 if r["mode"] in ("gso", "gso-zc", "uring", "uring-zc") else 0)
d = (r.get("rx_bytes", 0) - r.get("rx_packets", 0) * h) / 1400 if r.get("rx_packets") else 0
s = r.get("seconds") or 1
print("  %-9s %7.3f Mpps  %6.3f us/pkt  %s" % (r["mode"], d / s / 1e6, r.get("cpu_ns", 0) / 1e3 / d if d else 0,
      r.get("error") or ""), file=sys.stderr)'
}

echo "send-probe.sh: kernel $(uname -r), liburing $(dpkg-query -W -f='${Version}' liburing-dev 2>/dev/null || echo '?'), DROP=$DROP VETH_USO=$VETH_USO SECS=$SECS ROUNDS=$ROUNDS" >&2
ip netns exec "$NS_A" "$PROBE" check >&2
read -r -a MODE_LIST <<<"$MODES"
n=${#MODE_LIST[@]}
for round in $(seq 1 "$ROUNDS"); do
  echo "round $round, load average $(cut -d' ' -f1-3 /proc/loadavg)" >&2
  for i in $(seq 0 $((n - 1))); do
    run_one "$round" "${MODE_LIST[$(((i + round - 1) % n))]}"
  done
done

# Where B's IPv4 disposed of what it got (local delivery shows as InDelivers
# and NoPorts / UnknownProtos).
echo "namespace B, IPv4 counters after the rounds:" $(ip netns exec "$NS_B" nstat -asz IpInReceives \
  IpInDelivers UdpNoPorts IpInUnknownProtos UdpInErrors 2>/dev/null | awk 'NR > 1 {print $1 "=" $2}') >&2

# The PACKET_VNET_HDR probe: one line per variant.
VNET=$RUN/vnet.jsonl
for v in l2tpip-nogso l2tpip-tcpv4 l2tpip-tcpv4-csum l2tpip-udpl4-csum udp-udpl4-csum "l2tpip-udpl4-csum nobypass" \
  "udp-udpl4-csum nobypass"; do
  read -r variant extra <<<"$v"
  b0=$(counters_b) a0=$(counters_a)
  out=$(timeout 20 ip netns exec "$NS_A" "$PROBE" vnet "$variant" veth-a "$MAC_B" 192.0.2.1 192.0.2.2 \
    "$VNET_COUNT" $extra) || true
  b1=$(counters_b) a1=$(counters_a)
  read -r rp0 rb0 <<<"$b0"; read -r rp1 rb1 <<<"$b1"
  read -r tp0 td0 <<<"$a0"; read -r tp1 td1 <<<"$a1"
  [[ -n $out ]] || out='{"mode":"vnet:'$variant'","error":"send-probe failed"}'
  echo "$out" | "$PY" -c '
import json, sys
r = json.loads(sys.stdin.read())
r.update(rx_packets=int(sys.argv[1]), rx_bytes=int(sys.argv[2]), tx_packets_a=int(sys.argv[3]),
         tx_dropped_a=int(sys.argv[4]))
print(json.dumps(r))' $((rp1 - rp0)) $((rb1 - rb0)) $((tp1 - tp0)) $((td1 - td0)) >>"$VNET"
done

if [[ -n ${RESULTS:-} ]]; then cp "$RES" "$RESULTS.jsonl"; cp "$VNET" "$RESULTS.vnet.jsonl"; fi
"$PY" - "$RES" "$VNET" "$CMDLINE" "$DROP" "$VETH_USO" "$SECS" "$(getconf CLK_TCK)" <<'EOF'
import json, statistics, sys
res, vnet, cmd, drop, uso, secs, hz = sys.argv[1:8]
hz = int(hz)
rows = [json.loads(l) for l in open(res)]
UDP = ("gso", "gso-zc", "uring", "uring-zc")
def hdr(m): return 14 + 20 + (8 if m in UDP else 0)
def derive(r):
    m = r["mode"]
    s = r.get("seconds") or float(secs)
    d = (r["rx_bytes"] - r["rx_packets"] * hdr(m)) / 1400 if r.get("rx_packets") else 0
    r["delivered"] = d
    r["pps"] = d / s
    r["gbps"] = d * (hdr(m) + 1400) * 8 / s / 1e9
    r["cpu_us"] = r.get("cpu_ns", 0) / 1e3 / d if d else float("nan")
    r["soft_us"] = r.get("ksoftirqd_ns", 0) / 1e3 / d if d else float("nan")
    r["busy_us"] = r.get("busy_ticks", 0) / hz * 1e6 / d if d else float("nan")
    r["sys_share"] = r.get("stime_us", 0) / max(1, r.get("stime_us", 0) + r.get("utime_us", 0))
    r["skb_pps"] = r["rx_packets"] / s
for r in rows: derive(r)
modes = []
for r in rows:
    if r["mode"] not in modes: modes.append(r["mode"])
rounds = sorted({r["round"] for r in rows})
by = {(r["round"], r["mode"]): r for r in rows}
def med(v):
    v = [x for x in v if x == x]
    return statistics.median(v) if v else float("nan")
def rng(v):
    v = [x for x in v if x == x]
    return (min(v), max(v)) if v else (float("nan"), float("nan"))
def x(v): return "%.2f×" % v if v == v else "–"
def ratio(mode, ref, key):
    v = [by[(k, mode)][key] / by[(k, ref)][key] for k in rounds
         if (k, mode) in by and (k, ref) in by and by[(k, ref)][key]]
    return med(v)
print()
print("Command: `DROP=%s VETH_USO=%s SECS=%s %s` (%d rounds)" % (drop, uso, secs, cmd.strip(), len(rounds)))
print("Load average before each round: " + "; ".join(
    "%d: %s" % (k, next(r["load"] for r in rows if r["round"] == k)) for k in rounds))
print()
print("| mode | Mpps on the wire, median (range) | Gbit/s | sender CPU µs/packet, median (range) | ×gso pps | ×gso CPU/pkt | ×raw-ip pps | ×raw-ip CPU/pkt | zero-copy ×its copying twin, pps / CPU/pkt | sys share | ksoftirqd µs/pkt | all CPUs µs/pkt | veth skbs/s | zero-copy completions copied | errors |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
for m in modes:
    rs = [r for r in rows if r["mode"] == m]
    if any(r.get("error") for r in rs):
        print("| %s | – (%s) |" % (m, rs[0]["error"]) + " |" * 13)
        continue
    lo, hi = rng([r["pps"] for r in rs])
    clo, chi = rng([r["cpu_us"] for r in rs])
    zc = ""
    if m in ("gso-zc", "uring-zc"):
        zc = "%d of %d" % (sum(r["zc_copied_sends"] for r in rs), sum(r["zc_completed_sends"] for r in rs))
    errs = sum(r["errors"] for r in rs)
    e = "%d (%s)" % (errs, rs[0]["first_errno"] or next(r["first_errno"] for r in rs if r["first_errno"])) if errs else "0"
    twin = {"gso-zc": "gso", "uring-zc": "uring"}.get(m)
    tw = "%s / %s" % (x(ratio(m, twin, "pps")), x(ratio(m, twin, "cpu_us"))) if twin in modes else "–"
    td = sum(r["tx_dropped_a"] for r in rs)
    if td: e += ", veth-a tx_dropped %d" % td
    print("| %s | %.3f (%.3f–%.3f) | %.2f | %.3f (%.3f–%.3f) | %s | %s | %s | %s | %s | %.0f%% | %.3f | %.3f | %.0f k | %s | %s |" % (
        m, med([r["pps"] for r in rs]) / 1e6, lo / 1e6, hi / 1e6, med([r["gbps"] for r in rs]),
        med([r["cpu_us"] for r in rs]), clo, chi,
        x(ratio(m, "gso", "pps")), x(ratio(m, "gso", "cpu_us")), x(ratio(m, "raw-ip", "pps")),
        x(ratio(m, "raw-ip", "cpu_us")), tw,
        100 * med([r["sys_share"] for r in rs]), med([r["soft_us"] for r in rs]), med([r["busy_us"] for r in rs]),
        med([r["skb_pps"] for r in rs]) / 1e3, zc or "–", e))
print()
print("PACKET_VNET_HDR probe (64 KiB super-frames, gso_size 1400):")
print()
print("| variant | sent | accepted | sendmsg error | veth-b rx_packets / rx_bytes | veth-a tx_packets / tx_dropped |")
print("|---|---|---|---|---|---|")
for l in open(vnet):
    r = json.loads(l)
    print("| %s | %s | %s | %s | %s / %s | %s / %s |" % (
        r["mode"].split(":", 1)[1], r.get("calls", "–"), r.get("packets", "–"),
        r.get("first_errno") or r.get("error") or "none", r["rx_packets"], r["rx_bytes"],
        r["tx_packets_a"], r["tx_dropped_a"]))
EOF
