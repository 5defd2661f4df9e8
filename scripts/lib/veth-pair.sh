# veth_pair NS_A NS_B V4PREFIX [V6PREFIX]: creates two network namespaces
# joined by a veth pair (veth-a in NS_A, veth-b in NS_B), loopback up, with
# V4PREFIX.1/24 on veth-a and V4PREFIX.2/24 on veth-b (and V6PREFIX::1/64,
# V6PREFIX::2/64 without DAD), both up. The caller deletes the namespaces.
veth_pair() {
  local a=$1 b=$2 v4=$3 v6=${4:-}
  ip netns add "$a"
  ip netns add "$b"
  ip link add veth-a netns "$a" type veth peer name veth-b netns "$b"
  for ns in "$a" "$b"; do ip -n "$ns" link set lo up; done
  ip -n "$a" addr add "$v4.1/24" dev veth-a
  ip -n "$b" addr add "$v4.2/24" dev veth-b
  if [[ -n $v6 ]]; then
    ip -n "$a" addr add "$v6::1/64" dev veth-a nodad
    ip -n "$b" addr add "$v6::2/64" dev veth-b nodad
  fi
  ip -n "$a" link set veth-a up
  ip -n "$b" link set veth-b up
}
