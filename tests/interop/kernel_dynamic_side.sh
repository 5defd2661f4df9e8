# Runs inside the test VM (tests/vm/run.sh) for kernel_dynamic_test.sh:
# DYNAMIC tunnels on the kernel datapath, where the agent's control plane
# owns each tunnel's socket and the kernel carries the data (managed
# tunnels, L2TP_ATTR_FD).
#
#   kernel_dynamic_side.sh AGENT L2TPCTL HOST_V4 VM_V4
#
# 1. pair: two agents (--datapath=kernel) in namespaces ka and kb of the VM,
#    A INITIATOR, B RESPONDER, one UDP/IPv4 and one IP/IPv6 tunnel with two
#    Ethernet sessions each, matched by remote_end_id (B's sessions have other
#    names and are listed in another order), a different cookie each way.
#    Pings across all four. (Every session has both cookies: iproute2's
#    `ip l2tp show session` prints the previous session's cookie for one
#    that has none.)
# 2. mixed: an agent (--datapath=kernel) in the VM's root namespace against
#    the host's agent (--datapath=userspace): a UDP tunnel the VM initiates,
#    an IP tunnel the host initiates (the VM responds: its SCCRQ listener).
# Results as vm_mark lines "result NAME ok|fail DETAIL"; iproute2's view and
# the agents' tables on the console.
set -uo pipefail
AGENT=$1 CTL=$2 host4=$3 vm4=$4
D=/run/dyn
mkdir -p "$D"

ip link set eth0 up
ip addr add "$vm4/24" dev eth0

ip netns add ka
ip netns add kb
ip link add va netns ka type veth peer name vb netns kb
ip -n ka link set lo up
ip -n kb link set lo up
ip -n ka addr add 10.50.0.1/24 dev va
ip -n kb addr add 10.50.0.2/24 dev vb
ip -n ka addr add fd50::1/64 dev va nodad
ip -n kb addr add fd50::2/64 dev vb nodad
ip -n ka link set va up
ip -n kb link set vb up

cat >"$D/a.yaml" <<'YAML'
tunnels:
- name: t-udp
  spec: {local: 10.50.0.1, remote: 10.50.0.2, control: {mode: MODE_DYNAMIC, role: ROLE_INITIATOR, host_name: vm-a, hello_interval: 5s}}
- name: t-ip
  spec: {local: "fd50::1", remote: "fd50::2", encap: ENCAPSULATION_IP, control: {mode: MODE_DYNAMIC, role: ROLE_INITIATOR, host_name: vm-a, hello_interval: 5s}}
sessions:
- name: udp-1
  spec: {tunnel: t-udp, remote_end_id: udp-pw1, interface_name: a-udp1, peer_cookie: "a1a2a3a4"}
- name: udp-2
  spec: {tunnel: t-udp, remote_end_id: udp-pw2, interface_name: a-udp2, peer_cookie: "a5a6a7a8a9aaabac"}
- name: ip-1
  spec: {tunnel: t-ip, remote_end_id: ip-pw1, interface_name: a-ip1, peer_cookie: "0102030405060708"}
- name: ip-2
  spec: {tunnel: t-ip, remote_end_id: ip-pw2, interface_name: a-ip2, peer_cookie: "0a0b0c0d"}
YAML
cat >"$D/b.yaml" <<'YAML'
tunnels:
- name: from-a-udp
  spec: {local: 10.50.0.2, remote: 10.50.0.1, control: {mode: MODE_DYNAMIC, role: ROLE_RESPONDER, host_name: vm-b, hello_interval: 5s}}
- name: from-a-ip
  spec: {local: "fd50::2", remote: "fd50::1", encap: ENCAPSULATION_IP, control: {mode: MODE_DYNAMIC, role: ROLE_RESPONDER, host_name: vm-b, hello_interval: 5s}}
sessions:
- name: second-ip
  spec: {tunnel: from-a-ip, remote_end_id: ip-pw2, interface_name: b-ip2, peer_cookie: "b1b2b3b4"}
- name: first-ip
  spec: {tunnel: from-a-ip, remote_end_id: ip-pw1, interface_name: b-ip1, peer_cookie: "b5b6b7b8"}
