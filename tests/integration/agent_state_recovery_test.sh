#!/usr/bin/env bash
# A state file whose CRC is good but whose content Apply could never have
# committed (a session whose tunnel does not exist, colliding tunnel ids) is
# not trusted: the agent starts from state.pb.prev and says so, or, with no
# good previous state, exits 1 at once naming the file and the reason (no
# abort, no core). A partial state.pb.tmp is removed at start.
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/lib.sh"
source "$HERE/fixtures.sh"

PROTO_DIR="$HERE/../../proto"
STATE_MSG=l2tpagent.store.v1.State
STATE_PROTO=l2tpagent/store/v1/state.proto

# rewrite_state FILE SED-SCRIPT: edits the protobuf text of a state file and
# writes it back with a correct frame (magic, length, CRC-32C), so that only
# the content check can tell what was changed.
rewrite_state() {
  local file=$1 edit=$2
  tail -c +21 "$file" | protoc -I"$PROTO_DIR" --decode="$STATE_MSG" "$STATE_PROTO" >"$WORK/state.txt"
  sed -i -e "$edit" "$WORK/state.txt"
  protoc -I"$PROTO_DIR" --encode="$STATE_MSG" "$STATE_PROTO" <"$WORK/state.txt" >"$WORK/payload.bin"
  python3 - "$WORK/payload.bin" "$file" <<'PY'
import struct, sys
payload = open(sys.argv[1], "rb").read()
crc = 0xFFFFFFFF  # CRC-32C (Castagnoli), as agent/crc32c.cc
for byte in payload:
    crc ^= byte
    for _ in range(8):
        crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
with open(sys.argv[2], "wb") as f:
    f.write(b"L2TPST01" + struct.pack("<QI", len(payload), crc ^ 0xFFFFFFFF) + payload)
PY
}

tunnel_names() { ctl get tunnels -o json | jq -r '[.tunnels[]?.name] | sort | join(",")'; }

# Two good states written by the agent itself: base.pb (tunnels t1, t2) and
# newer.pb (also t3). Each case below puts base.pb in place as state.pb.prev
# and a spoiled newer.pb as state.pb.
start_agent
write_base_config "$WORK/base.yaml"
ctl apply -f "$WORK/base.yaml" >/dev/null
wait_for "READY" all_ready
stop_agent
cp "$STATE/state.pb" "$WORK/base.pb"
start_agent
cat >"$WORK/t3.yaml" <<'YAML'
tunnels:
  - name: t3
    spec: {tunnelId: 102, peerTunnelId: 202, local: 192.0.2.1, remote: 192.0.2.3}
YAML
ctl apply -f "$WORK/t3.yaml" >/dev/null
wait_for "READY" all_ready
stop_agent
cp "$STATE/state.pb" "$WORK/newer.pb"

# spoil SED-SCRIPT [no-prev]: state.pb = newer.pb edited; state.pb.prev = base.pb.
spoil() {
  rm -f "$STATE"/state.pb*
  cp "$WORK/newer.pb" "$STATE/state.pb"
  rewrite_state "$STATE/state.pb" "$1"
  [[ "${2:-}" == no-prev ]] || cp "$WORK/base.pb" "$STATE/state.pb.prev"
  : >"$AGENT_LOG"
}

cp "$WORK/newer.pb" "$WORK/check.pb"
rewrite_state "$WORK/check.pb" ''
cmp -s "$WORK/newer.pb" "$WORK/check.pb" || fail "rewrite_state does not reproduce an unchanged state file byte for byte"
ok "the test can rewrite a state file with a correct frame"

# 1. A session whose tunnel is gone, a good .prev, and a partial temp file.
spoil 's/tunnel: "t2"/tunnel: "gone"/'
head -c 25 "$STATE/state.pb" >"$STATE/state.pb.tmp"
start_agent
grep -q "state: $STATE/state.pb: invalid content, 1 problem: sessions\[2\].spec.tunnel: tunnel \"gone\" does not exist" "$AGENT_LOG" ||
  fail "the log does not say what is wrong with state.pb"
grep -q "loaded the previous good state instead" "$AGENT_LOG" || fail "the log does not say the previous state was loaded"
[[ "$(tunnel_names)" == "t1,t2" ]] || fail "expected the previous state's tunnels t1,t2, got $(tunnel_names)"
ls "$STATE" | grep -q '^state.pb.corrupt-' || fail "the bad state file was not set aside"
wait_for "READY from the previous state" all_ready
ok "a dangling session in state.pb: started from state.pb.prev, said so, kept the bad file aside"
grep -q "state: removed $STATE/state.pb.tmp" "$AGENT_LOG" || fail "the removal of the partial temp file is not logged"
[[ ! -e "$STATE/state.pb.tmp" ]] || fail "the partial state.pb.tmp is still there"
ok "a partial state.pb.tmp is removed at start and the removal logged"
stop_agent

# 2. Colliding tunnel ids, good .prev: the same recovery.
spoil 's/^\(  *\)tunnel_id: 101$/\1tunnel_id: 100/'
start_agent
grep -q "tunnel_id 100 is already used by tunnel \"t1\"" "$AGENT_LOG" || fail "the log does not name the id collision"
[[ "$(tunnel_names)" == "t1,t2" ]] || fail "expected t1,t2 after recovery, got $(tunnel_names)"
ok "colliding tunnel ids in state.pb: started from state.pb.prev"
stop_agent

# 3. No .prev: refuse to start, quickly, with a message and exit 1.
spoil 's/tunnel: "t2"/tunnel: "gone"/' no-prev
start=$(date +%s%N)
rc=0
timeout 20 "$AGENT" --socket="$SOCK" --state-dir="$STATE" --datapath=memory --metrics-addr= >>"$AGENT_LOG" 2>&1 || rc=$?
ms=$(( ($(date +%s%N) - start) / 1000000 ))
[[ $rc -eq 1 ]] || fail "expected exit status 1 without a good previous state, got $rc (124: hung; 134: abort)"
(( ms < 5000 )) || fail "refusing to start took ${ms} ms"
grep -q "state: $STATE/state.pb: invalid content, 1 problem: sessions\[2\].spec.tunnel: tunnel \"gone\" does not exist" "$AGENT_LOG" ||
  fail "the refusal does not name the file and the reason"
grep -q "no previous good state to fall back on ($STATE/state.pb.prev does not exist)" "$AGENT_LOG" ||
  fail "the refusal does not say that state.pb.prev is missing"
grep -qi "terminate\|out_of_range\|abort" "$AGENT_LOG" && fail "the agent aborted"
[[ -f "$STATE/state.pb" ]] || fail "the bad state file was not left in place"
cat "$AGENT_LOG"
ok "no good previous state: exit 1 in ${ms} ms, naming the file and the reason"
finish
