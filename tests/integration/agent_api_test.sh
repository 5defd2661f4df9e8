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

# ---- Issue 11: hardening of what Apply accepts (items 3, 4, 8, 9, 10)

# Item 10: a body that is not protobuf is the caller's error, not INTERNAL.
# A raw HTTP/2 gRPC request: a 5-byte frame header, then field 1 claiming 5
# bytes of which 1 follows.
printf '\x00\x00\x00\x00\x03\x0a\x05a' >"$WORK/garbage.bin"
raw_grpc() {  # $1: method path; prints the response headers and trailers
  curl -sS --http2-prior-knowledge --unix-socket "$SOCK" -H 'content-type: application/grpc' -H 'te: trailers' \
    --data-binary @"$WORK/garbage.bin" -D - -o /dev/null "http://localhost/$1" | tr -d '\r'
}
for m in Apply GetInfo Watch; do
  hdrs=$(raw_grpc "l2tpagent.v1.L2tpAgent/$m")
  grep -qi '^grpc-status: 3$' <<<"$hdrs" || fail "garbage $m body: want grpc-status 3 (INVALID_ARGUMENT): $hdrs"
  grep -qi "^grpc-message: request body is not a valid l2tpagent.v1.L2tpAgent/$m request (protobuf parse failed)$" <<<"$hdrs" \
    || fail "garbage $m body: message: $hdrs"
done
hdrs=$(raw_grpc grpc.health.v1.Health/Check)
grep -qi '^grpc-status: 3$' <<<"$hdrs" || fail "garbage health body: $hdrs"
ctl info >/dev/null || fail "the agent serves on after garbage bodies"
ok "a body that does not parse is INVALID_ARGUMENT naming the method"

# Items 3 and 8: input the kernel or the datapath would misread.
cat >"$WORK/misread.json" <<'JSON'
{"tunnels": [
  {"name": "bc", "spec": {"tunnelId": 900, "peerTunnelId": 900, "local": "192.0.2.1", "remote": "255.255.255.255"}},
  {"name": "self", "spec": {"tunnelId": 901, "peerTunnelId": 901, "local": "192.0.2.1", "remote": "192.0.2.1"}},
  {"name": "ll", "spec": {"tunnelId": 902, "peerTunnelId": 902, "local": "fe80::1", "remote": "2001:db8::2"}},
  {"name": "nul", "spec": {"tunnelId": 903, "peerTunnelId": 903, "local": "10.0.1.1\u0000junk", "remote": "10.0.1.2"}}],
 "sessions": [
  {"name": "tmpl", "spec": {"tunnel": "t1", "sessionId": 900, "peerSessionId": 900, "interfaceName": "tap%d"}},
  {"name": "all", "spec": {"tunnel": "t1", "sessionId": 901, "peerSessionId": 901, "interfaceName": "all"}},
  {"name": "colons", "spec": {"tunnel": "t1", "sessionId": 902, "peerSessionId": 902, "cookie": ":::", "peerCookie": "0x"}},
  {"name": "hour", "spec": {"tunnel": "t1", "sessionId": 903, "peerSessionId": 903, "reorderTimeout": "3600.999999999s"}}]}
JSON
before=$(ctl get sessions -o json | jq -c '[.sessions[] | {name, spec, generation}]')
err=$(expect_fail INVALID_ARGUMENT ctl apply -f "$WORK/misread.json")
for want in 'tunnels\[0\].spec.remote: must be a unicast address, got the broadcast address' \
            'tunnels\[1\].spec.remote: must differ from local' \
            'tunnels\[2\].spec.local: link-local addresses are not supported: there is no way to give a scope' \
            'tunnels\[3\].spec.local: must be an IPv4 or IPv6 address, got "10.0.1.1\\x00junk"' \
            "sessions\[0\].spec.interface_name: must not contain '%'" \
            'sessions\[1\].spec.interface_name: must not be "all"' \
            'sessions\[2\].spec.cookie: colon-separated cookies' \
            'sessions\[2\].spec.peer_cookie: must be 4 or 8 bytes of hex' \
            'sessions\[3\].spec.reorder_timeout: must be at most 1h, got 3600.999999999s'; do
  grep -q -- "$want" <<<"$err" || fail "misread input: want '$want' in: $err"