- name: second-udp
  spec: {tunnel: from-a-udp, remote_end_id: udp-pw2, interface_name: b-udp2, peer_cookie: "c1c2c3c4c5c6c7c8"}
- name: first-udp
  spec: {tunnel: from-a-udp, remote_end_id: udp-pw1, interface_name: b-udp1, peer_cookie: "c5c6c7c8"}
YAML
cat >"$D/v.yaml" <<YAML
tunnels:
- name: m-udp
  spec: {local: $vm4, remote: $host4, control: {mode: MODE_DYNAMIC, role: ROLE_INITIATOR, host_name: vm, hello_interval: 5s}}
- name: m-ip
  spec: {local: $vm4, remote: $host4, encap: ENCAPSULATION_IP, control: {mode: MODE_DYNAMIC, role: ROLE_RESPONDER, host_name: vm, hello_interval: 5s}}
sessions:
- name: m-udp-1
  spec: {tunnel: m-udp, remote_end_id: mixed-udp, interface_name: v-udp1, peer_cookie: "d1d2d3d4"}
- name: m-ip-1
  spec: {tunnel: m-ip, remote_end_id: mixed-ip, interface_name: v-ip1, peer_cookie: "e1e2e3e4e5e6e7e8"}
YAML

# start NAME NETNS|- [FLAGS...]: an agent on the kernel datapath with
# NAME.yaml; its log is appended to NAME.log.
declare -A PID
start() {
  local name=$1 ns=$2 run=()
  shift 2
  [[ $ns != - ]] && run=(ip netns exec "$ns")
  rm -f "$D/$name.sock"
  echo "==== start $*" >>"$D/$name.log"
  "${run[@]}" "$AGENT" --socket="$D/$name.sock" --state-dir="$D/$name" --datapath=kernel \
    --resync-interval=1s --log-level=debug --config="$D/$name.yaml" "$@" >>"$D/$name.log" 2>&1 &
  PID[$name]=$!
  for _ in $(seq 1 100); do [[ -S $D/$name.sock ]] && return 0; sleep 0.1; done
}
stop() {
  kill -TERM "${PID[$1]}" 2>/dev/null
  for _ in $(seq 1 100); do kill -0 "${PID[$1]}" 2>/dev/null || break; sleep 0.1; done
}
ctl() { local name=$1; shift; "$CTL" --socket "$D/$name.sock" --timeout 20s "$@"; }
# ready NAME N SECONDS: N sessions of agent NAME READY.
ready() {
  local deadline=$((SECONDS + $3)) n
  while ((SECONDS < deadline)); do
    n=$(ctl "$1" get sessions -o json 2>/dev/null | grep -o PHASE_READY | wc -l)
    [[ $n == "$2" ]] && return 0
    sleep 0.5
  done
  return 1
}
result() { vm_mark "result $1 $2 $(tr '\n' ' ' <<<"${3:-}")"; }
ping_ok() {  # ping_ok NETNS|- ADDRESS
  local run=()
  [[ $1 != - ]] && run=(ip netns exec "$1")
  for _ in 1 2; do
    "${run[@]}" ping -q -c 3 -i 0.2 -W 5 "$2" >/tmp/ping.out 2>&1 && return 0
  done
  cat /tmp/ping.out
  return 1
}
show_agent() {  # the agent's tables, for the report
  echo "---- agent $1: tunnels"
  ctl "$1" get tunnels -o wide 2>&1
  echo "---- agent $1: sessions"
  ctl "$1" get sessions -o wide 2>&1
}
writes() { grep -c "kernel: write [0-9]*: $2" "$D/$1.log"; }

start v -
start a ka
start b kb
vm_mark ready

# ---- 1. pair
t0=$SECONDS
if ready a 4 60 && ready b 4 30; then
  result pair-up ok "all 8 sessions READY after $((SECONDS - t0)) s"
else
  result pair-up fail "sessions not READY after $((SECONDS - t0)) s"
  show_agent a
  show_agent b
  tail -40 "$D/a.log" "$D/b.log"
fi
for ns in ka kb; do
  echo "---- ip -n $ns l2tp show tunnel"
  ip -n "$ns" l2tp show tunnel
  echo "---- ip -n $ns l2tp show session"
  ip -n "$ns" l2tp show session
