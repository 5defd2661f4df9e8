# shellcheck shell=bash
# Runs inside the test VM (tests/vm/run.sh) for xl2tpd_pair_test.sh: two
# xl2tpd (Debian's), LNS and LAC, with pppd on the kernel's PPPoL2TP
# datapath, in namespaces `lac` and `lns` joined by a veth.
#
#   xl2tpd_pair_side.sh        (payload: ppp_lib.sh, ppp-root/ from stage.sh)
#
#  1. install: pppd, plugins, xl2tpd, tcpdump in place; /dev/ppp there.
#  2. mountns: private mount namespaces with binds over /etc/ppp stay private.
#  3. good password: LAC (192.0.2.1:1702, CHAP user alice) dials the LNS
#     (192.0.2.2:1701, require chap, ip range 10.8.1.2-10.8.1.20, local ip
#     10.8.0.1) through its control FIFO; both xl2tpd on the kernel
#     datapath; ppp0 up on both ends with 10.8.1.2 <-> 10.8.0.1; CHAP
#     succeeded in both pppd logs; /proc/net/pppol2tp shows the session;
#     pings both ways (one of 1200 bytes). `d peer` tears it down: no pppd,
#     ppp interface or PPPoL2TP socket left.
#  4. wrong password: the LAC (autodial, no redial) with a wrong secret:
#     the LNS's pppd reports the peer's CHAP failure, the LAC's pppd its
#     own; no address; nothing left behind.
#  5. clean: both xl2tpd stopped, nothing left in either namespace.
# Each step prints a line and a mark "result NAME ok|fail DETAIL"; the
# capture of the veth (tcpdump, lns side) and all logs go to /results.
set -uo pipefail
source /payload/ppp_lib.sh
D=/run/pair
mkdir -p "$D"
LAC4=192.0.2.1 LNS4=192.0.2.2 LAC_PORT=1702 LNS_PORT=1701
SECRET=s3cret-alice

result() {
  local detail
  detail=$(tr '\n' ' ' <<<"${3:-}")
  printf '%-4s %-16s %s\n' "$2" "$1" "$detail"
  vm_mark "result $1 $2 $detail"
}
finish() {
  ppp_stop_xl2tpd lac; ppp_stop_xl2tpd lns
  ppp_capture_stop
  cp -a "$D" /results/ 2>/dev/null
  vm_result "$D/wire.pcap" 2>/dev/null
  exit 0
}
since() { echo "$((SECONDS - $1)) s"; }

# ---- 1. install
t0=$SECONDS
if ppp_vm_install /payload && [[ -c /dev/ppp ]]; then
  result install ok "pppd $PPP_VERSION (plugins $PPP_PLUGIN_DIR), xl2tpd $XL2TPD_VERSION, tcpdump $TCPDUMP_VERSION; /dev/ppp $(ls -l /dev/ppp | awk '{print $1, $5 $6}'); $(since $t0)"
else
  result install fail "see the console"
  finish
fi

# ---- 2. mount namespaces
probe=$(ppp_mountns_probe)
echo "$probe" | sed 's/^/  /'
if ! grep -q '^fail' <<<"$probe"; then
  result mountns ok "$(grep -c '^ok' <<<"$probe") checks; $(grep '^info' <<<"$probe" | cut -d' ' -f2-)"
else
  result mountns fail "$(grep '^fail' <<<"$probe")"
fi

# ---- setup: namespaces, capture, configs
ppp_netns_pair lac lns veth-lac veth-lns "$LAC4/24" "$LNS4/24" || { result setup fail "netns pair"; finish; }
ppp_capture_start lns veth-lns "$D/wire.pcap" udp || { result setup fail "tcpdump"; finish; }

ppp_etc_dir "$D/lns-etc"
ppp_chap_secret "$D/lns-etc" alice lns-server "$SECRET"
ppp_options "$D/lns-etc/options.xl2tpd" "$D/pppd-lns.log" "ms-dns 192.0.2.53"
ppp_xl2tpd_config lns "$D/lns.conf" listen=$LNS4 port=$LNS_PORT ip_range=10.8.1.2-10.8.1.20 \
  local_ip=10.8.0.1 name=lns-server hostname=lns-host pppoptfile=/etc/ppp/options.xl2tpd auth=chap

# lac_config ETC_DIR SECRET AUTODIAL REDIAL
lac_config() {
  ppp_etc_dir "$1"
  ppp_chap_secret "$1" alice '*' "$2"
  ppp_options "$1/options.xl2tpd" "$D/pppd-lac.log" noipdefault noauth
  ppp_xl2tpd_config lac "$D/lac.conf" listen=$LAC4 port=$LAC_PORT peer=$LNS4:$LNS_PORT name=alice \
    hostname=lac-host pppoptfile=/etc/ppp/options.xl2tpd auth=chap autodial="$3" redial="$4" max_redials=2
}
lac_config "$D/lac-etc" "$SECRET" no yes
echo "---- lns.conf"; cat "$D/lns.conf"
echo "---- lac.conf"; cat "$D/lac.conf"