done
after=$(ctl get sessions -o json | jq -c '[.sessions[] | {name, spec, generation}]')
[[ "$before" == "$after" ]] || fail "a rejected apply changed state"
ok "templates, reserved names, broadcast, self, link-local, NUL, bare cookies and >1h are rejected by field"

# Item 4: a second tunnel on t1's endpoints (192.0.2.1:1701 -> 192.0.2.2:1701).
printf 'tunnels:\n  - name: twin\n    spec: {tunnelId: 950, peerTunnelId: 950, local: 192.0.2.1, remote: 192.0.2.2}\n' >"$WORK/twin.yaml"
err=$(expect_fail ALREADY_EXISTS ctl apply -f "$WORK/twin.yaml")
grep -q 'tunnels\[0\].spec.remote: tunnel "twin" has the same endpoints as tunnel "t1"' <<<"$err" || fail "endpoint clash: $err"
sed -i 's/remote: 192.0.2.2/remote: 192.0.2.3/' "$WORK/twin.yaml"
ctl apply -f "$WORK/twin.yaml" | grep -q "tunnel/twin created" || fail "another remote on t1's local port"
ctl delete tunnel twin >/dev/null
ok "two tunnels on the same endpoints are ALREADY_EXISTS naming both; another remote is fine"

# Item 9: a 4.3 MB bad request gets a short error and a short log line (buf
# curl sends it as is, whatever l2tpctl allows in a file).
BUF="${BUF:-$(cd "$HERE/../.." && pwd)/.tools/node_modules/.bin/buf}"
[[ -x "$BUF" ]] || fail "buf not installed at $BUF (scripts/setup.sh installs it)"
{ printf '{"tunnels":[{"name":"'; head -c 4300000 /dev/zero | tr '\0' A
  printf '","spec":{"tunnelId":1,"peerTunnelId":1,"local":"192.0.2.1","remote":"192.0.2.2"}}],"sessions":['
  for i in $(seq 1 30); do printf '%s{"name":"h%d","spec":{"tunnel":"t1","sessionId":%d,"peerSessionId":1,"cookie":"zz"}}' \
    "$([[ $i -gt 1 ]] && echo ,)" "$i" "$((960 + i))"; done
  printf ']}'; } >"$WORK/huge.json"
rc=0
"$BUF" curl --protocol grpc --http2-prior-knowledge --unix-socket "$SOCK" -d @"$WORK/huge.json" \
  http://localhost/l2tpagent.v1.L2tpAgent/Apply >"$WORK/huge.out" 2>&1 || rc=$?
[[ $rc -eq 24 ]] || fail "huge bad Apply: want exit 24 (INVALID_ARGUMENT), got $rc: $(head -c 2000 "$WORK/huge.out")"
grep -q '(4300000 bytes)' "$WORK/huge.out" || fail "huge value not cut with its length: $(head -c 2000 "$WORK/huge.out")"
grep -q 'and 11 more problems' "$WORK/huge.out" || fail "problems not capped at 20: $(head -c 4000 "$WORK/huge.out")"
[[ $(wc -c <"$WORK/huge.out") -lt 8000 ]] || fail "error is $(wc -c <"$WORK/huge.out") bytes"
longest=$(awk '{ if (length($0) > n) n = length($0) } END { print n + 0 }' "$AGENT_LOG")
[[ $longest -lt 20000 ]] || fail "the agent logged a $longest-byte line"
ok "a 4.3 MB bad request gets a short error and log line"
stop_agent
ok "SIGTERM exits 0"
finish
