#!/usr/bin/env bash
# Datapath benchmark: in one run, on one veth pair between two network
# namespaces, compare
#   raw       the veth itself (no tunnel; underlay MTU 1500)
#   vxlan     kernel VXLAN over the veth (the in-kernel reference)
#   openvpn   OpenVPN 2.6 --dev tap over UDP, no crypto (what people use today
#             for a userspace L2 tunnel), one process per side
#   l2tp-udp  l2tp-agent --datapath=userspace, L2TPv3 over UDP (port 1701)
#   l2tp-ip   l2tp-agent --datapath=userspace, L2TPv3 over IP (protocol 115)
# each with its own overlay subnet (10.20N.0.1 in site A, .2 in site B) and the
# same overlay MTU ($OVERLAY_MTU, default 1400: fits every encapsulation in the
# 1500-byte underlay, so nobody fragments and TCP uses the same MSS in every
# tunnel). The l2tp-agents are the real binaries, configured with `l2tpctl
# apply` (4-byte cookies, default L2-specific sublayer, as in the demo).
#
# Measurements, per contender, iperf3 from site A (client) to site B (server):
#   TCP 1 stream and TCP 4 streams (-P 4): received Gbit/s over $SECS s. The
#     single stream is measured $ROUNDS times (all contenders in turn, then
#     again): the table gives the median, its ratio is the median of each
#     round's ratio to VXLAN in that round, and the range follows.
#   UDP 64-byte frames: iperf3 -u -l 18 -b 0 (unlimited). 18 bytes of UDP
#     payload + 8 UDP + 20 IPv4 + 14 Ethernet = a 60-byte frame on the overlay,
#     64 bytes with the FCS that a real wire would add: the minimum Ethernet
#     frame. Reported: packets/s received by iperf3 (sent minus lost) and loss.
#     iperf3 -w $UDP_SOCKBUF (default 4M, capped by net.core.rmem_max) so the
#     single-threaded receiving iperf3 loses fewer bursts in its socket buffer;
#     it, not the tunnel, is often what limits this figure.
#   CPU per packet at a fixed rate: the same 64-byte frames paced at $CPU_RATE
#     packets/s (default 50 kpps). Over a $SECS-s window in the middle of the
#     run we add up the exact run time (/proc/PID/task/*/schedstat) of every
#     task that does work for the packets: both iperf3 processes, the
#     contender's forwarding processes (l2tp-agent or openvpn, all threads;
#     none for raw and vxlan) and the ksoftirqd threads; and divide by the
#     frames delivered in that window (iperf3's delivered rate, sent minus
#     lost over the whole steady run, times the window's length; device
#     counters would count a coalesced GSO frame once). With tick-based
#     CPU accounting (CONFIG_IRQ_TIME_ACCOUNTING unset, as on the machine this
#     was written on) softirq work (the whole kernel VXLAN and veth path, the
#     TAP's receive path) is charged to the task in whose syscall it runs, so
#     it is inside these sums; with IRQ_TIME_ACCOUNTING=y the script adds the
#     system-wide irq+softirq time instead (printed in the output). Every contender is measured by the same rule, so the
#     figures compare the full cost of moving a packet from one application
#     to the other; "fwd" is the forwarding processes' share alone. The
#     system-wide /proc/stat figure is printed as a cross-check; it is only
#     meaningful on an otherwise idle machine, the task sums are not disturbed
#     by unrelated load (beyond cache and scheduling effects).
#   Forwarder CPU at iperf3's maximum rate: during the unlimited 64-byte run,
#     each side's forwarder run time per frame entering the tunnel (the frames
#     the forwarder took from A's overlay device, its tx_packets; B's
#     counters would count a GSO batch once). iperf3 sends from one thread, a
#     datagram per system call, so this is a busy forwarder, not a saturated
#     one: how big its batches get depends on how the 2 CPUs are shared.
#   Forwarder capacity ("Mpps per core"): bench/udp_flood.cc offers the same
#     64-byte frames (sendmmsg, $FLOOD_THREADS thread(s)) faster than the
#     forwarder can take them, so frames are always waiting on A's overlay
#     device (its queue overflows: "offered" vs "taken"); a sink in site B
#     counts what arrives. Each side's forwarder run time per frame taken at
#     A; 1/(the larger) is how many frames per second one core forwards.
#     $ROUNDS rounds as for TCP: the median round, and the range.
#   Ping round trip: $PINGS (300) echo requests 10 ms apart through the
#     tunnel, min, median, average and 99th percentile in µs (each request
#     finds the forwarders idle).
#   Idle: the l2tp-agents' CPU time and context switches over $IDLE_SECS s
#     with both sessions up and no traffic (no busy polling: should be ~0).
#
# Usage (root):
#   bench/datapath.sh            full run (about 6 minutes), Markdown table at the end
#   bench/datapath.sh --quick    smoke test (~35 s): every contender must pass
#                                traffic, the flood must reach the userspace
#                                forwarder and the idle agents must stay idle;
#                                exit 1 otherwise
# Environment: BUILD_DIR (default build/), AGENT, CTL, FLOOD, SECS (5), CPU_RATE (50000),
#   UDP_LEN (18), UDP_SOCKBUF (4M), OVERLAY_MTU (1400), IDLE_SECS (5), FLOOD_THREADS (1), ROUNDS (3),
#   AGENT_IO (auto: the agents' --userspace-io), AGENT_EXTRA (more agent flags), PINGS (300), PERF_DIR (perf record, see perf_capture),
#   CONTENDERS ("raw vxlan
#   openvpn l2tp-udp l2tp-ip"), OVPN_EXTRA (extra openvpn flags), NO_INSTALL=1,
#   NICE (e.g. -10: the benchmark's processes before others on a busy machine).
# Missing iperf3/openvpn are installed with apt (not in --quick: exit 77).
#
# Network: only the veth (192.0.2.1/2, via scripts/lib/two-sites.sh) and the
# tunnel devices created here inside two private namespaces; removed on exit.
# Every traffic run is bounded by iperf3 -t and a watchdog.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
CMDLINE="$0 $*"
QUICK=false
[[ ${1:-} == --quick ]] && QUICK=true
[[ $(id -u) -eq 0 ]] || { echo "datapath.sh: needs root (namespaces, TAP devices)" >&2; exit 77; }

