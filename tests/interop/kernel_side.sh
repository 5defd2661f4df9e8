# Runs inside the test VM (tests/vm/run.sh): the Linux kernel's own L2TPv3,
# configured with iproute2 (`ip l2tp`), one tunnel + session per line of
# ./cases (format: see kernel_userspace_test.sh). Pings the host across every
# pseudowire and reports per case with vm_mark; waits for the host's pings.
#   kernel_side.sh HOST_V4 VM_V4 HOST_V6 VM_V6
set -uo pipefail
host4=$1 vm4=$2 host6=$3 vm6=$4

ip link set eth0 up
ip addr add "$vm4/24" dev eth0
ip addr add "$vm6/64" dev eth0 nodad

n=0
while read -r name encap af htid vtid hsid vsid hport vport hc hpc vc vpc hl2 vl2 seq csum expect; do
  [[ -z $name || $name == \#* ]] && continue
  n=$((n + 1))
  if [[ $af == 4 ]]; then local=$vm4 remote=$host4; else local=$vm6 remote=$host6; fi
  t=(tunnel_id "$vtid" peer_tunnel_id "$htid" encap "$encap" local "$local" remote "$remote")
  [[ $encap == udp ]] && t+=(udp_sport "$vport" udp_dport "$hport")
  [[ $csum == csum4 ]] && t+=(udp_csum on)
  [[ $csum == zero6 ]] && t+=(udp6_csum_tx off udp6_csum_rx off)
  s=(name "l2tpv$n" tunnel_id "$vtid" session_id "$vsid" peer_session_id "$hsid" l2spec_type "$vl2")
  [[ $vc != - ]] && s+=(cookie "$vc")
  [[ $vpc != - ]] && s+=(peer_cookie "$vpc")
  [[ $seq != - ]] && s+=(seq "$seq")
  if ! ip l2tp add tunnel "${t[@]}" || ! ip l2tp add session "${s[@]}"; then
    vm_mark "setup $name failed"
    continue
  fi
  ip link set "l2tpv$n" up
  ip addr add "10.77.$n.2/24" dev "l2tpv$n"
  ip addr add "fd00:77:$n::2/64" dev "l2tpv$n" nodad
done <cases
ip l2tp show tunnel | grep -c '^Tunnel' | sed 's/^/kernel tunnels: /'
vm_mark ready

# All cases at once, each ping bounded by timeout. A case passes a direction
# when a reply came back; the reply counts are reported too (a busy TCG guest
# running 20+ pings at once occasionally misses one reply the host did send).
replies() { sed -n 's/.* \([0-9]*\) packets received.*/\1/p' "$1"; }
# A direction that got no reply at all is tried once more: with 20+ cases
# starting at once the guest's first ARP or neighbour solicitations can all
# be lost; a broken datapath fails the second try as well.
ping_case() {
  local n=$1 name=$2 w=$3 v4=fail v6=fail
  for _ in 1 2; do
    timeout $((w + 2)) ping -q -c 3 -i 0.2 -W "$w" "10.77.$n.1" </dev/null >"/tmp/ping4-$n" 2>&1 && { v4=ok; break; }
  done
  for _ in 1 2; do
    timeout $((w + 2)) ping -6 -q -c 2 -i 0.2 -W "$w" "fd00:77:$n::1" </dev/null >"/tmp/ping6-$n" 2>&1 && { v6=ok; break; }
  done
  vm_mark "result $name vm-to-host ipv4=$v4 ipv6=$v6 replies=$(replies "/tmp/ping4-$n")/3,$(replies "/tmp/ping6-$n")/2 t=$SECONDS"
}
n=0
while read -r name encap af htid vtid hsid vsid hport vport hc hpc vc vpc hl2 vl2 seq csum expect; do
  [[ -z $name || $name == \#* ]] && continue
  n=$((n + 1))
  # Cases expected to fail get a short deadline: they only prove the check bites.
  if [[ $expect == fail ]]; then w=3; else w=10; fi
  ping_case "$n" "$name" "$w" &
done <cases
wait
vm_mark vm-pings-done

vm_wait_host done 300 || echo "host never said done"
# What the kernel saw, for the report: per-interface counters and MTUs.
n=0
while read -r name _; do
  [[ -z $name || $name == \#* ]] && continue
  n=$((n + 1))
  ip -s -o link show "l2tpv$n" 2>/dev/null |
    awk -v c="$name" '{for (i = 1; i <= NF; i++) if ($i == "mtu") m = $(i + 1)} END {print "kernel " c " mtu=" m}'
  set -- $(ip -s link show "l2tpv$n" 2>/dev/null | awk '/RX:/{getline; r=$2} /TX:/{getline; t=$2} END{print r, t}')
  echo "kernel $name rx_packets=${1:-?} tx_packets=${2:-?}"
done <cases
exit 0
