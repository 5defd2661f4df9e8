#!/usr/bin/env bash
# Security of the API: TLS and mTLS on --listen, plaintext only with --insecure
# on loopback, the authorization policy for certificate subjects/SANs and for
# unix-socket uids (SO_PEERCRED), the denial counter, the socket's mode and
# group, and the limits (per apply, total sessions, per-client concurrency,
# message size). Needs root (to run l2tpctl as uid 65534) and openssl.
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/lib.sh"
source "$HERE/fixtures.sh"
ROOT=$(cd "$HERE/../.." && pwd)
[[ $(id -u) -eq 0 ]] || { echo "SKIP: needs root"; exit 77; }
command -v openssl >/dev/null || fail "openssl is not installed"
chmod 711 "$WORK"  # uid 65534 must reach the socket inside

# ---- certificates: a CA, the agent's server cert, admin and reader client
# certs, and a client cert from a different CA with the admin's subject.
PKI="$WORK/pki"
mkdir -p "$PKI"
newkey() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:prime256v1 -out "$PKI/$1.key" 2>/dev/null; }
make_ca() {  # NAME CN
  newkey "$1"
  openssl req -x509 -new -key "$PKI/$1.key" -out "$PKI/$1.pem" -days 2 -subj "/CN=$2" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
}
make_cert() {  # NAME CA SUBJECT EXTENSIONS
  newkey "$1"
  openssl req -new -key "$PKI/$1.key" -out "$PKI/$1.csr" -subj "$3" 2>/dev/null
  printf '%s\n' "$4" >"$PKI/$1.ext"
  openssl x509 -req -in "$PKI/$1.csr" -CA "$PKI/$2.pem" -CAkey "$PKI/$2.key" -CAcreateserial \
    -out "$PKI/$1.pem" -days 2 -extfile "$PKI/$1.ext" 2>/dev/null
}
make_ca ca "l2tp-test-ca"
make_ca otherca "l2tp-other-ca"
make_cert server ca "/CN=l2tp-agent" $'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth'
make_cert admin ca "/O=l2tp-test/CN=admin" 'extendedKeyUsage=clientAuth'
make_cert reader ca "/O=l2tp-test/CN=reader" $'subjectAltName=DNS:reader.l2tp-test\nextendedKeyUsage=clientAuth'
make_cert stranger ca "/O=l2tp-test/CN=stranger" 'extendedKeyUsage=clientAuth'
make_cert forged otherca "/O=l2tp-test/CN=admin" 'extendedKeyUsage=clientAuth'
[[ $(openssl x509 -in "$PKI/admin.pem" -noout -subject -nameopt RFC2253) == "subject=CN=admin,O=l2tp-test" ]] ||
  fail "unexpected admin subject: $(openssl x509 -in "$PKI/admin.pem" -noout -subject -nameopt RFC2253)"
ok "test PKI: CA, server cert (SAN 127.0.0.1, localhost), admin, reader, stranger and other-CA client certs"

cat >"$WORK/policy.yaml" <<'YAML'
rules:
  - role: admin
    uids: [0]
    subjects: ["CN=admin,O=l2tp-test"]
  - role: reader
    uids: [65534]
    sans: ["DNS:reader.l2tp-test"]
YAML

port=$((20000 + RANDOM % 20000))
mport=$((port + 1))
TLS=(--listen="127.0.0.1:$port" --tls-cert="$PKI/server.pem" --tls-key="$PKI/server.key" --tls-client-ca="$PKI/ca.pem")
tcp() {  # CERT_NAME l2tpctl-args...: l2tpctl over mTLS with that client certificate
  local who=$1; shift
  "$CTL" --server "127.0.0.1:$port" --tls-ca "$PKI/ca.pem" --tls-cert "$PKI/$who.pem" --tls-key "$PKI/$who.key" --timeout 5s "$@"
}
as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$CTL" --socket "$SOCK" --timeout 5s "$@"; }
denied() {  # metric value of l2tp_agent_authz_denied_total{method=$1,role=$2}
  curl -sf "http://127.0.0.1:$mport/metrics" | awk -v m="$1" -v r="$2" \
    '$1 == "l2tp_agent_authz_denied_total{method=\"" m "\",role=\"" r "\"}" {print $2}'
}
write_base_config "$WORK/base.yaml"

