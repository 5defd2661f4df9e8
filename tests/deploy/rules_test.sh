#!/usr/bin/env bash
# The alert rules: promtool check rules, promtool test rules (every alert fires
# on a crafted series and stays quiet otherwise), our own checks, and proof
# that broken rules are caught.
source "$(dirname "$0")/lib.sh"
need promtool
RULES=$DEPLOY/prometheus/l2tp-agent-rules.yaml

promtool check rules "$RULES" >"$WORK/check.txt" || { cat "$WORK/check.txt"; fail "promtool check rules"; }
ok "promtool check rules: $(grep -o 'SUCCESS.*' "$WORK/check.txt")"
promtool test rules "$HERE/rules_test.yaml" >"$WORK/test.txt" 2>&1 || { cat "$WORK/test.txt"; fail "promtool test rules"; }
grep -q SUCCESS "$WORK/test.txt" || fail "promtool test rules did not report SUCCESS"
ok "promtool test rules tests/deploy/rules_test.yaml: $(grep -c 'alertname:' "$HERE/rules_test.yaml") evaluations pass"
validate rules "$RULES" "$HERE/rules_test.yaml" >"$WORK/rules.txt" 2>&1 || { cat "$WORK/rules.txt"; fail "rule checks"; }
ok "$(sed 's/^ok - //' "$WORK/rules.txt")"

# Negative cases on copies: each must be caught.
mutate() {  # NAME SED-EXPR: a copy of the rules and of the tests pointing at it
  mkdir -p "$WORK/$1"
  sed -e "$2" "$RULES" >"$WORK/$1/rules.yaml"
  cmp -s "$RULES" "$WORK/$1/rules.yaml" && fail "mutation $1 changed nothing"
  sed -e "s|\.\./\.\./deploy/prometheus/l2tp-agent-rules.yaml|rules.yaml|" "$HERE/rules_test.yaml" >"$WORK/$1/test.yaml"
}
mutate short-for 's/^        for: 5m$/        for: 1m/'
expect_reject "L2tpAgentDown with for: 1m (fires too early)" "alertname: L2tpAgentDown, time: 7m" promtool test rules "$WORK/short-for/test.yaml"
mutate metric-typo 's/l2tp_tunnel_rx_cookie_discards_total/l2tp_tunnel_rx_cookie_discard_total/'
expect_reject "a misspelt metric: promtool test" "alertname: L2tpCookieDiscards, time: 15m" promtool test rules "$WORK/metric-typo/test.yaml"
expect_reject "a misspelt metric: known metric check" "unknown metric l2tp_tunnel_rx_cookie_discard_total" validate rules "$WORK/metric-typo/rules.yaml"
mutate tunnel-down-for 's/^        for: 2m$/        for: 10m/'
expect_reject "L2tpTunnelDown with for: 10m (fires too late)" "alertname: L2tpTunnelDown, time: 5m" promtool test rules "$WORK/tunnel-down-for/test.yaml"
mutate threshold 's/> 0.01$/> 0.1/'
expect_reject "sequence discard threshold raised to 10%" "alertname: L2tpSequenceDiscards, time: 15m" promtool test rules "$WORK/threshold/test.yaml"
mutate bad-expr 's/^        expr: up{job="l2tp-agent"} == 0$/        expr: up{job="l2tp-agent" == 0/'
expect_reject "a PromQL syntax error" "parse error|unexpected" promtool check rules "$WORK/bad-expr/rules.yaml"
mutate no-severity '/severity: critical/d'
expect_reject "an alert without severity" "severity must be" validate rules "$WORK/no-severity/rules.yaml"
mutate no-for '/^        for: 30m$/d'
expect_reject "an alert without for" 'no "for"' validate rules "$WORK/no-for/rules.yaml"
finish