# ---- 3. the good password
t0=$SECONDS
ok=1 why=()
ppp_start_xl2tpd lns lns "$D" "$D/lns-etc" || { ok=0; why+=("LNS xl2tpd did not start"); }
ppp_start_xl2tpd lac lac "$D" "$D/lac-etc" || { ok=0; why+=("LAC xl2tpd did not start"); }
((ok)) && result kernel-mode ok "both xl2tpd: $(grep -ho 'Using l2tp kernel support.' "$D/lns.log" | head -1)" ||
  result kernel-mode fail "${why[*]}"
ppp_xl2tpd_ctl lac "c peer" || why+=("control FIFO write failed")
lac_if=$(ppp_wait_iface lac 10.8.1.2 60) || { ok=0; why+=("no ppp interface with 10.8.1.2 in lac"); }
lns_if=$(ppp_wait_iface lns 10.8.0.1 20) || { ok=0; why+=("no ppp interface with 10.8.0.1 in lns"); }
if ((ok)); then
  lac_peer=$(ip -n lac -o -4 addr show dev "$lac_if" | grep -o 'peer [0-9.]*' | cut -d' ' -f2)
  lns_peer=$(ip -n lns -o -4 addr show dev "$lns_if" | grep -o 'peer [0-9.]*' | cut -d' ' -f2)
  result ppp-up ok "lac $lac_if 10.8.1.2 peer $lac_peer, lns $lns_if 10.8.0.1 peer $lns_peer, $(since $t0) after dialing"
else
  result ppp-up fail "${why[*]} after $(since $t0)"
  tail -30 "$D/lac.log" "$D/lns.log" "$D/pppd-lac.log" "$D/pppd-lns.log"
fi
for ns in lac lns; do echo "---- ip -n $ns addr show (ppp)"; ip -n $ns addr show | grep -A3 ': ppp'; done

# What xl2tpd ran, and that each pppd sees its own /etc/ppp.
for p in $(pidof pppd); do
  echo "---- pppd $p: $(tr '\0' ' ' </proc/"$p"/cmdline)"
  echo "     /etc/ppp in its mount namespace: $(awk '$5 == "/etc/ppp" {print $4}' /proc/"$p"/mountinfo)"
done
n_bound=0
for p in $(pidof pppd); do awk '$5 == "/etc/ppp"' /proc/"$p"/mountinfo | grep -q . && n_bound=$((n_bound + 1)); done
n_pppd=$(pidof pppd | wc -w)
if ((n_pppd == 2 && n_bound == 2)) && [[ ! -s /etc/ppp/chap-secrets ]]; then
  result private-etc-ppp ok "both pppd see their own /etc/ppp (bind mount), the VM's /etc/ppp has no secrets"
else
  result private-etc-ppp fail "$n_pppd pppd, $n_bound with /etc/ppp bound"
fi

if grep -q 'CHAP authentication succeeded' "$D/pppd-lac.log" 2>/dev/null &&
   grep -q 'sent \[CHAP Success' "$D/pppd-lns.log" 2>/dev/null; then
  result chap ok "lac pppd: '$(grep -o 'CHAP authentication succeeded.*' "$D/pppd-lac.log" | head -1)', lns pppd: '$(grep -o 'sent \[CHAP Success.*' "$D/pppd-lns.log" | head -1)'"
else
  result chap fail "$(grep -h 'CHAP' "$D/pppd-lac.log" "$D/pppd-lns.log" 2>/dev/null | tail -4)"
fi
for ns in lac lns; do echo "---- /proc/net/pppol2tp in $ns"; ppp_pppol2tp $ns; done
for ns in lac lns; do echo "---- ip -n $ns l2tp show tunnel / session"; ip -n $ns l2tp show tunnel; ip -n $ns l2tp show session; done
if ppp_pppol2tp lac | grep -q '^   interface ppp' && ppp_pppol2tp lns | grep -q '^   interface ppp'; then
  result pppol2tp ok "/proc/net/pppol2tp: a tunnel and a session bound to a ppp interface on both ends"
else
  result pppol2tp fail "lac: $(ppp_pppol2tp lac | wc -l) lines, lns: $(ppp_pppol2tp lns | wc -l) lines"