METRICS_ADDR="127.0.0.1:$mport" start_agent "${TLS[@]}" --authz-policy="$WORK/policy.yaml" --socket-group=65534
[[ $(stat -c '%a %u %g' "$SOCK") == "660 0 65534" ]] || fail "socket mode/owner/group: $(stat -c '%a %u %g' "$SOCK")"
ok "the unix socket is mode 0660, owner root, group --socket-group"
grep -q "serving mTLS on 127.0.0.1:$port" "$AGENT_LOG" || fail "no mTLS start-up line"

tcp admin apply -f "$WORK/base.yaml" >/dev/null || fail "admin certificate: apply over mTLS"
[[ $(tcp admin get sessions -o json | jq '.sessions | length') == 3 ]] || fail "admin certificate: get"
ok "mTLS with the admin certificate (subject rule): Apply and Get succeed"

[[ $(tcp reader get tunnels -o json | jq '.tunnels | length') == 2 ]] || fail "reader certificate: get"
[[ $(denied Apply admin) == 0 ]] || fail "denial counter should start at 0, is '$(denied Apply admin)'"
cp "$WORK/base.yaml" "$WORK/more.yaml"
sed -i 's/sessionId: 5, peerSessionId: 6/sessionId: 7, peerSessionId: 8/' "$WORK/more.yaml"
expect_fail PERMISSION_DENIED tcp reader apply -f "$WORK/more.yaml" | grep -q 'client certificate "CN=reader,O=l2tp-test" (DNS:reader.l2tp-test) may not call Apply: it needs the admin role' ||
  fail "reader denial message"
expect_fail PERMISSION_DENIED tcp reader delete session s1 >/dev/null
[[ $(denied Apply admin) == 1 && $(denied Delete admin) == 1 ]] || fail "denial counter: Apply=$(denied Apply admin) Delete=$(denied Delete admin)"
grep -q 'authz: denied: client certificate "CN=reader,O=l2tp-test".*Apply' "$AGENT_LOG" || fail "the denial is not logged"
[[ $(ctl get sessions -o json | jq -r '[.sessions[].spec.sessionId] | sort | join(",")') == "1,3,5" ]] || fail "a denied Apply changed the state"
ok "reader certificate (SAN rule): Get succeeds; Apply and Delete get PERMISSION_DENIED naming the identity and role, logged, counted"

expect_fail PERMISSION_DENIED tcp stranger get tunnels | grep -q 'has none' || fail "stranger message"
[[ $(denied List reader) == 1 ]] || fail "denial counter for List/reader: $(denied List reader)"
ok "a valid certificate no rule names gets PERMISSION_DENIED even for reads"

rc=0; "$CTL" --server "127.0.0.1:$port" --tls-ca "$PKI/ca.pem" --timeout 5s get tunnels >"$WORK/out" 2>"$WORK/err" || rc=$?
[[ $rc -ne 0 && ! -s "$WORK/out" ]] || fail "a client without a certificate got through"
grep -q "UNAVAILABLE\|cannot connect" "$WORK/err" || fail "no-certificate error: $(cat "$WORK/err")"
rc=0; tcp forged get tunnels >"$WORK/out" 2>"$WORK/err" || rc=$?
[[ $rc -ne 0 && ! -s "$WORK/out" ]] || fail "a certificate from another CA got through"
rc=0; "$CTL" --server "127.0.0.1:$port" --insecure --timeout 5s get tunnels >"$WORK/out" 2>"$WORK/err" || rc=$?
[[ $rc -ne 0 && ! -s "$WORK/out" ]] || fail "a plaintext client got through to the TLS listener"
ok "the TLS handshake rejects no client certificate, a certificate from another CA, and plaintext"

