#!/usr/bin/env bash
# The Grafana dashboard: strict JSON Schema from @grafana/schema's types, every
# query parses (lezer-promql) and uses known metrics and the template
# variables, no hard-coded data source UID; broken copies are rejected.
source "$(dirname "$0")/lib.sh"
DASH=$DEPLOY/grafana/l2tp-agent.json

validate dashboard "$DASH" >"$WORK/out.txt" 2>&1 || { cat "$WORK/out.txt"; fail "dashboard validation"; }
while read -r l; do ok "${l#ok - }"; done <"$WORK/out.txt"

bad() {  # NAME SED-EXPR
  sed -e "$2" "$DASH" >"$WORK/$1.json"
  cmp -s "$DASH" "$WORK/$1.json" && fail "mutation $1 changed nothing"
  echo "$WORK/$1.json"
}
expect_reject "typo'd key legendFormta" 'unknown field "legendFormta"' validate dashboard "$(bad key-typo 's/"legendFormat"/"legendFormta"/')"
expect_reject "typo'd panel option showLegnd" 'unknown field "showLegnd"' validate dashboard "$(bad option-typo '0,/"showLegend"/s//"showLegnd"/')"
expect_reject "unknown panel type" 'value of tag "type"' validate dashboard "$(bad panel-type '0,/"type": "timeseries"/s//"type": "timeseriez"/')"
expect_reject "a hard-coded data source UID" 'hard-coded uid "P1809F7CD0C75ACF3"' validate dashboard "$(bad uid '0,/"uid": "${datasource}"/s//"uid": "P1809F7CD0C75ACF3"/')"
expect_reject "a PromQL syntax error" 'PromQL syntax error' validate dashboard "$(bad promql '0,/\[\$__rate_interval\]))"/s//[$__rate_interval])"/')"
expect_reject "a misspelt metric" 'unknown metric l2tp_tunnel_rx_byte_total' validate dashboard "$(bad metric 's/l2tp_tunnel_rx_bytes_total/l2tp_tunnel_rx_byte_total/')"
expect_reject "a query without the instance filter" 'does not filter on \$instance' validate dashboard "$(bad filter '/"expr": "count(l2tp_agent_build_info/s/, instance=~\\"$instance\\"//')"
expect_reject "an undefined variable" 'unknown variable \$nod' validate dashboard "$(bad var '/"expr": "count(l2tp_agent_build_info/s/node=~\\"$node\\"/node=~\\"$nod\\"/')"
expect_reject "two panels on the same cells" 'panels "[^"]+" and "[^"]+" overlap' validate dashboard "$(bad overlap '0,/"y": 23/s//"y": 24/')"
finish
