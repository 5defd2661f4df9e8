#!/usr/bin/env bash
# A real Prometheus scrapes a real agent while traffic flows through a
# userspace pseudowire between two namespaces; the rates it computes are
# non-zero. Prometheus runs inside site A's namespace, next to agent A.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
: "${BUILD_DIR:?}"
AGENT=$BUILD_DIR/agent/l2tp-agent
CTL=$BUILD_DIR/client/l2tpctl
RUN=$(mktemp -d /tmp/l2tp-prom-XXXXXX)
source "$ROOT/scripts/lib/two-sites.sh"
PROM_PID=""
cleanup() {
  [[ -n "$PROM_PID" ]] && kill "$PROM_PID" 2>/dev/null || true
  sites_down
  rm -rf "$RUN"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; tail -20 "$RUN"/prometheus.log >&2 2>/dev/null || true; exit 1; }
command -v prometheus >/dev/null || fail "prometheus missing (apt prometheus; scripts/setup.sh installs it)"

sites_up
start_site_agent a --metrics-addr=127.0.0.1:9810
start_site_agent b
ctl_a apply -f "$ROOT/examples/demo/site-a.yaml" >/dev/null
ctl_b apply -f "$ROOT/examples/demo/site-b.yaml" >/dev/null
for _ in $(seq 1 100); do session_ready a lan && session_ready b lan && break; sleep 0.1; done
session_ready a lan && session_ready b lan || fail "sessions not READY"
ip -n "$NS_A" addr add 198.51.100.1/24 dev l2tp-demo
ip -n "$NS_B" addr add 198.51.100.2/24 dev l2tp-demo

cat >"$RUN/prometheus.yml" <<'YAML'
global: {scrape_interval: 1s, evaluation_interval: 1s}
scrape_configs:
  - job_name: l2tp-agent
    static_configs: [{targets: ["127.0.0.1:9810"]}]
YAML
ip netns exec "$NS_A" prometheus --config.file="$RUN/prometheus.yml" --storage.tsdb.path="$RUN/tsdb" \
  --web.listen-address=127.0.0.1:9091 >"$RUN/prometheus.log" 2>&1 &
PROM_PID=$!

# Traffic for at most 30 s while we poll.
ip netns exec "$NS_A" ping -q -i 0.05 -w 30 198.51.100.2 >/dev/null 2>&1 &
PING_PID=$!
query() { ip netns exec "$NS_A" curl -fsS --get "http://127.0.0.1:9091/api/v1/query" --data-urlencode "query=$1"; }
value=""
for _ in $(seq 1 120); do
  value=$(query 'sum(rate(l2tp_tunnel_rx_packets_total{tunnel="to-b"}[5s]))' 2>/dev/null | jq -r '.data.result[0].value[1] // empty' || true)
  if [[ -n "$value" ]] && awk -v v="$value" 'BEGIN { exit !(v > 0) }'; then break; fi
  sleep 0.25
done
kill "$PING_PID" 2>/dev/null || true
[[ -n "$value" ]] && awk -v v="$value" 'BEGIN { exit !(v > 0) }' || fail "Prometheus never saw a non-zero rx rate (last: '$value')"
echo "ok 1 - Prometheus computes rate(l2tp_tunnel_rx_packets_total) = $value packets/s"
tx=$(query 'sum(rate(l2tp_tunnel_tx_bytes_total[10s]))' | jq -r '.data.result[0].value[1] // "0"')
awk -v v="$tx" 'BEGIN { exit !(v > 0) }' || fail "tx byte rate is $tx"
echo "ok 2 - tx byte rate $tx bytes/s"
up=$(query 'up{job="l2tp-agent"}' | jq -r '.data.result[0].value[1]')
[[ "$up" == 1 ]] || fail "up = $up"
echo "ok 3 - target up"
echo "3 passed, 0 failed"