# ---- the unix socket: the caller's uid comes from SO_PEERCRED.
ctl apply -f "$WORK/base.yaml" >/dev/null || fail "root over the unix socket: apply"
[[ $(as_nobody get sessions -o json | jq '.sessions | length') == 3 ]] || fail "uid 65534: get over the unix socket"
expect_fail PERMISSION_DENIED as_nobody apply -f "$WORK/more.yaml" | grep -q 'uid 65534 (gid 65534) may not call Apply: it needs the admin role and has the reader role' ||
  fail "uid 65534 denial message"
expect_fail PERMISSION_DENIED setpriv --reuid=65533 --regid=65534 --clear-groups "$CTL" --socket "$SOCK" get tunnels |
  grep -q 'uid 65533 (gid 65534) may not call List: it needs the reader role and has none' || fail "uid 65533 message"
ctl apply -f "$WORK/more.yaml" >/dev/null || fail "root apply after the denials"
[[ $(ctl get sessions -o json | jq -r '[.sessions[].spec.sessionId] | sort | join(",")') == "1,3,7" ]] || fail "root apply"
rc=0; setpriv --reuid=65533 --regid=65533 --clear-groups "$CTL" --socket "$SOCK" info >/dev/null 2>"$WORK/err" || rc=$?
[[ $rc -ne 0 ]] && grep -q "permission denied" "$WORK/err" || fail "uid outside the socket's group connected: $(cat "$WORK/err")"
ok "unix socket: root is admin, uid 65534 (via the socket group) is reader and denied Apply, uid 65533 has no role; others cannot connect"

# Health and reflection (gRPC's own services) need no role: any caller the
# socket lets in may use them; they still count toward the per-client limit.
BUF="${BUF:-$ROOT/.tools/node_modules/.bin/buf}"
[[ -x "$BUF" ]] || fail "buf not installed at $BUF (scripts/setup.sh installs it)"
buf_as() {  # UID BUF-ARGS...: buf as that uid (gid 65534), with a home (cache) of its own
  local uid=$1; shift
  mkdir -p "$WORK/home-$uid" && chown "$uid" "$WORK/home-$uid"
  HOME="$WORK/home-$uid" setpriv --reuid="$uid" --regid=65534 --clear-groups "$BUF" "$@"
}
health_as() {  # UID: grpc.health.v1.Health/Check over the unix socket as that uid
  buf_as "$1" curl --protocol grpc --http2-prior-knowledge --unix-socket "$SOCK" \
    -d '{"service": "l2tpagent.v1.L2tpAgent"}' http://localhost/grpc.health.v1.Health/Check 2>&1
}
health_as 65534 | grep -q SERVING || fail "uid 65534 (reader): health: $(health_as 65534)"
health_as 65533 | grep -q SERVING || fail "uid 65533 (no role): health: $(health_as 65533)"
buf_as 65533 curl --protocol grpc --http2-prior-knowledge --unix-socket "$SOCK" --list-methods http://localhost \
  >"$WORK/methods.txt" 2>&1 || true
grep -q 'l2tpagent.v1.L2tpAgent/Apply' "$WORK/methods.txt" ||
  fail "uid 65533 (no role) could not use reflection: $(cat "$WORK/methods.txt")"
! grep -q 'may not call grpc\.' "$AGENT_LOG" || fail "a health or reflection call was refused by role"
ok "health and reflection: any caller the socket admits may use them (uid 65534 reader, uid 65533 no role)"

# fd reuse: many short connections from different uids; each call is judged by its own peer.
for i in $(seq 1 20); do
  ctl info >/dev/null || fail "root info #$i"
  expect_fail PERMISSION_DENIED as_nobody delete session s3 >/dev/null
done
ctl get session s3 >/dev/null || fail "s3 was deleted by a reader"
ok "alternating root and uid 65534 connections (fd numbers reused) are each judged by their own credentials"
stop_agent

