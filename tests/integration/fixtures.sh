# Config files the integration tests apply.
write_base_config() {  # $1: path
  cat >"$1" <<'YAML'
tunnels:
  - name: t1
    spec: {tunnelId: 100, peerTunnelId: 200, local: 192.0.2.1, remote: 192.0.2.2}
  - name: t2
    spec: {tunnelId: 101, peerTunnelId: 201, encap: ENCAPSULATION_IP, local: "2001:db8::1", remote: "2001:db8::2"}
sessions:
  - name: s1
    spec: {tunnel: t1, sessionId: 1, peerSessionId: 2, cookie: "a1b2c3d4", peerCookie: "d4c3b2a1"}
  - name: s2
    spec: {tunnel: t1, sessionId: 3, peerSessionId: 4}
  - name: s3
    spec: {tunnel: t2, sessionId: 5, peerSessionId: 6, l2SpecificSublayer: L2_SPECIFIC_SUBLAYER_NONE}
YAML
}

# A config with N sessions over 10 tunnels.
write_large_config() {  # $1: path, $2: sessions
  {
    echo '{"tunnels": ['
    for t in $(seq 1 10); do
      [[ $t -gt 1 ]] && echo ','
      echo "{\"name\": \"big$t\", \"spec\": {\"tunnelId\": $((5000 + t)), \"peerTunnelId\": $((6000 + t)), \"local\": \"198.51.100.1\", \"remote\": \"198.51.100.$((t + 1))\"}}"
    done
    echo '], "sessions": ['
    for s in $(seq 1 "$2"); do
      [[ $s -gt 1 ]] && echo ','
      echo "{\"name\": \"bs$s\", \"spec\": {\"tunnel\": \"big$(( (s % 10) + 1 ))\", \"sessionId\": $s, \"peerSessionId\": $s}}"
    done
    echo ']}'
  } >"$1"
}
