#!/usr/bin/env bash
# Metrics: /healthz, /readyz, the /metrics text passes `promtool check
# metrics`, and the expected families are there with live values.
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/lib.sh"
source "$HERE/fixtures.sh"
command -v promtool >/dev/null || fail "promtool missing (apt prometheus; scripts/setup.sh installs it)"

port=$((20000 + RANDOM % 20000))
METRICS_ADDR=127.0.0.1:$port start_agent --session-metrics --session-metrics-limit=2
url=http://127.0.0.1:$port
curl -fsS "$url/healthz" | grep -q ok || fail "/healthz"
wait_for "/readyz 200" curl -fsS "$url/readyz"
ok "/healthz and /readyz answer 200"

write_base_config "$WORK/base.yaml"
ctl apply -f "$WORK/base.yaml" >/dev/null
wait_for "READY" all_ready
ctl get tunnels >/dev/null
expect_fail NOT_FOUND ctl get tunnels ghost >/dev/null
curl -fsS "$url/metrics" >"$WORK/metrics.txt"
promtool check metrics <"$WORK/metrics.txt" || fail "promtool check metrics: $(promtool check metrics <"$WORK/metrics.txt" 2>&1)"
ok "promtool check metrics passes"

has() { grep -qE "^$1" "$WORK/metrics.txt" || fail "missing: $1"; }
has 'l2tp_agent_build_info\{version="[0-9.]+"\} 1'
has 'l2tp_agent_datapath_info\{datapath="memory"\} 1'
has 'l2tp_agent_reconcile_total\{result="success"\} [1-9]'
has 'l2tp_agent_reconcile_duration_seconds_count [1-9]'
has 'l2tp_agent_drift_repairs_total\{kind="session"\} 0'
has 'l2tp_agent_datapath_errors_total\{op="create_tunnel"\} 0'
has 'l2tp_agent_resources\{kind="session",phase="ready"\} 3'
has 'l2tp_agent_grpc_requests_total\{code="OK",method="Apply"\} 1'
has 'l2tp_agent_grpc_requests_total\{code="NOT_FOUND",method="Get"\} 1'
has 'l2tp_agent_grpc_request_duration_seconds_count\{method="List"\} [1-9]'
has 'l2tp_tunnel_rx_packets_total\{tunnel="t1"\} 0'
has 'l2tp_tunnel_rx_cookie_discards_total\{tunnel="t2"\} 0'
has 'l2tp_session_info\{interface="l2tp100-1",pseudowire="eth",session="s1",tunnel="t1"\} 1'
has 'l2tp_agent_session_metrics_truncated 1'
[[ $(grep -c '^l2tp_session_rx_packets_total' "$WORK/metrics.txt") == 2 ]] || fail "--session-metrics-limit=2 not applied"
ok "every family is there, with live values and the session cap"
stop_agent

METRICS_ADDR= start_agent
if curl -fsS "http://127.0.0.1:$port/metrics" >/dev/null 2>&1; then fail "--metrics-addr= should disable metrics"; fi
ok "an empty --metrics-addr disables the endpoint"
stop_agent
finish