if $QUICK; then
  SECS=${SECS:-1}; IDLE_SECS=${IDLE_SECS:-2}
else
  SECS=${SECS:-5}; IDLE_SECS=${IDLE_SECS:-5}
fi
CPU_RATE=${CPU_RATE:-50000}
UDP_LEN=${UDP_LEN:-18}
UDP_SOCKBUF=${UDP_SOCKBUF:-4M}
OVERLAY_MTU=${OVERLAY_MTU:-1400}
CONTENDERS=${CONTENDERS:-"raw vxlan openvpn l2tp-udp l2tp-ip"}
BUILD_DIR=${BUILD_DIR:-$ROOT/build}
AGENT=${AGENT:-$BUILD_DIR/agent/l2tp-agent}
CTL=${CTL:-$BUILD_DIR/client/l2tpctl}
FLOOD=${FLOOD:-$BUILD_DIR/bench/udp-flood}
FLOOD_THREADS=${FLOOD_THREADS:-1}
ROUNDS=${ROUNDS:-3}
AGENT_IO=${AGENT_IO:-auto}  # the agents' --userspace-io
FLOOD_PORT=9999
SAMPLER=$ROOT/bench/cpu_sample.py
PORT=5201
PINGS=${PINGS:-300}

need=()
for tool in iperf3 openvpn jq python3; do command -v "$tool" >/dev/null || need+=("$tool"); done
if [[ ${#need[@]} -gt 0 ]]; then
  if $QUICK || [[ ${NO_INSTALL:-} == 1 ]]; then
    echo "datapath.sh: missing ${need[*]} (scripts/setup.sh installs them)" >&2; exit 77
  fi
  echo "datapath.sh: installing ${need[*]}" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
# The system's interpreter: a version-manager shim (pyenv) costs 100s of ms
# per call, which would stretch the sampling windows.
PY=/usr/bin/python3
[[ -x $PY ]] || PY=$(command -v python3)
for bin in "$AGENT" "$CTL" "$FLOOD"; do
  [[ -x $bin ]] || { echo "datapath.sh: $bin not built (scripts/build.sh, or set BUILD_DIR)" >&2; exit 2; }
done

# NICE=-10 (say): this script and everything it starts (agents, openvpn,
# iperf3, the samplers) get priority over unrelated load on a busy machine;
# kernel threads (ksoftirqd) are left alone. Default: unchanged.
[[ -n ${NICE:-} ]] && renice -n "$NICE" -p $$ >/dev/null
RUN=$(mktemp -d /tmp/l2tp-bench-XXXXXX)
RES=$RUN/results
: >"$RES"
source "$ROOT/scripts/lib/two-sites.sh"
OVPN_PIDS=()
BG_PIDS=()
cleanup() {
  for pid in "${BG_PIDS[@]:-}" "${OVPN_PIDS[@]:-}"; do [[ -n $pid ]] && kill "$pid" 2>/dev/null || true; done
  for pid in "${BG_PIDS[@]:-}" "${OVPN_PIDS[@]:-}"; do
    [[ -n $pid ]] && timeout 5 tail --pid="$pid" -f /dev/null 2>/dev/null || true
  done
  sites_down
  [[ -n ${KEEP_RUN:-} ]] || rm -rf "$RUN"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log() { printf '%s  %s\n' "$(date -u +%T)" "$*" >&2; }
record() { echo "$1 $2 $3" >>"$RES"; }  # contender metric value
FAILED=()
fail() { log "FAIL: $*"; FAILED+=("$*"); }

# ---- the contenders' set-up ------------------------------------------------
declare -A ADDR_A ADDR_B DEV_A DEV_B FWD
sites_up
ip -n "$NS_A" link set veth-a txqueuelen 1000
ADDR_A[raw]=192.0.2.1 ADDR_B[raw]=192.0.2.2 DEV_A[raw]=veth-a DEV_B[raw]=veth-b FWD[raw]=""

setup_vxlan() {
  ip -n "$NS_A" link add vx0 mtu "$OVERLAY_MTU" type vxlan id 42 local 192.0.2.1 remote 192.0.2.2 dstport 4789
  ip -n "$NS_B" link add vx0 mtu "$OVERLAY_MTU" type vxlan id 42 local 192.0.2.2 remote 192.0.2.1 dstport 4789
  ip -n "$NS_A" addr add 10.201.0.1/24 dev vx0; ip -n "$NS_B" addr add 10.201.0.2/24 dev vx0
  ip -n "$NS_A" link set vx0 up; ip -n "$NS_B" link set vx0 up
  ADDR_A[vxlan]=10.201.0.1 ADDR_B[vxlan]=10.201.0.2 DEV_A[vxlan]=vx0 DEV_B[vxlan]=vx0 FWD[vxlan]=""
}

setup_openvpn() {
  # OpenVPN 2.6.14 (Debian 12) accepts --cipher none --auth none in p2p mode
  # without --secret or TLS (warning that 2.7 drops TLS-less mode);
  # --data-ciphers only applies to TLS negotiation. DCO does not do tap.
  local side ns l r ip pid
  for side in a b; do
    if [[ $side == a ]]; then ns=$NS_A l=192.0.2.1 r=192.0.2.2 ip=10.203.0.1; else ns=$NS_B l=192.0.2.2 r=192.0.2.1 ip=10.203.0.2; fi
    # shellcheck disable=SC2086
    ip netns exec "$ns" openvpn --dev ovpn0 --dev-type tap --proto udp \
      --local "$l" --lport 1194 --remote "$r" --rport 1194 \
      --ifconfig "$ip" 255.255.255.0 --tun-mtu "$OVERLAY_MTU" --mssfix 0 \
      --cipher none --auth none --disable-dco --verb 1 ${OVPN_EXTRA:-} >"$RUN/openvpn-$side.log" 2>&1 &
    pid=$!
    OVPN_PIDS+=("$pid")
    FWD_OVPN+="fwd_$side=$pid "
  done
  for _ in $(seq 50); do
    ip -n "$NS_A" addr show dev ovpn0 2>/dev/null | grep -q 10.203.0.1 &&
      ip -n "$NS_B" addr show dev ovpn0 2>/dev/null | grep -q 10.203.0.2 && break
    sleep 0.1
  done
  ADDR_A[openvpn]=10.203.0.1 ADDR_B[openvpn]=10.203.0.2 DEV_A[openvpn]=ovpn0 DEV_B[openvpn]=ovpn0
  FWD[openvpn]=$FWD_OVPN
}

setup_l2tp() {
  local side me peer l r
  for side in a b; do
    if [[ $side == a ]]; then me=1 peer=2 l=192.0.2.1 r=192.0.2.2; else me=2 peer=1 l=192.0.2.2 r=192.0.2.1; fi
    cat >"$RUN/site-$side.yaml" <<EOF
tunnels:
  - name: bench-udp
    spec: {tunnelId: ${me}00, peerTunnelId: ${peer}00, encap: ENCAPSULATION_UDP, local: $l, remote: $r}
  - name: bench-ip
    spec: {tunnelId: ${me}01, peerTunnelId: ${peer}01, encap: ENCAPSULATION_IP, local: $l, remote: $r}
sessions:
  - name: pw-udp
    spec: {tunnel: bench-udp, sessionId: ${me}001, peerSessionId: ${peer}001, interfaceName: l2tpu0,
           cookie: "0x1122334${me}", peerCookie: "0x1122334${peer}", mtu: $OVERLAY_MTU}
  - name: pw-ip
    spec: {tunnel: bench-ip, sessionId: ${me}002, peerSessionId: ${peer}002, interfaceName: l2tpi0,
           cookie: "0x5566778${me}", peerCookie: "0x5566778${peer}", mtu: $OVERLAY_MTU}
EOF
    # The agent's default resync interval (two-sites.sh asks for 1 s).
    # shellcheck disable=SC2086
    start_site_agent "$side" --datapath=userspace --userspace-io="$AGENT_IO" --resync-interval=10s --log-level=warning \
      ${AGENT_EXTRA:-}
  done
  ctl_a apply -f "$RUN/site-a.yaml" >/dev/null
  ctl_b apply -f "$RUN/site-b.yaml" >/dev/null
  local s
  for _ in $(seq 100); do
    s=0
    for site in a b; do for pw in pw-udp pw-ip; do session_ready "$site" "$pw" && s=$((s + 1)); done; done
    [[ $s == 4 ]] && break
    sleep 0.1
  done
  [[ $s == 4 ]] || { fail "l2tp sessions not READY"; ctl_a get sessions -o wide >&2 || true; }
  AGENT_IO_USED=$(ctl_a info -o json | jq -r '[.capabilities[] | select(startswith("io/") or startswith("tx/") or startswith("rx/"))] | join(", ")')
  ip -n "$NS_A" addr add 10.204.0.1/24 dev l2tpu0; ip -n "$NS_B" addr add 10.204.0.2/24 dev l2tpu0
  ip -n "$NS_A" addr add 10.205.0.1/24 dev l2tpi0; ip -n "$NS_B" addr add 10.205.0.2/24 dev l2tpi0
  local fwd="fwd_a=${SITE_PIDS[0]} fwd_b=${SITE_PIDS[1]}"
  ADDR_A[l2tp-udp]=10.204.0.1 ADDR_B[l2tp-udp]=10.204.0.2 DEV_A[l2tp-udp]=l2tpu0 DEV_B[l2tp-udp]=l2tpu0 FWD[l2tp-udp]=$fwd
  ADDR_A[l2tp-ip]=10.205.0.1 ADDR_B[l2tp-ip]=10.205.0.2 DEV_A[l2tp-ip]=l2tpi0 DEV_B[l2tp-ip]=l2tpi0 FWD[l2tp-ip]=$fwd
}

FWD_OVPN=""
AGENT_IO_USED=""
[[ " $CONTENDERS " == *" vxlan "* ]] && setup_vxlan
[[ " $CONTENDERS " == *" openvpn "* ]] && setup_openvpn
[[ " $CONTENDERS " == *" l2tp-"* ]] && setup_l2tp

# ---- measuring --------------------------------------------------------------
now() { date +%s.%N; }
# Frames entering the tunnel: what the kernel queued on A's overlay device
# (tx_packets) for the forwarder to take. (B's devices count a GSO batch as
# one packet, so both sides' costs are per frame entering at A.)
dev_packets() { ip -n "$1" -s -j link show dev "$2" | jq ".[0].stats64.$3.packets"; }
sample() {  # sample CONTENDER -> "CPU-JSON A-TX-PACKETS TIME"
  # shellcheck disable=SC2086
  local cpu; cpu=$("$PY" "$SAMPLER" "$NS_A" "$NS_B" -- ${FWD[$1]})
  echo "$cpu $(dev_packets "$NS_A" "${DEV_A[$1]}" tx) $(now)"
}

start_server() {  # start_server ADDR: persistent iperf3 server in site B
  ip netns exec "$NS_B" iperf3 -s -B "$1" -p "$PORT" >"$RUN/server.log" 2>&1 &
  SERVER=$!
  BG_PIDS+=("$SERVER")
  for _ in $(seq 50); do
    ip netns exec "$NS_B" ss -Hltn "sport = :$PORT" | grep -q . && return 0
    sleep 0.1
  done
  fail "iperf3 server on $1 did not start"
}
stop_server() { kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; }

# run_client SECONDS-BOUND OUT ARGS...: iperf3 client in site A, in the
# background (CLIENT=pid); wait_client kills it if it overruns the bound.
run_client() {
  local bound=$1 out=$2; shift 2
  ip netns exec "$NS_A" iperf3 -p "$PORT" --connect-timeout 3000 -J "$@" >"$out" 2>"$out.err" &
  CLIENT=$!
  CLIENT_DEADLINE=$(($(date +%s) + bound))
}
wait_client() {
  while kill -0 "$CLIENT" 2>/dev/null; do
    if (($(date +%s) > CLIENT_DEADLINE)); then kill "$CLIENT" 2>/dev/null || true; log "iperf3 client overran"; fi
    sleep 0.1
  done
  wait "$CLIENT" 2>/dev/null || true
}
json() { "$PY" -c "import json,sys
try:
  d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))
except Exception: print('')" "$@"; }

tcp_test() {  # tcp_test CONTENDER STREAMS METRIC
  local c=$1 out=$RUN/$1-$3.json
  start_server "${ADDR_B[$c]}"
  run_client $((SECS + 20)) "$out" -c "${ADDR_B[$c]}" -B "${ADDR_A[$c]}" -t "$SECS" -P "$2"
  [[ $3 == tcp1_r1 ]] && perf_capture "$c" tcp1
  wait_client
  stop_server
  local gbps; gbps=$(json "$out" '"%.3f" % (d["end"]["sum_received"]["bits_per_second"]/1e9)')
  record "$c" "$3" "${gbps:-0}"
  record "$c" "$3_retr" "$(json "$out" 'd["end"]["sum_sent"].get("retransmits", 0)')"
  log "$c: TCP -P $2: ${gbps:-FAILED} Gbit/s"
  [[ -n $gbps && $gbps != 0.000 ]] || fail "$c: no TCP traffic ($(head -c 300 "$out.err" "$out" 2>/dev/null | tr '\n' ' '))"
}

# sample_window CONTENDER LOAD_PID NAME: once the load has run 1.5 s, samples
# (CPU, frames) at the start and the end of a SECS-s window, into
# $RUN/CONTENDER-NAME.s0 and .s1; the load must still run at the end.
sample_window() {
  local c=$1 pid=$2 name=$3
  sleep 1.5
  sample "$c" >"$RUN/$c-$name.s0"
  sleep "$SECS"
  sample "$c" >"$RUN/$c-$name.s1"
  kill -0 "$pid" 2>/dev/null || fail "$c: the $name load ended before the end of the sampling window (machine overloaded?)"
}

# udp_window CONTENDER PREFIX RATE: 64-byte UDP for SECS+2 s; the middle SECS
# seconds are sampled (CPU, delivered frames).
udp_window() {
  local c=$1 p=$2 rate=$3 out=$RUN/$1-$2.json
  start_server "${ADDR_B[$c]}"
  run_client $((SECS + 25)) "$out" -c "${ADDR_B[$c]}" -B "${ADDR_A[$c]}" -u -l "$UDP_LEN" -b "$rate" -w "$UDP_SOCKBUF" -t $((SECS + 6))
  sample_window "$c" "$CLIENT" "$p"
  wait_client
  stop_server
  "$PY" - "$c" "$p" "$out" "$RUN/$c-$p.s0" "$RUN/$c-$p.s1" >>"$RES" <<'EOF'
import json, sys
import os
c, p, out, f0, f1 = sys.argv[1:]
def parse(f):
    line = open(f).read().split()
    return json.loads(line[0]), int(line[1]), float(line[2])
(a, atx0, t0), (b, atx1, t1) = parse(f0), parse(f1)
secs = t1 - t0
print(c, p + "_handled", atx1 - atx0)
# Frames delivered: iperf3's count (sent - lost) over the whole run, as a
# rate; the window lies inside that steady run. (The overlay device's own
# counter would count a coalesced GSO frame once.)
try:
    s = json.load(open(out))["end"]["sum"]
    pps = (s["packets"] - s["lost_packets"]) / s["seconds"]
    print(c, p + "_iperf_pps", pps)
    print(c, p + "_loss_pct", s["lost_percent"])
except Exception:
    pps = 0
    print(c, p + "_iperf_pps", 0)
pkts = pps * secs
print(c, p + "_win_pkts", pkts)
d = {k: b[k] - a[k] for k in b if k in a and k != "clk_tck"}
fwd = sum(v for k, v in d.items() if k.startswith("fwd_"))
tasks = d["iperf3"] + d["ksoftirqd"] + fwd
if os.environ.get("IRQ_TIME") == "1":
    tasks += d["irq_jiffies"] * 1e9 / b["clk_tck"]
print(c, p + "_tasks_ns", tasks)
print(c, p + "_fwd_ns", fwd)
for side in ("a", "b"):
    print(c, p + "_fwd_" + side + "_ns", d.get("fwd_" + side, 0))
busy_s = d["sys_busy_jiffies"] / b["clk_tck"]
print(c, p + "_sys_ns", busy_s * 1e9)
print(c, p + "_sys_frac", d["sys_busy_jiffies"] / max(1, d["sys_total_jiffies"]))
print(c, p + "_secs", secs)
EOF
  local pps; pps=$(awk -v c="$c" -v k="${p}_iperf_pps" '$1==c && $2==k {printf "%.0f", $3}' "$RES")
  log "$c: UDP $((UDP_LEN + 42))-byte frames ($p, -b $rate): ${pps:-0} delivered/s"
  [[ ${pps:-0} -gt 0 ]] || fail "$c: no UDP frames delivered"
}

# flood_window CONTENDER ROUND: frames offered faster than the forwarder takes
# them for SECS+3 s; the middle SECS seconds are sampled (forwarder CPU,
# frames taken). Recorded as flood_rROUND_*.
flood_window() {
  local c=$1 round=$2
  ip netns exec "$NS_B" "$FLOOD" sink "${ADDR_B[$c]}" "$FLOOD_PORT" $((SECS + 5)) >"$RUN/$c-sink.json" &
  local sink=$!
  BG_PIDS+=("$sink")
  sleep 0.3
  local before; before=$(dev_packets "$NS_A" "${DEV_A[$c]}" tx)
  ip netns exec "$NS_A" "$FLOOD" send "${ADDR_A[$c]}" "${ADDR_B[$c]}" "$FLOOD_PORT" $((SECS + 3)) \
    "$UDP_LEN" "$FLOOD_THREADS" >"$RUN/$c-flood.json" &
  local src=$!
  BG_PIDS+=("$src")
  [[ $round == 1 ]] && perf_capture "$c" flood
  sample_window "$c" "$src" flood
  timeout $((SECS + 10)) tail --pid="$src" -f /dev/null || kill "$src" 2>/dev/null || true
  timeout $((SECS + 10)) tail --pid="$sink" -f /dev/null || kill "$sink" 2>/dev/null || true
  local after; after=$(dev_packets "$NS_A" "${DEV_A[$c]}" tx)
  "$PY" - "$c" "$RUN/$c-flood.s0" "$RUN/$c-flood.s1" "$RUN/$c-flood.json" "$RUN/$c-sink.json" \
    "$before" "$after" "flood_r$round" >>"$RES" <<'EOF'
import json, sys
c, f0, f1, flood, sink, before, after, prefix = sys.argv[1:]
def parse(f):
    line = open(f).read().split()
    return json.loads(line[0]), int(line[1]), float(line[2])
(a, tx0, t0), (b, tx1, t1) = parse(f0), parse(f1)
taken = tx1 - tx0
print(c, prefix + "_taken", taken)
print(c, prefix + "_taken_pps", taken / (t1 - t0))
for side in ("a", "b"):
    print(c, prefix + "_fwd_" + side + "_ns", b.get("fwd_" + side, 0) - a.get("fwd_" + side, 0))
try:
    sent = json.load(open(flood))
    print(c, prefix + "_offered_pps", sent["sent"] / sent["seconds"])
    # Of all the frames the forwarder took during the flood, the share that
    # reached the sink.
    print(c, prefix + "_delivered_pct", 100.0 * json.load(open(sink))["received"] / max(1, int(after) - int(before)))
except Exception:
    pass
EOF
  local taken; taken=$(awk -v c="$c" -v k="flood_r${round}_taken_pps" '$1==c && $2==k {printf "%.0f", $3}' "$RES")
  log "$c: flood of $((UDP_LEN + 42))-byte frames: the forwarder took ${taken:-0}/s"
  [[ ${taken:-0} -gt 0 ]] || fail "$c: the forwarder took no flooded frames"
}

udp_quick() {  # 64-byte UDP for SECS s, no sampling: frames must arrive
  local c=$1 out=$RUN/$1-udp.json
  start_server "${ADDR_B[$c]}"
  run_client $((SECS + 20)) "$out" -c "${ADDR_B[$c]}" -B "${ADDR_A[$c]}" -u -l "$UDP_LEN" -b 0 -w "$UDP_SOCKBUF" -t "$SECS"
  wait_client
  stop_server
  local pps
  pps=$(json "$out" '"%.0f" % ((d["end"]["sum"]["packets"] - d["end"]["sum"]["lost_packets"]) / d["end"]["sum"]["seconds"])')
  record "$c" udp_iperf_pps "${pps:-0}"
  log "$c: UDP $((UDP_LEN + 42))-byte frames: ${pps:-0} delivered/s"
  [[ ${pps:-0} -gt 0 ]] || fail "$c: no UDP frames delivered"
}

ping_test() {
  if ip netns exec "$NS_A" ping -c 3 -i 0.2 -W 2 -q "${ADDR_B[$1]}" >/dev/null 2>&1; then
    record "$1" ping ok
  else
    record "$1" ping fail; fail "$1: ping ${ADDR_B[$1]} failed"
  fi
}

# ping_rtt CONTENDER: $PINGS echo requests 10 ms apart (each finds the
# forwarders asleep, as a ping on a quiet link does; bounded by -w), 56-byte
# payload; minimum, median, average and 99th percentile round trip in µs
# (the average alone hides whether a few slow replies or all of them pull
# it up).
ping_rtt() {
  local out
  out=$(ip netns exec "$NS_A" ping -c "$PINGS" -i 0.01 -w $((PINGS / 50 + 10)) "${ADDR_B[$1]}" 2>/dev/null |
    sed -n 's|.* time=\([0-9.]*\) ms$|\1|p' | sort -g |
    awk '{v[NR] = $1 * 1000; sum += v[NR]}
         END {if (NR) printf "%.0f %.0f %.0f %.0f", v[1], v[int((NR + 1) / 2)], sum / NR, v[int(NR * 0.99 + 0.5)]}')
  if [[ -n $out ]]; then
    local min med avg p99
    read -r min med avg p99 <<<"$out"
    record "$1" ping_min_us "$min"
    record "$1" ping_median_us "$med"
    record "$1" ping_avg_us "$avg"
    record "$1" ping_p99_us "$p99"
    log "$1: ping round trip min/median/avg/p99 $min/$med/$avg/$p99 us"
  else
    fail "$1: no ping round trip"
  fi
}

# PERF_DIR=dir: a system-wide `perf record -g` of $SECS s in the middle of the
# single-stream TCP run (first round) and of the flood (first round) of each
# userspace contender, to dir/CONTENDER-WHAT.data (read with perf report -i).
perf_capture() {  # perf_capture CONTENDER WHAT: in the background
  [[ -n ${PERF_DIR:-} && -n ${FWD[$1]:-} ]] || return 0
  mkdir -p "$PERF_DIR"
  (sleep 1; perf record -q -g -a -o "$PERF_DIR/$1-$2.data" -- sleep "$SECS" >/dev/null 2>&1) &
  BG_PIDS+=("$!")
}

# Where does softirq time go? (see the header)
IRQ_TIME=0
if { zcat /proc/config.gz 2>/dev/null || cat "/boot/config-$(uname -r)" 2>/dev/null; } | grep -q '^CONFIG_IRQ_TIME_ACCOUNTING=y'; then
  IRQ_TIME=1
fi
export IRQ_TIME
HOST_INFO="$(date -u '+%Y-%m-%d %H:%M UTC'), kernel $(uname -r), $(lscpu | sed -n 's/^Model name: *//p' | head -1), $(nproc) CPUs, $(iperf3 --version | head -1 | cut -d' ' -f1-2), $(openvpn --version 2>/dev/null | head -1 | cut -d' ' -f1-2), tree $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null)$(git -C "$ROOT" diff --quiet HEAD -- datapath 2>/dev/null || echo +local-changes), agent $AGENT"
log "bench: $HOST_INFO"
log "contenders: $CONTENDERS; SECS=$SECS CPU_RATE=$CPU_RATE UDP_LEN=$UDP_LEN OVERLAY_MTU=$OVERLAY_MTU"

READY=()
for c in $CONTENDERS; do
  [[ -n ${ADDR_B[$c]:-} ]] || { fail "$c: unknown contender or set-up failed"; continue; }
  READY+=("$c")
  ping_test "$c"
done
if $QUICK; then
  for c in "${READY[@]}"; do
    tcp_test "$c" 1 tcp1
    udp_quick "$c"
    # The flood generator and the capacity measurement work (1 s).
    if [[ $c == l2tp-udp ]]; then flood_window "$c" 1; fi
  done
else
  # The two headline figures are taken $ROUNDS times, the contenders one
  # after the other in each round, so that every contender's run has a
  # reference run close to it in time: this machine's speed drifts by tens
  # of percent from minute to minute (other guests on the host).
  for round in $(seq "$ROUNDS"); do
    for c in "${READY[@]}"; do tcp_test "$c" 1 "tcp1_r$round"; done
  done
  for c in "${READY[@]}"; do
    ping_rtt "$c"
    tcp_test "$c" 4 tcp4
    udp_window "$c" udp 0
    udp_window "$c" cpu $((CPU_RATE * UDP_LEN * 8))
  done
  for round in $(seq "$ROUNDS"); do
    for c in "${READY[@]}"; do
      if [[ -n ${FWD[$c]} ]]; then flood_window "$c" "$round"; fi
    done
  done
fi

# Idle: agents with both sessions up, no traffic.
if [[ ${#SITE_PIDS[@]} -ge 2 ]]; then
  ctxsw() {
    local n=0 f
    for f in /proc/"$1"/task/*/status; do
      n=$((n + $(awk '/^(non)?voluntary_ctxt_switches/ {s += $2} END {print s + 0}' "$f" 2>/dev/null || echo 0)))
    done
    echo "$n"
  }
  sleep 1
  i0=$("$PY" "$SAMPLER" -- "a=${SITE_PIDS[0]}" "b=${SITE_PIDS[1]}")
  c0=$(($(ctxsw "${SITE_PIDS[0]}") + $(ctxsw "${SITE_PIDS[1]}")))
  t0=$(now)
  sleep "$IDLE_SECS"
  i1=$("$PY" "$SAMPLER" -- "a=${SITE_PIDS[0]}" "b=${SITE_PIDS[1]}")
  c1=$(($(ctxsw "${SITE_PIDS[0]}") + $(ctxsw "${SITE_PIDS[1]}")))
  t1=$(now)
  "$PY" - "$i0" "$i1" "$c0" "$c1" "$t0" "$t1" >>"$RES" <<'EOF'
import json, sys
a, b = json.loads(sys.argv[1]), json.loads(sys.argv[2])
secs = float(sys.argv[6]) - float(sys.argv[5])
ns = (b["a"] - a["a"]) + (b["b"] - a["b"])
print("agents idle_cpu_frac", ns / 1e9 / secs / 2)  # per agent, fraction of one core
print("agents idle_ms", ns / 1e6)
print("agents idle_wakeups_per_s", (int(sys.argv[4]) - int(sys.argv[3])) / secs / 2)
print("agents idle_secs", secs)
EOF
  log "idle agents: $(awk '$1=="agents" && $2=="idle_ms" {printf "%.1f ms CPU", $3}' "$RES") over ${IDLE_SECS} s (both agents)"
  # Resident memory after all the traffic above (VmRSS, KiB), and threads.
  for side in a b; do
    pid=${SITE_PIDS[0]}; [[ $side == b ]] && pid=${SITE_PIDS[1]}
    record agents "rss_kib_$side" "$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status")"
    record agents "threads_$side" "$(ls "/proc/$pid/task" | wc -l)"
  done
  if awk '$1=="agents" && $2=="idle_cpu_frac" {exit !($3 > 0.05)}' "$RES"; then
    fail "idle agents use more than 5% of a core (busy polling?)"
  fi
fi

# ---- report -----------------------------------------------------------------
"$PY" - "$RES" "$CONTENDERS" "$QUICK" "$CPU_RATE" "$UDP_LEN" "$OVERLAY_MTU" "$SECS" <<'EOF'
import sys
res, contenders, quick, rate, ulen, mtu, secs = sys.argv[1:]
quick = quick == "true"
r = {}
for line in open(res):
    c, k, v = line.split()
    try:
        v = float(v)
    except ValueError:
        pass
    r.setdefault(c, {})[k] = v
import statistics
def rounds(d, prefix):
    """Values of PREFIX_r1, PREFIX_r2, ... in round order."""
    out, i = [], 1
    while prefix + "_r%d" % i in d:
        out.append(d[prefix + "_r%d" % i])
        i += 1
    return out
for c, d in r.items():
    runs = rounds(d, "tcp1")
    if runs:
        d["tcp1"] = statistics.median(runs)
        d["tcp1_range"] = (min(runs), max(runs))
        d["tcp1_retr"] = sum(d.get("tcp1_r%d_retr" % (i + 1), 0) for i in range(len(runs)))
        base = rounds(r.get("vxlan", {}), "tcp1")
        if c != "vxlan" and len(base) == len(runs) and all(base):
            ratios = [a / b for a, b in zip(runs, base)]
            d["tcp1_ratio"] = statistics.median(ratios)
            d["tcp1_ratio_range"] = (min(ratios), max(ratios))
    # Flood rounds: per-frame forwarder cost at A and B; the round whose
    # per-core rate is the median stands for the contender.
    floods, i = [], 1
    while d.get("flood_r%d_taken" % i):
        p = "flood_r%d_" % i
        fa = d[p + "fwd_a_ns"] / 1e3 / d[p + "taken"]
        fb = d[p + "fwd_b_ns"] / 1e3 / d[p + "taken"]
        floods.append((1 / max(fa, fb), fa, fb, p))
        i += 1
    if floods:
        floods.sort()
        mpps, fa, fb, p = floods[len(floods) // 2] if len(floods) % 2 else floods[len(floods) // 2 - 1]
        d["flood_mpps"], d["flood_a_us"], d["flood_b_us"] = mpps, fa, fb
        d["flood_mpps_range"] = (floods[0][0], floods[-1][0])
        for k in ("taken_pps", "offered_pps", "delivered_pct"):
            if p + k in d:
                d["flood_" + k] = d[p + k]
names = {"raw": "raw veth (no tunnel)", "vxlan": "kernel VXLAN", "openvpn": "OpenVPN tap, UDP, no crypto",
         "l2tp-udp": "l2tp-agent userspace, L2TPv3/UDP", "l2tp-ip": "l2tp-agent userspace, L2TPv3/IP"}
ref = r.get("vxlan", {})
def cell(c, key, fmt, scale=1.0):
    v = r.get(c, {}).get(key)
    if v is None or v == "":
        return "–"
    s = fmt % (v * scale)
    base = ref.get(key)
    if isinstance(base, float) and base > 0 and c != "vxlan":
        s += " (%.2f×)" % (v / base)
    elif c == "vxlan":
        s += " (1×)"
    return s
def per_pkt(c, p, key):
    d = r.get(c, {})
    pk = d.get(p + "_win_pkts")
    if not pk or key not in d:
        return None
    return d[key] / 1e3 / pk  # µs per delivered packet
frame = int(ulen) + 42
rows = []
if quick:
    hdr = ["contender", "ping", "TCP 1 stream Gbit/s", f"UDP {frame} B frames kpps"]
    for c in contenders.split():
        d = r.get(c, {})
        rows.append([names.get(c, c), str(d.get("ping", "–")), cell(c, "tcp1", "%.2f"),
                     cell(c, "udp_iperf_pps", "%.0f", 1e-3)])
else:
    hdr = ["contender", "TCP 1 stream Gbit/s, median (×VXLAN; range)", "TCP 4 streams Gbit/s", "ping RTT µs, min / median / avg / p99", f"UDP {frame} B frames: kpps received (loss)",
           f"µs CPU/packet at {int(rate)//1000} kpps, all tasks", "… forwarder only",
           "forwarder µs/frame at iperf3's max rate, A / B", "forwarder µs/frame flooded, A / B (Mpps per core; range)"]
    for c in contenders.split():
        d = r.get(c, {})
        for p in ("cpu", "udp"):
            for k in ("tasks", "fwd", "sys"):
                v = per_pkt(c, p, f"{p}_{k}_ns")
                if v is not None:
                    d[f"{p}_{k}_us"] = v
        udp = cell(c, "udp_iperf_pps", "%.0f", 1e-3)
        if "udp_loss_pct" in d:
            udp += ", %.0f%% loss" % d["udp_loss_pct"]
        fwd_cpu = "–"
        if d.get("cpu_fwd_us"):
            fwd_cpu = "%.2f" % d["cpu_fwd_us"]
        fwd_max = "–"
        if d.get("udp_fwd_ns") and d.get("udp_handled"):
            ua = d["udp_fwd_a_ns"] / 1e3 / d["udp_handled"]
            ub = d["udp_fwd_b_ns"] / 1e3 / d["udp_handled"]
            fwd_max = "%.2f / %.2f" % (ua, ub)
        flood = "–"
        if d.get("flood_mpps"):
            flood = "%.2f / %.2f (%.2f" % (d["flood_a_us"], d["flood_b_us"], d["flood_mpps"])
            if d["flood_mpps_range"][0] != d["flood_mpps_range"][1]:
                flood += "; %.2f–%.2f" % d["flood_mpps_range"]
            flood += ")"
        tcp1 = "–"
        if "tcp1" in d:
            tcp1 = "%.2f" % d["tcp1"]
            if "tcp1_ratio" in d:
                tcp1 += " (%.2f×; %.2f–%.2f×)" % ((d["tcp1_ratio"],) + d["tcp1_ratio_range"])
            elif c == "vxlan":
                tcp1 += " (1×; %.1f–%.1f)" % d["tcp1_range"]
        rtt = "–"
        if "ping_avg_us" in d:
            rtt = "%.0f / %.0f / %.0f / %.0f" % (d.get("ping_min_us", 0), d.get("ping_median_us", 0),
                                                d["ping_avg_us"], d.get("ping_p99_us", 0))
        rows.append([names.get(c, c), tcp1, cell(c, "tcp4", "%.2f"), rtt, udp,
                     cell(c, "cpu_tasks_us", "%.2f"), fwd_cpu, fwd_max, flood])
print()
print("| " + " | ".join(hdr) + " |")
print("|" + "|".join("---" for _ in hdr) + "|")
for row in rows:
    print("| " + " | ".join(row) + " |")
print()
if not quick:
    notes = []
    for c in contenders.split():
        d = r.get(c, {})
        if "cpu_sys_us" in d:
            notes.append("%s %.2f" % (c, d["cpu_sys_us"]))
    if notes:
        busy = max(r.get(c, {}).get("cpu_sys_frac", 0) for c in contenders.split())
        print(f"System-wide /proc/stat CPU per packet at {int(rate)//1000} kpps (valid only on an idle machine; "
              f"busiest window {busy*100:.0f}% of all CPUs): " + ", ".join(notes) + " µs.")
    raw = r.get("raw", {}).get("cpu_tasks_us")
    if raw:
        extra = ", ".join("%s %+.2f" % (c, r[c]["cpu_tasks_us"] - raw) for c in contenders.split()
                          if c != "raw" and "cpu_tasks_us" in r.get(c, {}))
        if extra:
            print(f"Tunnel cost per packet at {int(rate)//1000} kpps beyond raw veth (all tasks minus raw's "
                  f"{raw:.2f}): " + extra + " µs.")
    floods = ", ".join("%s %.0f/%.0f kpps (%.0f%% delivered)" % (
        c, r[c]["flood_offered_pps"] / 1e3, r[c]["flood_taken_pps"] / 1e3, r[c].get("flood_delivered_pct", 0))
        for c in contenders.split() if r.get(c, {}).get("flood_offered_pps"))
    if floods:
        print("Flood, offered/taken by the forwarder at A (share of the taken frames that reached the sink): " + floods + ".")
    retr = ", ".join("%s %d/%d" % (c, r.get(c, {}).get("tcp1_retr", 0), r.get(c, {}).get("tcp4_retr", 0))
                     for c in contenders.split() if "tcp1_retr" in r.get(c, {}))
    if retr:
        print("TCP retransmits (1 stream/4 streams): " + retr + ".")
a = r.get("agents")
if a:
    print("Idle l2tp-agents (2 sessions up, no traffic, %.0f s): %.2f ms CPU in total, %.3f%% of a core per agent, "
          "%.1f wake-ups/s per agent." % (a["idle_secs"], a["idle_ms"], a["idle_cpu_frac"] * 100, a["idle_wakeups_per_s"]))
    if "rss_kib_a" in a:
        print("l2tp-agent resident memory after the runs (VmRSS): A %.1f MiB, B %.1f MiB; %d threads each." % (
            a["rss_kib_a"] / 1024, a["rss_kib_b"] / 1024, a.get("threads_a", 0)))
print(f"Overlay MTU {mtu} on every tunnel (raw veth 1500); {secs} s per run; UDP payload {ulen} B = {frame} B Ethernet "
      f"frame ({frame + 4} B with FCS); ratios are to kernel VXLAN in the same run (TCP 1 stream: in the same round).")
EOF
echo
echo "Command: $CMDLINE  (SECS=$SECS CPU_RATE=$CPU_RATE UDP_LEN=$UDP_LEN UDP_SOCKBUF=$UDP_SOCKBUF OVERLAY_MTU=$OVERLAY_MTU ROUNDS=$ROUNDS AGENT_IO=$AGENT_IO FLOOD_THREADS=$FLOOD_THREADS${AGENT_EXTRA:+ AGENT_EXTRA=\"$AGENT_EXTRA\"}${NICE:+ NICE=$NICE})"
echo "Host: $HOST_INFO${AGENT_IO_USED:+, agent I/O: $AGENT_IO_USED}"
echo "CPU accounting: $([[ $IRQ_TIME == 1 ]] && echo "IRQ_TIME_ACCOUNTING (task run time + system-wide irq/softirq time)" || echo "tick-based (softirq work is in the task run time)")"

if [[ ${#FAILED[@]} -gt 0 ]]; then
  echo "FAILED: ${FAILED[*]}" >&2
  exit 1
fi
