#!/usr/bin/env bash
# The control library (control/) against xl2tpd, a real L2TPv2 LAC/LNS
# nobody here wrote, through tests/interop/control_driver.cc over UDP in two
# network namespaces, on custom ports (as xl2tpd's own tests do):
#   1. we initiate to xl2tpd as LNS: ESTABLISHED, hellos answered, our
#      session's call reaches xl2tpd, whose pppd cannot start on this host
#      (no PPP in this kernel) so it clears the call: its CDN is reported;
#      our StopCCN closes the tunnel on xl2tpd's side;
#   2. the same with a shared secret and `challenge = yes` on xl2tpd; and a
#      wrong secret is refused;
#   3. xl2tpd as LAC dials us as responder; `xl2tpd-control disconnect-lac`
#      sends StopCCN, which we report.
# Usage: xl2tpd_control_test.sh CONTROL_DRIVER
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/../../scripts/lib/veth-pair.sh"
DRIVER=$1
require_exec control_driver "$DRIVER"
require xl2tpd:xl2tpd

WORK=$(mktemp -d)
NS_US=l2tpx-us-$$
NS_X=l2tpx-x-$$
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  ip netns del "$NS_US" 2>/dev/null || true
  ip netns del "$NS_X" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; for f in "$WORK"/*.log; do echo "--- $f"; tail -40 "$f"; done; exit 1; }
veth_pair "$NS_US" "$NS_X" 10.231.0
US=10.231.0.1 X=10.231.0.2 PORT_US=51702 PORT_X=51701

# start_xl2tpd NAME CONFIG_BODY: xl2tpd in the other namespace, foreground.
start_xl2tpd() {
  local name=$1 body=$2
  printf '%s\n' "$body" >"$WORK/$name.conf"
  printf '* * %s\n' "${XSECRET:-unused}" >"$WORK/$name.secrets"
  chmod 600 "$WORK/$name.secrets"
  ip netns exec "$NS_X" xl2tpd -D -c "$WORK/$name.conf" -s "$WORK/$name.secrets" -p "$WORK/$name.pid" \
    -C "$WORK/$name.ctl" >"$WORK/$name.log" 2>&1 &
  XPID=$!
  PIDS+=("$XPID")
  sleep 1
  kill -0 "$XPID" 2>/dev/null || fail "xl2tpd $name did not start"
}
stop_xl2tpd() { kill -TERM "$XPID" 2>/dev/null || true; wait "$XPID" 2>/dev/null || true; }

lns_config() {  # CHALLENGE (yes|no)
  cat <<CONF
[global]
listen-addr = $X
port = $PORT_X
access control = no
auth file = $WORK/lns.secrets
[lns default]
ip range = 10.232.0.10-10.232.0.20
local ip = 10.232.0.1
hostname = xl2tpd-lns
challenge = $1
require authentication = no
length bit = yes
CONF
}

# 1. We initiate; no secret.
start_xl2tpd lns "$(lns_config no)"
ip netns exec "$NS_US" "$DRIVER" --version=2 --role=initiator --local=$US:$PORT_US --remote=$X:$PORT_X \
  --tunnel-id=7 --host-name=agent-lac --hello=2 --run=9 --close-at=6 >"$WORK/case1.log" 2>&1 || fail "driver failed"
grep -q 'tunnel ESTABLISHED .*peer_host=xl2tpd-lns' "$WORK/case1.log" || fail "case 1: not established"
grep -q 'peer_vendor="xelerance.com"' "$WORK/case1.log" || fail "case 1: vendor not learned"
grep -q 'session 100 ESTABLISHED' "$WORK/case1.log" || fail "case 1: our call was not connected"
grep -q 'session 100 DOWN .*peer ended the session: result' "$WORK/case1.log" || fail "case 1: xl2tpd's CDN not reported"
grep -Eq 'tunnel ESTABLISHED .*rtt_ms=[0-9]+' "$WORK/case1.log" || fail "case 1: no hello round trip"
grep -q 'tunnel CLOSING' "$WORK/case1.log" || fail "case 1: close did not send StopCCN"
grep -q 'exit malformed=0 illegal=0 auth_failures=0' "$WORK/case1.log" || fail "case 1: counters"
sleep 1
grep -Eqi 'closed|StopCCN|shutting down' "$WORK/lns.log" || fail "case 1: xl2tpd did not see our StopCCN"
stop_xl2tpd
echo "ok 1: initiator to xl2tpd LNS: established, hello, CDN reported, StopCCN"

# 2. Shared secret with challenge; then a wrong one.
XSECRET=tunnel-secret start_xl2tpd lns "$(lns_config yes)"
ip netns exec "$NS_US" "$DRIVER" --version=2 --role=initiator --local=$US:$PORT_US --remote=$X:$PORT_X \
  --tunnel-id=8 --host-name=agent-lac --secret=tunnel-secret --sessions=0 --run=3 >"$WORK/case2.log" 2>&1
grep -q 'tunnel ESTABLISHED .*peer_host=xl2tpd-lns' "$WORK/case2.log" || fail "case 2: not established with a secret"
ip netns exec "$NS_US" "$DRIVER" --version=2 --role=initiator --local=$US:$PORT_US --remote=$X:$PORT_X \
  --tunnel-id=9 --host-name=agent-lac --secret=wrong-secret --sessions=0 --run=3 >"$WORK/case2b.log" 2>&1
grep -q 'tunnel ESTABLISHED' "$WORK/case2b.log" && fail "case 2: established with a wrong secret"
grep -q 'auth_failures=1' "$WORK/case2b.log" || fail "case 2: wrong secret not counted"
stop_xl2tpd
echo "ok 2: challenge/response with xl2tpd; a wrong secret is refused"

# 3. xl2tpd dials us.
start_xl2tpd lac "[global]
listen-addr = $X
port = $PORT_X
access control = no
[lac agent]
lns = $US:$PORT_US
hostname = xl2tpd-lac
autodial = yes
redial = no
length bit = yes"
ip netns exec "$NS_US" "$DRIVER" --version=2 --role=responder --local=$US:$PORT_US \
  --tunnel-id=11 --host-name=agent-lns --run=8 >"$WORK/case3.log" 2>&1 &
DPID=$!
PIDS+=("$DPID")
sleep 4
echo "d agent" >"$WORK/lac.ctl"  # the control FIFO: disconnect the LAC
sleep 2
stop_xl2tpd
wait "$DPID" || fail "case 3: driver failed"
grep -q 'tunnel ESTABLISHED .*peer_host=xl2tpd-lac' "$WORK/case3.log" || fail "case 3: not established"
grep -q 'session 100 ESTABLISHED' "$WORK/case3.log" || fail "case 3: xl2tpd's call not answered"
grep -q 'stop="peer stopped the tunnel: result' "$WORK/case3.log" || fail "case 3: xl2tpd's StopCCN not reported"
echo "ok 3: xl2tpd LAC to us as responder; its StopCCN reported"
echo "xl2tpd_control: 3 passed, 0 failed"