done
# The pair's overlay addresses: 10.60.N.1 (A) and .2 (B) on pseudowire N.
# Again after the kernel got new interfaces (a tunnel re-created).
address_pair() {
  local n=0
  for pw in udp1 udp2 ip1 ip2; do
    n=$((n + 1))
    ip -n ka addr add "10.60.$n.1/24" dev "a-$pw" 2>/dev/null
    ip -n kb addr add "10.60.$n.2/24" dev "b-$pw" 2>/dev/null
  done
  return 0
}
address_pair
n=0
for pw in udp1 udp2 ip1 ip2; do
  n=$((n + 1))
  if ping_ok ka "10.60.$n.2" >"/tmp/ping-$pw" 2>&1; then
    result "pair-$pw" ok "a-$pw -> b-$pw: $(grep -o '[0-9]* packets received' /tmp/ping.out)"
  else
    result "pair-$pw" fail "a-$pw -> b-$pw: $(tr '\n' ' ' <"/tmp/ping-$pw")"
  fi
done
# The reconciler must leave the managed tunnels alone once they are up: a
# few resync passes later, still one create per tunnel.
sleep 3
creates_a=$(writes a "create tunnel") creates_b=$(writes b "create tunnel")
if [[ $creates_a == 2 && $creates_b == 2 ]]; then
  result pair-stable ok "one kernel tunnel create per tunnel and agent after 3 resyncs"
else
  result pair-stable fail "tunnel creates: a=$creates_a b=$creates_b (want 2 each)"
  grep "kernel: write" "$D/a.log" | head -20
fi
show_agent a
show_agent b

# ---- 2. mixed (the host applied its IP initiator once it saw "ready")
t0=$SECONDS
if ready v 2 90; then
  result mixed-up ok "both sessions READY after $((SECONDS - t0)) s more"
else
  result mixed-up fail "sessions not READY after $((SECONDS - t0)) s"
  show_agent v
  tail -40 "$D/v.log"
fi
echo "---- ip l2tp show tunnel (VM root namespace)"
ip l2tp show tunnel
echo "---- ip l2tp show session (VM root namespace)"
ip l2tp show session
ip addr add 10.61.1.2/24 dev v-udp1 2>/dev/null
ip addr add 10.61.2.2/24 dev v-ip1 2>/dev/null
vm_mark mixed-ready
for pair in "udp1 1" "ip1 2"; do
  set -- $pair
  if ping_ok - "10.61.$2.1" >"/tmp/ping-m$1" 2>&1; then
    result "mixed-$1-vm-to-host" ok "v-$1 -> host: $(grep -o '[0-9]* packets received' /tmp/ping.out)"
  else
    result "mixed-$1-vm-to-host" fail "$(tr '\n' ' ' <"/tmp/ping-m$1")"
  fi
done
show_agent v
vm_mark vm-pings-done
vm_wait_host done 120 || echo "host never said done"

# ---- 3. The tunnels die with the agent's sockets: agent A stops, and its
# kernel tunnels and interfaces go with them, which unmanaged (STATIC)
# tunnels would not. A hands its connections over to its next run
# (--control-handover, default): restarted, it resumes them on new sockets,
# the kernel gets the tunnels again, and B sees no transition.
b_transitions=$(grep -c 'control: tunnel/' "$D/b.log")
stop a
left=""
for _ in $(seq 1 50); do
  left=$(ip -n ka l2tp show tunnel)
  [[ -z $left ]] && break
  sleep 0.1
done
if [[ -z $left ]] && ! ip -n ka link show a-udp1 >/dev/null 2>&1; then
  result managed-gone-with-agent ok "agent A stopped: no tunnel and no a-* interface left in ka"
else
  result managed-gone-with-agent fail "left in ka after agent A stopped: $left"
fi
start a ka
t0=$SECONDS
if ready a 4 30 && address_pair && ping_ok ka 10.60.1.2 >/dev/null && ping_ok ka 10.60.3.2 >/dev/null &&
   [[ $(grep -c 'control: tunnel/' "$D/b.log") == "$b_transitions" ]]; then
  result handover-restart ok "A resumed both connections on new sockets: READY and pinging after $((SECONDS - t0)) s, no transition at B"
