#!/usr/bin/env bash
# A grpcurl-like client that nobody here wrote (buf curl, npm @bufbuild/buf)
# finds the service through server reflection and calls it over the socket.
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/lib.sh"

BUF="${BUF:-$(cd "$HERE/../.." && pwd)/.tools/node_modules/.bin/buf}"
[[ -x "$BUF" ]] || fail "buf not installed at $BUF (scripts/setup.sh installs it)"

start_agent
out=$("$BUF" curl --protocol grpc --http2-prior-knowledge --unix-socket "$SOCK" --list-methods http://localhost 2>&1) \
  || fail "buf curl --list-methods: $out"
for m in Apply Delete Get List Watch GetInfo; do
  grep -q "l2tpagent.v1.L2tpAgent/$m" <<<"$out" || fail "reflection does not list $m: $out"
done
ok "reflection lists every method"

info=$("$BUF" curl --protocol grpc --http2-prior-knowledge --unix-socket "$SOCK" \
  http://localhost/l2tpagent.v1.L2tpAgent/GetInfo 2>&1) || fail "GetInfo: $info"
jq -e '.datapath == "memory" and (.version | length > 0)' <<<"$info" >/dev/null || fail "GetInfo reply: $info"
ok "GetInfo over the unix socket"

health=$("$BUF" curl --protocol grpc --http2-prior-knowledge --unix-socket "$SOCK" \
  -d '{"service": "l2tpagent.v1.L2tpAgent"}' http://localhost/grpc.health.v1.Health/Check 2>&1) || fail "health: $health"
grep -q SERVING <<<"$health" || fail "health: $health"
ok "health service reports SERVING"

rc=0
"$BUF" curl --protocol grpc --http2-prior-knowledge --unix-socket "$SOCK" \
  -d '{"tunnels":[{"name":"Bad_Name","spec":{"tunnelId":1}}]}' http://localhost/l2tpagent.v1.L2tpAgent/Apply \
  >"$WORK/out" 2>&1 || rc=$?
[[ $rc -eq 24 ]] || fail "invalid Apply should exit 8*3 (INVALID_ARGUMENT), got $rc: $(cat "$WORK/out")"
grep -q "tunnels\[0\].name" "$WORK/out" || fail "error lacks the field path: $(cat "$WORK/out")"
ok "errors reach a foreign client with code and field path"
stop_agent
finish
