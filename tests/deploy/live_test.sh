#!/usr/bin/env bash
# Live: a real Prometheus scrapes two real l2tp-agents that pass traffic through
# a userspace pseudowire (like scripts/demo.sh), and every dashboard panel
# query, with its template variables filled in, returns data. Also: the agent
# exports every documented metric, promtool check metrics passes, the alert
# rules load and evaluate, /healthz and /readyz answer.
#
# Layout (all inside namespaces this test creates; nothing leaves them):
#   ns A: agent A (metrics 127.0.0.1:9810), Prometheus on 127.0.0.1:9090
#   ns B: agent B (metrics 192.0.2.2:9810, scraped over the veth from ns A)
# Needs root, BUILD_DIR, apt prometheus, curl, jq.
source "$(dirname "$0")/lib.sh"
need prometheus promtool curl jq ip ping
[[ $(id -u) -eq 0 ]] || fail "needs root (network namespaces, TAP devices)"
: "${BUILD_DIR:?BUILD_DIR must point at the CMake build directory}"
AGENT=$BUILD_DIR/agent/l2tp-agent
CTL=$BUILD_DIR/client/l2tpctl
[[ $("$AGENT" --help 2>&1 || true) == *metrics_addr* ]] || fail "$AGENT has no --metrics-addr"
NS_A=l2tp-deploy-a-$$
NS_B=l2tp-deploy-b-$$
PIDS=()
cleanup() {
  for pid in "${PIDS[@]:-}"; do [[ -n "$pid" ]] && kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]:-}"; do [[ -n "$pid" ]] && timeout 10 tail --pid="$pid" -f /dev/null 2>/dev/null || true; done
  ip netns del "$NS_A" 2>/dev/null || true
  ip netns del "$NS_B" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