else
  result handover-restart fail "after $((SECONDS - t0)) s: A $(ctl a get tunnels 2>&1 | tail -n +2 | awk '{print $1, $7}' | tr '\n' ' ') B transitions $b_transitions -> $(grep -c 'control: tunnel/' "$D/b.log")"
fi

# ---- 4. New connections on B's sockets: A's specs change (hello 5s ->
# 4s), so A ends both connections (StopCCN) and opens new ones (SCCRQ). B,
# the RESPONDER, accepts them on the sockets it has; its reconciler replaces
# the kernel tunnels (the peer's ids changed).
sed -i 's/hello_interval: 5s/hello_interval: 4s/' "$D/a.yaml"
t0=$SECONDS
ok=0
ebusy_before=$(grep -c 'EBUSY' "$D/b.log")
# Up to 45 s, or until each tunnel's create was refused (EBUSY) three times.
while ((SECONDS - t0 < 45)) && (($(grep -c 'EBUSY' "$D/b.log") - ebusy_before < 6)); do
  if grep 'control: tunnel/' "$D/b.log" | tail -n "+$((b_transitions + 1))" |
     grep -q 'control connection CLOSING\|control connection DOWN\|SCCRQ received' &&
     ready a 4 1 && ready b 4 1 && address_pair && ping_ok ka 10.60.1.2 >/dev/null &&
     ping_ok ka 10.60.3.2 >/dev/null; then
    ok=1
    break
  fi
  sleep 1
done
if ((ok)); then
  result new-connection-same-responder ok "B took A's new connections and its kernel tunnels again: READY and pinging after $((SECONDS - t0)) s"
else
  result new-connection-same-responder fail "after $((SECONDS - t0)) s; B: $(grep 'ERROR reconcile' "$D/b.log" | tail -1 | cut -d' ' -f3-)"
  show_agent a
  show_agent b
  ip -n kb l2tp show tunnel
  echo "---- B's control lines"
  grep 'control: tunnel/' "$D/b.log" | tail -20
fi

# ---- 5. Drift repair of a managed tunnel: someone deletes B's UDP kernel
# tunnel. Its socket cannot carry another one (EBUSY), so B's control plane
# gives the connection a fresh socket, the reconciler creates the tunnel
# again, and the control connection lives on (no new SCCRQ, A sees nothing).
b_tunnel=$(ctl b get tunnels | awk '$1 == "from-a-udp" {print $2}')
# (Counted by "opened": A's connections retired in case 4 still log their end.)
a_opened=$(grep -c 'control: tunnel/t-udp: control connection opened' "$D/a.log")
ip -n kb l2tp del tunnel tunnel_id "$b_tunnel"
t0=$SECONDS
ok=0
while ((SECONDS - t0 < 30)); do
  if ip -n kb l2tp show tunnel tunnel_id "$b_tunnel" 2>/dev/null | grep -q "Tunnel $b_tunnel" &&
     ready b 4 1 && address_pair &&
     # B's interfaces are new, with new MAC addresses: A's neighbour entries are stale.
     ip -n ka neigh flush dev a-udp1 && ip -n ka neigh flush dev a-udp2 &&
     ping_ok ka 10.60.1.2 >/dev/null && ping_ok ka 10.60.2.2 >/dev/null; then
    ok=1
    break
  fi
  sleep 1
done
a_opened_after=$(grep -c 'control: tunnel/t-udp: control connection opened' "$D/a.log")
if ((ok)) && [[ $a_opened_after == "$a_opened" ]]; then
  result managed-drift-repair ok "B's UDP tunnel $b_tunnel back in the kernel on a new socket, pinging after $((SECONDS - t0)) s; A kept its connection"
else
  result managed-drift-repair fail "after $((SECONDS - t0)) s (tunnel $b_tunnel): A opened t-udp $((a_opened_after - a_opened)) more times; B: $(grep 'ERROR' "$D/b.log" | tail -1 | cut -d' ' -f3-)"
  show_agent b
  ip -n kb l2tp show tunnel
fi
for name in a b v; do kill -TERM "${PID[$name]}" 2>/dev/null; done
wait
vm_result "$D"/*.log
exit 0