# ---- start-up: flag combinations that are refused.
refuse() {  # GREP flags...: the agent must exit non-zero with GREP in its log
  local want=$1; shift
  local rc=0
  "$AGENT" --socket="$SOCK" --state-dir="$STATE" --datapath=memory --metrics-addr= "$@" >"$WORK/refuse.log" 2>&1 || rc=$?
  [[ $rc -ne 0 ]] && grep -q -- "$want" "$WORK/refuse.log" || fail "expected refusal '$want' for $*: $(cat "$WORK/refuse.log")"
  [[ ! -e "$SOCK" ]] || fail "a refused start left the socket behind"
}
refuse "TCP needs TLS" --listen="127.0.0.1:$port"
refuse "only allowed on a loopback address" --listen="0.0.0.0:$port" --insecure
refuse "only allowed on a loopback address" --listen="[::]:$port" --insecure
refuse "plaintext cannot be combined" --listen="127.0.0.1:$port" --insecure --tls-cert="$PKI/server.pem"
refuse "--tls-key: cannot read" --listen="0.0.0.0:$port" --tls-cert="$PKI/server.pem" --tls-key="$WORK/missing.key"
refuse "apply to --listen" --tls-cert="$PKI/server.pem" --tls-key="$PKI/server.key"
printf 'rules:\n  - role: superuser\n    uids: [0]\n' >"$WORK/bad-policy.yaml"
refuse 'rules\[0\].role: must be reader or admin, got "superuser"' --authz-policy="$WORK/bad-policy.yaml"
refuse "--socket-group: \"no-such-group-xyz\"" --socket-group=no-such-group-xyz
touch "$WORK/not-a-socket"
rc=0; "$AGENT" --socket="$WORK/not-a-socket" --state-dir="$STATE" --datapath=memory --metrics-addr= >"$WORK/ns.log" 2>&1 || rc=$?
[[ $rc -ne 0 ]] && grep -q "is not a socket" "$WORK/ns.log" || fail "a regular file at --socket was replaced"
ok "refused at start: TCP without TLS or --insecure, --insecure off loopback, mixed flags, unreadable keys, a bad policy (field named), an unknown group, a non-socket path"

# --insecure on loopback: works, with a warning; without a policy the TCP client is admin.
start_agent --listen="127.0.0.1:$port" --insecure
grep -q "serving PLAINTEXT TCP on 127.0.0.1:$port (--insecure)" "$AGENT_LOG" || fail "no plaintext warning"
"$CTL" --server "127.0.0.1:$port" --insecure get sessions | grep -q s1 || fail "l2tpctl --insecure over loopback"
expect_fail "give --tls-ca" "$CTL" --server "127.0.0.1:$port" get sessions >/dev/null
ok "--insecure on loopback serves plaintext with a warning; l2tpctl needs --insecure to use it"
stop_agent

# TLS without client certificates: the channel is encrypted, the clients anonymous (no role without a policy).
start_agent --listen="127.0.0.1:$port" --tls-cert="$PKI/server.pem" --tls-key="$PKI/server.key"
expect_fail PERMISSION_DENIED "$CTL" --server "127.0.0.1:$port" --tls-ca "$PKI/ca.pem" get sessions | grep -q "anonymous client" ||
  fail "anonymous TLS message"
ok "TLS without --tls-client-ca: anonymous clients get no role without a policy"
stop_agent

# ---- limits
write_large_config "$WORK/large.json" 20
start_agent --max-apply-resources=10 --max-sessions=5
ctl apply -f "$WORK/base.yaml" --prune >/dev/null || fail "base apply under limits"
before=$(ctl get sessions -o json | jq -c '[.sessions[] | {name, spec, resourceVersion}]')
expect_fail RESOURCE_EXHAUSTED ctl apply -f "$WORK/large.json" | grep -q -- "--max-apply-resources=10: the request holds 30" || fail "apply-size message"
cat >"$WORK/three.yaml" <<'YAML'
sessions:
  - {name: x1, spec: {tunnel: t1, sessionId: 11, peerSessionId: 11}}
  - {name: x2, spec: {tunnel: t1, sessionId: 12, peerSessionId: 12}}
  - {name: x3, spec: {tunnel: t1, sessionId: 13, peerSessionId: 13}}
