#!/usr/bin/env bash
# Watch streams a snapshot, a SYNCED marker, then every change as it happens.
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/lib.sh"
source "$HERE/fixtures.sh"

start_agent
write_base_config "$WORK/base.yaml"
ctl apply -f "$WORK/base.yaml" >/dev/null
wait_for "all READY" all_ready

ctl watch -o json >"$WORK/watch.jsonl" 2>"$WORK/watch.err" &
WATCH_PID=$!
trap 'kill $WATCH_PID 2>/dev/null || true; cleanup' EXIT
# True when some streamed event matches the jq condition.
has_event() { jq -s -e "map(select($1)) | length > 0" "$WORK/watch.jsonl"; }
wait_for "SYNCED marker" grep -q TYPE_SYNCED "$WORK/watch.jsonl"
snapshot=$(sed -n '/TYPE_SYNCED/q;p' "$WORK/watch.jsonl" | jq -r '.type' | sort | uniq -c | tr -s ' ')
[[ "$snapshot" == " 5 TYPE_ADDED" ]] || fail "snapshot should be 5 ADDED events, got: $snapshot"
ok "snapshot then SYNCED"

printf 'tunnels:\n  - name: t9\n    spec: {tunnelId: 900, peerTunnelId: 901, local: 192.0.2.1, remote: 192.0.2.9}\n' >"$WORK/t9.yaml"
ctl apply -f "$WORK/t9.yaml" >/dev/null
wait_for "t9 ADDED" has_event '.type == "TYPE_ADDED" and .tunnel.name == "t9"'
wait_for "t9 READY (status change)" has_event '.type == "TYPE_MODIFIED" and .tunnel.name == "t9" and .tunnel.status.phase == "PHASE_READY"'
ok "creation and its status change are streamed"

ctl delete tunnel t9 >/dev/null
wait_for "t9 DELETING" has_event '.tunnel.name == "t9" and .tunnel.status.phase == "PHASE_DELETING"'
wait_for "t9 DELETED" has_event '.type == "TYPE_DELETED" and .tunnel.name == "t9"'
ok "deletion is streamed as DELETING then DELETED"

kill $WATCH_PID
stop_agent
finish