logs() { for f in "$WORK"/*.log; do echo "--- $f" >&2; tail -20 "$f" >&2; done; }
die() { logs; fail "$@"; }

ip netns add "$NS_A"
ip netns add "$NS_B"
ip link add veth-a netns "$NS_A" type veth peer name veth-b netns "$NS_B"
ip -n "$NS_A" addr add 192.0.2.1/24 dev veth-a
ip -n "$NS_B" addr add 192.0.2.2/24 dev veth-b
for ns in "$NS_A" "$NS_B"; do ip -n "$ns" link set lo up; done
ip -n "$NS_A" link set veth-a up
ip -n "$NS_B" link set veth-b up

start_agent() {  # site namespace metrics-addr
  ip netns exec "$2" "$AGENT" --socket="$WORK/$1.sock" --state-dir="$WORK/state-$1" --datapath=auto \
    --resync-interval=1s --metrics-addr="$3" --session-metrics >"$WORK/agent-$1.log" 2>&1 &
  PIDS+=($!)
  for _ in $(seq 1 100); do [[ -S "$WORK/$1.sock" ]] && return 0; sleep 0.1; done
  die "agent $1 did not start"
}
start_agent a "$NS_A" 127.0.0.1:9810
start_agent b "$NS_B" 192.0.2.2:9810
"$CTL" --socket "$WORK/a.sock" apply -f "$ROOT/examples/demo/site-a.yaml" >/dev/null
"$CTL" --socket "$WORK/b.sock" apply -f "$ROOT/examples/demo/site-b.yaml" >/dev/null
ready() { [[ $("$CTL" --socket "$WORK/$1.sock" get sessions lan -o json | jq -r .status.phase) == PHASE_READY ]]; }
for _ in $(seq 1 100); do ready a && ready b && break; sleep 0.1; done
ready a && ready b || die "sessions did not become READY"
ip -n "$NS_A" addr add 198.51.100.1/24 dev l2tp-demo
ip -n "$NS_B" addr add 198.51.100.2/24 dev l2tp-demo
ip netns exec "$NS_A" ping -c 3 -i 0.2 -W 2 198.51.100.2 >/dev/null || die "no ping through the pseudowire"
ok "two agents (datapath $("$CTL" --socket "$WORK/a.sock" info -o json | jq -r '.datapath // "?"')) pass traffic through the pseudowire"
# Traffic for the whole test (bounded: 400 pings, 0.2 s apart).
ip netns exec "$NS_A" ping -q -c 400 -i 0.2 198.51.100.2 >/dev/null 2>&1 &
PIDS+=($!)

in_a() { ip netns exec "$NS_A" "$@"; }
[[ $(in_a curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:9810/healthz) == 200 ]] || die "/healthz"
[[ $(in_a curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:9810/readyz) == 200 ]] || die "/readyz"
ok "/healthz and /readyz answer 200"
in_a curl -sf http://127.0.0.1:9810/metrics >"$WORK/metrics.txt" || die "GET /metrics"
promtool check metrics <"$WORK/metrics.txt" >"$WORK/lint.txt" 2>&1 || { cat "$WORK/lint.txt"; die "promtool check metrics"; }
missing=()
while read -r name type; do
  [[ -z "$name" || "$name" == \#* ]] && continue
  grep -q "^# TYPE $name $type\$" "$WORK/metrics.txt" || missing+=("$name ($type)")
done <"$HERE/metrics.txt"
[[ ${#missing[@]} -eq 0 ]] || die "metrics not exported as documented: ${missing[*]}"
# ...and nothing undocumented (a new metric goes into metrics.txt, then onto the dashboard).
extra=$(awk '/^# TYPE l2tp_/ {print $3}' "$WORK/metrics.txt" | while read -r m; do grep -q "^$m " "$HERE/metrics.txt" || echo "$m"; done)
[[ -z "$extra" ]] || die "exported but not in tests/deploy/metrics.txt: $extra"
ok "agent A exports exactly the $(grep -c '^l2tp' "$HERE/metrics.txt") documented l2tp metrics with their types; promtool check metrics is clean"

cat >"$WORK/prometheus.yml" <<YAML
global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files:
  - $DEPLOY/prometheus/l2tp-agent-rules.yaml
scrape_configs:
  - job_name: l2tp-agent
    static_configs:
      - targets: ["127.0.0.1:9810"]
        labels: {node: site-a}
      - targets: ["192.0.2.2:9810"]
        labels: {node: site-b}
YAML
ip netns exec "$NS_A" prometheus --config.file="$WORK/prometheus.yml" --storage.tsdb.path="$WORK/tsdb" \
  --web.listen-address=127.0.0.1:9090 >"$WORK/prometheus.log" 2>&1 &
PIDS+=($!)
query() { in_a curl -sf --get --data-urlencode "query=$1" http://127.0.0.1:9090/api/v1/query; }
# The first scrape comes some seconds after start: poll, never sleep a fixed time.
for _ in $(seq 1 300); do
  [[ $(query 'sum(up{job="l2tp-agent"})' 2>/dev/null | jq -r '.data.result[0].value[1] // 0') == 2 ]] && break
  sleep 0.1
done
[[ $(query 'sum(up{job="l2tp-agent"})' | jq -r '.data.result[0].value[1] // 0') == 2 ]] || die "Prometheus did not scrape both agents"
ok "Prometheus scrapes both agents (up == 1 for site-a and site-b)"

# A few API calls so the gRPC metrics have series.
for s in a b; do "$CTL" --socket "$WORK/$s.sock" get tunnels >/dev/null; "$CTL" --socket "$WORK/$s.sock" stats >/dev/null; done

# The variables' own queries (label_values) find the nodes, instances and tunnels.
label_values() { in_a curl -sf --get --data-urlencode "match[]=$1" "http://127.0.0.1:9090/api/v1/label/$2/values" | jq -r '.data | join(",")'; }
[[ $(label_values 'l2tp_agent_build_info' node) == "site-a,site-b" ]] || die "label_values(l2tp_agent_build_info, node)"
[[ $(label_values 'l2tp_agent_build_info{node=~"site-a"}' instance) == "127.0.0.1:9810" ]] || die "label_values(instance)"
[[ $(label_values 'l2tp_tunnel_rx_packets_total{node=~".*", instance=~".*"}' tunnel) == "to-a,to-a-dyn,to-b,to-b-dyn" ]] ||
  die "label_values(tunnel): $(label_values 'l2tp_tunnel_rx_packets_total{node=~".*", instance=~".*"}' tunnel)"
ok "the node, instance and tunnel variables' queries return site-a,site-b / 127.0.0.1:9810 / to-a,to-a-dyn,to-b,to-b-dyn"

# Every panel query, variables filled in as Grafana would for one selection and
# for "All", returns data. $__rate_interval: 10s spans several 1 s scrapes.
check_panels() {  # description vars-json
  local queries pending=() i n expr
  queries=$(validate queries "$DEPLOY/grafana/l2tp-agent.json" "$2")
  n=$(jq length <<<"$queries")
  for _ in $(seq 1 60); do
    pending=()
    for ((i = 0; i < n; i++)); do
      expr=$(jq -r ".[$i].expr" <<<"$queries")
      [[ $(query "$expr" | jq '.data.result | length') -gt 0 ]] || pending+=("$(jq -r '"\(.['$i'].panel) \(.['$i'].refId)"' <<<"$queries")")
    done
    [[ ${#pending[@]} -eq 0 ]] && break
    sleep 0.5
  done
  [[ ${#pending[@]} -eq 0 ]] || die "$1: no data for: ${pending[*]}"
  ok "$1: all $n panel queries return data"
}
# Two tunnels selected, as Grafana's multi-value variable writes them: the
# STATIC one and the DYNAMIC one (the control panels have series only for it).
check_panels 'node=site-a, instance=127.0.0.1:9810, tunnel=to-b|to-b-dyn' \
  '{"__rate_interval":"10s","node":"site-a","instance":"127.0.0.1:9810","tunnel":"(to-b|to-b-dyn)"}'
check_panels 'node=site-b, instance=192.0.2.2:9810, tunnel=to-a|to-a-dyn' \
  '{"__rate_interval":"10s","node":"site-b","instance":"192.0.2.2:9810","tunnel":"(to-a|to-a-dyn)"}'
# The check can fail: a misspelt metric in a panel query has no data.
[[ $(query 'sum by (instance, tunnel) (rate(l2tp_tunnel_rx_byte_total{node=~"site-a"}[10s]))' | jq '.data.result | length') == 0 ]] \
  || die "a misspelt metric returned data"
ok "a query with a misspelt metric (l2tp_tunnel_rx_byte_total) returns no data"
check_panels 'All (.*)' '{"__rate_interval":"10s","node":".*","instance":".*","tunnel":".*"}'

# The traffic shows: the throughput panel's receive query is above zero.
expr=$(validate queries "$DEPLOY/grafana/l2tp-agent.json" '{"__rate_interval":"10s","node":"site-a","instance":"127.0.0.1:9810","tunnel":"to-b"}' \
  | jq -r '.[] | select(.panel == "Throughput" and .refId == "A") | .expr')
rx=$(query "$expr" | jq -r '.data.result[0].value[1]')
awk -v v="$rx" 'BEGIN { exit !(v > 0) }' || die "Throughput rx for to-b is $rx"
ok "Throughput rx for tunnel to-b at site-a: $rx bytes/s"

# The alert rules loaded and evaluate without errors; none fires on a healthy pair.
rules=$(in_a curl -sf http://127.0.0.1:9090/api/v1/rules)
[[ $(jq '[.data.groups[].rules[]] | length' <<<"$rules") == "$(grep -c '^      - alert:' "$DEPLOY/prometheus/l2tp-agent-rules.yaml")" ]] || die "not every rule loaded"
bad=$(jq -r '[.data.groups[].rules[] | select(.health != "ok") | .name] | join(",")' <<<"$rules")
[[ -z "$bad" ]] || die "rules not healthy: $bad"
firing=$(query 'ALERTS{alertstate="firing"}' | jq -r '[.data.result[].metric.alertname] | join(",")')
[[ -z "$firing" ]] || die "alerts firing on a healthy pair: $firing"
ok "all $(jq '[.data.groups[].rules[]] | length' <<<"$rules") alert rules load and evaluate (health ok), none firing"
finish
