# Runs inside the test VM (tests/vm/run.sh) for qemu_l2tpv3_test.sh. Every
# NIC of this VM is a QEMU `-netdev l2tpv3` endpoint; ./cases maps each case
# to the NIC's MAC. Puts 10.66.N.2 / fd00:66:N::2 on it, pings the host's end
# (our datapath's TAP) and reports with vm_mark; waits for the host's pings.
set -uo pipefail
n=0
while read -r name mac expect; do
  n=$((n + 1))
  dev=""
  for d in /sys/class/net/*; do [[ $(cat "$d/address") == "$mac" ]] && dev=${d##*/}; done
  [[ -n $dev ]] || { vm_mark "setup $name no NIC with $mac"; continue; }
  ip link set "$dev" up
  ip addr add "10.66.$n.2/24" dev "$dev"
  ip addr add "fd00:66:$n::2/64" dev "$dev" nodad
done <cases
vm_mark ready
replies() { sed -n 's/.* \([0-9]*\) packets received.*/\1/p' "$1"; }
n=0
while read -r name mac expect; do
  n=$((n + 1))
  if [[ $expect == fail ]]; then w=3; else w=10; fi
  (
    v4=fail v6=fail
    timeout $((w + 1)) ping -q -c 3 -i 0.2 -W "$w" "10.66.$n.1" </dev/null >"/tmp/p4-$n" 2>&1 && v4=ok
    timeout $((w + 1)) ping -6 -q -c 2 -i 0.2 -W "$w" "fd00:66:$n::1" </dev/null >"/tmp/p6-$n" 2>&1 && v6=ok
    vm_mark "result $name vm-to-host ipv4=$v4 ipv6=$v6 replies=$(replies "/tmp/p4-$n")/3,$(replies "/tmp/p6-$n")/2"
  ) &
done <cases
wait
vm_mark vm-pings-done
vm_wait_host done 300 || echo "host never said done"
exit 0