fi
# ping_ok NETNS ADDRESS [SIZE]
ping_ok() {
  # (busybox's timeout would run its own `ip` applet: timeout goes inside.)
  ip netns exec "$1" timeout 20 ping -c 3 -W 5 -s "${3:-56}" "$2" >"$D/ping.out" 2>&1 && return 0
  ip netns exec "$1" timeout 20 ping -c 3 -W 5 -s "${3:-56}" "$2" >"$D/ping.out" 2>&1
}
if ping_ok lac 10.8.0.1 && r1=$(grep -o '[0-9]* packets received' "$D/ping.out") &&
   ping_ok lns 10.8.1.2 && r2=$(grep -o '[0-9]* packets received' "$D/ping.out") &&
   ping_ok lac 10.8.0.1 1200 && r3=$(grep -o '[0-9]* packets received' "$D/ping.out"); then
  result ping ok "lac->lns $r1, lns->lac $r2, lac->lns 1200 bytes $r3 over ppp"
else
  result ping fail "$(tr '\n' ' ' <"$D/ping.out")"
fi
echo "---- ppp counters"; ip -n lac -s link show "${lac_if:-ppp0}" 2>&1 | head -6

# Teardown through the control FIFO: StopCCN/CDN, both pppd end.
t0=$SECONDS
ppp_xl2tpd_ctl lac "d peer"
left=""
deadline=$((SECONDS + 20))
while ((SECONDS < deadline)); do
  left=$(PPP_LEFTOVER_PROCS=pppd ppp_leftovers lac lns)
  [[ -z $left ]] && break
  sleep 0.2
done
if [[ -z $left ]]; then
  result teardown ok "'d peer': no pppd, ppp interface or PPPoL2TP tunnel/session left after $(since $t0)"
else
  result teardown fail "after $(since $t0): $left"
fi
mv "$D/pppd-lac.log" "$D/pppd-lac-good.log" 2>/dev/null
mv "$D/pppd-lns.log" "$D/pppd-lns-good.log" 2>/dev/null

# ---- 4. a wrong password: the LAC restarted with it, dialing by itself.
ppp_stop_xl2tpd lac
mv "$D/lac.log" "$D/lac-good.log"
lac_config "$D/lac-etc" "not-the-secret" yes no
t0=$SECONDS
ppp_start_xl2tpd lac lac "$D" "$D/lac-etc" || result wrong-password fail "LAC xl2tpd did not start"
if ppp_wait_log "$D/pppd-lns.log" 'Peer alice failed CHAP authentication' 60 &&
   ppp_wait_log "$D/pppd-lac.log" 'CHAP authentication failed' 20; then
  lac_exit=$(grep -ho 'pppd exited for call [0-9]* with code [0-9]*' "$D/lac.log" | tail -1)
  if [[ -z $(ppp_iface_with lac 10.8.1.2) ]]; then
    result wrong-password ok "lns pppd: '$(grep -o 'Peer alice failed CHAP authentication' "$D/pppd-lns.log" | head -1)', lac pppd: '$(grep -o 'CHAP authentication failed.*' "$D/pppd-lac.log" | head -1)' after $(since $t0)${lac_exit:+; xl2tpd: $lac_exit}"
  else
    result wrong-password fail "the LAC got 10.8.1.2 with a wrong secret"
  fi
else
  result wrong-password fail "no CHAP failure after $(since $t0): $(grep -h 'CHAP\|auth' "$D/pppd-lac.log" "$D/pppd-lns.log" 2>/dev/null | tail -4)"
  tail -20 "$D/lac.log" "$D/lns.log"
fi
left=""
deadline=$((SECONDS + 20))
while ((SECONDS < deadline)); do
  # The tunnel stays (xl2tpd keeps it after the CDN): only pppd, ppp
  # interfaces and PPP sessions count here.
  left=$(pidof pppd; ip -n lac -o link show | grep -o ' ppp[0-9]*'; ip -n lns -o link show | grep -o ' ppp[0-9]*'
         ppp_sessions lac; ppp_sessions lns)
  [[ -z $left ]] && break
  sleep 0.2
done
if [[ -z $left ]]; then
  result wrong-pw-cleanup ok "pppd gone on both ends, no ppp interface or PPPoL2TP session left"
else
  result wrong-pw-cleanup fail "$left"
fi

# ---- 5. both xl2tpd stopped: nothing left at all.
ppp_stop_xl2tpd lac
ppp_stop_xl2tpd lns
left=""
deadline=$((SECONDS + 20))
while ((SECONDS < deadline)); do
  left=$(ppp_leftovers lac lns)
  [[ -z $left ]] && break
  sleep 0.2
done
if [[ -z $left ]]; then
  result clean ok "no pppd/xl2tpd, ppp interface, PPPoL2TP socket or kernel L2TP tunnel left in lac and lns"
else
  result clean fail "$left"
fi
sleep 0.5
finish