YAML
expect_fail RESOURCE_EXHAUSTED ctl apply -f "$WORK/three.yaml" | grep -q "6 sessions; the limits are --max-tunnels=100000 and --max-sessions=5" || fail "max-sessions message"
[[ $(ctl get sessions -o json | jq -c '[.sessions[] | {name, spec, resourceVersion}]') == "$before" ]] || fail "a refused apply changed the state"
ok "over --max-apply-resources and over --max-sessions: RESOURCE_EXHAUSTED naming the limit; state unchanged"
stop_agent

start_agent --max-message-bytes=65536
write_large_config "$WORK/big.json" 4000  # about 100 KB as protobuf
expect_fail RESOURCE_EXHAUSTED ctl apply -f "$WORK/big.json" | grep -q "larger than max" || fail "oversized message error"
[[ $(ctl get sessions -o json | jq '.sessions | length') == 3 ]] || fail "an oversized message changed the state"
write_large_config "$WORK/mid.json" 1000  # about 25 KB as protobuf; its response is larger than 64 KiB
ctl apply -f "$WORK/mid.json" >/dev/null || fail "a request under --max-message-bytes with a larger response"
ok "a request larger than --max-message-bytes gets RESOURCE_EXHAUSTED, state unchanged; responses are not limited"
stop_agent

start_agent --max-concurrent-rpcs-per-client=1 --authz-policy="$WORK/policy.yaml" --socket-group=65534
"$CTL" --socket "$SOCK" watch --timeout 60s >"$WORK/watch.out" 2>&1 &
WATCH_PID=$!
over_limit() { ! ctl get tunnels >/dev/null 2>"$WORK/limit.err" && grep -q RESOURCE_EXHAUSTED "$WORK/limit.err"; }
wait_for "the watch stream to hold root's only slot" over_limit
grep -q -- "--max-concurrent-rpcs-per-client=1: uid 0 (gid 0) already has 1 calls in flight" "$WORK/limit.err" || fail "limit message: $(cat "$WORK/limit.err")"
as_nobody get tunnels -o json | jq -e ".tunnels | length > 0" >/dev/null || fail "another identity was limited"
kill "$WATCH_PID"; wait "$WATCH_PID" 2>/dev/null || true
wait_for "root's slot to free up" ctl get tunnels
ok "--max-concurrent-rpcs-per-client=1: an open Watch holds root's slot, a second root call gets RESOURCE_EXHAUSTED, uid 65534 is unaffected; the slot frees when the stream ends"
stop_agent

# TCP connections that never start TLS: the newest beyond
# --max-connections-per-peer (one address) are shut down within about a
# second, the rest when --tls-handshake-timeout runs out; mTLS still works.
METRICS_ADDR="127.0.0.1:$mport" start_agent "${TLS[@]}" --max-connections-per-peer=4 --tls-handshake-timeout=3s
/usr/bin/python3 - "$port" >"$WORK/idle.out" <<'PY'
import socket, sys, time
port = int(sys.argv[1])
conns = [socket.create_connection(("127.0.0.1", port)) for _ in range(10)]
def closed():
    n = 0
    for s in conns:
        s.setblocking(False)
        try:
            n += s.recv(1) == b""
        except BlockingIOError:
            pass
        except OSError:
            n += 1
    return n
time.sleep(2.5)
print(closed(), flush=True)
time.sleep(3)
print(closed(), flush=True)
PY
mapfile -t idle <"$WORK/idle.out"
[[ ${idle[0]} == 6 ]] || fail "after 2.5 s ${idle[0]} of 10 idle connections were closed, expected 6 (per-address limit 4)"
[[ ${idle[1]} == 10 ]] || fail "after 5.5 s ${idle[1]} of 10 were closed, expected all (TLS handshake timeout 3 s)"
refused=$(curl -fsS "http://127.0.0.1:$mport/metrics" | grep '^l2tp_agent_connections_refused_total{listener="tcp",reason="per_peer"}' | awk '{print $2}')
[[ $refused == 6 ]] || fail "tcp per_peer refusals counted: '$refused'"
tcp admin get tunnels >/dev/null || fail "mTLS after the idle connections"
ok "TCP: idle connections over --max-connections-per-peer are shut down and counted; the rest end at --tls-handshake-timeout; mTLS works on"
stop_agent
finish
