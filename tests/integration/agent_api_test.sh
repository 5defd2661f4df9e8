#!/usr/bin/env bash
# The real agent driven by the real l2tpctl: apply, get, dry run, invalid
# input, optimistic concurrency, prune, delete.
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/lib.sh"
source "$HERE/fixtures.sh"

start_agent
ctl info | grep -q "memory" || fail "info does not name the memory datapath"
ok "info names the datapath"

write_base_config "$WORK/base.yaml"
out=$(ctl apply -f "$WORK/base.yaml")
for r in tunnel/t1 tunnel/t2 session/s1 session/s2 session/s3; do
  grep -q "^$r created" <<<"$out" || fail "apply output lacks '$r created': $out"
done
ok "apply creates every resource"

wait_for "all resources READY" all_ready
[[ $(phases | wc -l) -eq 5 ]] || fail "expected 5 resources, got $(phases)"
ok "reconciled to READY"

ctl get tunnels | head -1 | grep -q "^NAME  *TUNNEL-ID" || fail "table header"
ctl get sessions s1 -o json | jq -e '.spec.interfaceName == "l2tp100-1" and .spec.cookie == "a1b2c3d4" and .generation == "1"' >/dev/null \
  || fail "session s1 as stored: $(ctl get sessions s1 -o json)"
ctl get sessions -o yaml | grep -q "name: s3" || fail "yaml output"
ok "get as table, json and yaml"

out=$(ctl apply -f "$WORK/base.yaml")
[[ $(grep -c unchanged <<<"$out") -eq 5 ]] || fail "re-apply should be unchanged: $out"
ok "apply is idempotent"

sed -e 's/peerSessionId: 4}/peerSessionId: 4, sendSequence: true}/' -e 's/remote: "2001:db8::2"/remote: "2001:db8::9"/' \
  "$WORK/base.yaml" >"$WORK/changed.yaml"
before=$(ctl get sessions -o json | jq -c '[.sessions[] | {name, spec, generation}]')
out=$(ctl apply -f "$WORK/changed.yaml" --dry-run)
grep -q "session/s2 configured (changed: send_sequence) (dry run)" <<<"$out" || fail "dry run modify line: $out"
grep -q "tunnel/t2 replaced (changed: remote; tunnel parameters cannot change in place) (dry run)" <<<"$out" || fail "dry run replace line: $out"
grep -q "session/s3 replaced" <<<"$out" || fail "dry run: s3 goes with its tunnel: $out"
after=$(ctl get sessions -o json | jq -c '[.sessions[] | {name, spec, generation}]')
[[ "$before" == "$after" ]] || fail "dry run changed state"
ok "dry run shows modify/replace and changes nothing"

cp "$WORK/base.yaml" "$WORK/bad.yaml"
sed -i 's/cookie: "a1b2c3d4"/cookie: "a1b2c3"/' "$WORK/bad.yaml"
err=$(expect_fail INVALID_ARGUMENT ctl apply -f "$WORK/bad.yaml")
grep -q 'sessions\[0\].spec.cookie: must be 0, 4 or 8 bytes, got 3' <<<"$err" || fail "field path in: $err"
printf 'sessions:\n  - name: orphan\n    spec: {tunnel: nope, sessionId: 9, peerSessionId: 9}\n' >"$WORK/orphan.yaml"
expect_fail FAILED_PRECONDITION ctl apply -f "$WORK/orphan.yaml" >/dev/null
printf 'tunnels:\n  - name: dup\n    spec: {tunnelId: 100, peerTunnelId: 5, local: 192.0.2.1, remote: 192.0.2.7}\n' >"$WORK/dup.yaml"
expect_fail ALREADY_EXISTS ctl apply -f "$WORK/dup.yaml" >/dev/null
printf 'tunnels:\n  - name: x\n    spec: {tunnelID: 1}\n' >"$WORK/typo.yaml"
"$CTL" --socket "$SOCK" apply -f "$WORK/typo.yaml" >/dev/null 2>"$WORK/err.txt" && fail "unknown field accepted"
grep -q "tunnelID" "$WORK/err.txt" || fail "unknown field not named: $(cat "$WORK/err.txt")"
after=$(ctl get sessions -o json | jq -c '[.sessions[] | {name, spec, generation}]')
[[ "$before" == "$after" ]] || fail "a rejected apply changed state"
ok "bad input is rejected with field paths and changes nothing"

ctl get sessions s2 -o json >"$WORK/s2.json"
jq '{sessions: [.]}' "$WORK/s2.json" | jq '.sessions[0].spec.lnsMode = true' >"$WORK/s2-v1.json"
ctl apply -f "$WORK/s2-v1.json" | grep -q "session/s2 configured" || fail "apply with current resourceVersion"
err=$(expect_fail ABORTED ctl apply -f "$WORK/s2-v1.json")
grep -q "sessions\[0\].resource_version: stale" <<<"$err" || fail "stale message: $err"
ok "stale resourceVersion is ABORTED"

expect_fail NOT_FOUND ctl get tunnels ghost >/dev/null
expect_fail NOT_FOUND ctl delete session ghost >/dev/null
expect_fail FAILED_PRECONDITION ctl delete tunnel t2 >/dev/null
ctl delete tunnel t2 --cascade | grep -q "tunnel/t2 deleted" || fail "cascade delete output"
wait_for "t2 and s3 gone" bash -c "! '$CTL' --socket '$SOCK' get sessions -o json | jq -e '.sessions[] | select(.name == \"s3\")'"
ok "delete: NOT_FOUND, cascade"

printf 'tunnels:\n  - name: t1\n    spec: {tunnelId: 100, peerTunnelId: 200, local: 192.0.2.1, remote: 192.0.2.2}\nsessions:\n  - name: s1\n    spec: {tunnel: t1, sessionId: 1, peerSessionId: 2, cookie: "a1b2c3d4", peerCookie: "d4c3b2a1"}\n' >"$WORK/pruned.yaml"
out=$(ctl apply -f "$WORK/pruned.yaml" --prune)
grep -q "session/s2 deleted" <<<"$out" || fail "prune output: $out"
wait_for "s2 gone" bash -c "[[ \$('$CTL' --socket '$SOCK' get sessions -o json | jq '.sessions | length') == 1 ]]"
ok "prune deletes what the file does not mention"

ctl stats | grep -q "^NAME" || fail "stats table"
ok "stats prints counters"

ctl events | grep -qE "CREATED +tunnel/t1 +created" || fail "events lack the creation of t1: $(ctl events)"
ctl events | grep -qE "DELETED +session/s2 +removed from the datapath" || fail "events lack the deletion of s2"
[[ $(ctl events --limit 2 -o json | jq '.events | length') == 2 ]] || fail "events --limit"
ok "events show what the agent did, newest first"
stop_agent
ok "SIGTERM exits 0"
finish
