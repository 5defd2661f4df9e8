#!/usr/bin/env bash
# The Kubernetes manifests: yamllint; every object strictly against the
# Kubernetes 1.30 schemas (kubernetes-types) or prometheus-operator's types;
# what the DaemonSet grants; the generated ConfigMap and PrometheusRule equal
# their sources; kustomization.yaml lists every file (and kubectl kustomize
# renders it, where kubectl exists); the real agent accepts the ConfigMap's
# config. Typos such as hostNetwrok are rejected.
# BUILD_DIR (the CMake build tree) is needed for the agent check.
source "$(dirname "$0")/lib.sh"
need yamllint
K8S=$DEPLOY/k8s

yamllint -s -c "$HERE/yamllint.yaml" "$K8S" "$DEPLOY/prometheus" "$HERE/rules_test.yaml" || fail "yamllint"
ok "yamllint (strict) on deploy/k8s, deploy/prometheus and the rule tests"

validate k8s "$K8S"/*.yaml >"$WORK/k8s.txt" 2>&1 || { cat "$WORK/k8s.txt"; fail "schema validation"; }
while read -r l; do ok "${l#ok - } (strict)"; done <"$WORK/k8s.txt"

validate policy "$K8S/daemonset.yaml" >"$WORK/policy.txt" 2>&1 || { cat "$WORK/policy.txt"; fail "DaemonSet policy"; }
ok "DaemonSet grants what it must and no more: $(grep -c '^ok' "$WORK/policy.txt") checks"

"$DEPLOY/generate.sh" "$WORK/gen"
for f in grafana-dashboard-configmap.yaml prometheusrule.yaml; do
  diff -u "$K8S/$f" "$WORK/gen/$f" || fail "deploy/k8s/$f is stale: run deploy/generate.sh"
done
ok "deploy/k8s/grafana-dashboard-configmap.yaml and prometheusrule.yaml are what deploy/generate.sh makes"
validate copies "$DEPLOY" >"$WORK/copies.txt" 2>&1 || { cat "$WORK/copies.txt"; fail "copies"; }
while read -r l; do ok "${l#ok - }"; done <"$WORK/copies.txt"

validate kustomization "$K8S" >"$WORK/kust.txt" 2>&1 || { cat "$WORK/kust.txt"; fail "kustomization"; }
ok "$(sed 's/^ok - //' "$WORK/kust.txt")"
if command -v kubectl >/dev/null && kubectl kustomize "$K8S" >"$WORK/rendered.yaml" 2>"$WORK/kust.err"; then
  validate k8s "$WORK/rendered.yaml" >"$WORK/rendered.txt" 2>&1 || { cat "$WORK/rendered.txt"; fail "rendered kustomization"; }
  ok "kubectl kustomize renders $(grep -c '^ok' "$WORK/rendered.txt") objects, all valid"
elif command -v kubectl >/dev/null; then
  cat "$WORK/kust.err"; fail "kubectl kustomize deploy/k8s"
else
  echo "note: kubectl not installed; kustomize rendering not checked"
fi

# Negative cases: typos and wrong types in copies are rejected.
bad() {  # FILE NAME SED-EXPR
  sed -e "$3" "$K8S/$1" >"$WORK/$2.yaml"
  cmp -s "$K8S/$1" "$WORK/$2.yaml" && fail "mutation $2 changed nothing"
  echo "$WORK/$2.yaml"
}
expect_reject "hostNetwrok" 'unknown field "hostNetwrok"' validate k8s "$(bad daemonset.yaml hostnet 's/hostNetwork:/hostNetwrok:/')"
expect_reject "readinesProbe" 'unknown field "readinesProbe"' validate k8s "$(bad daemonset.yaml probe 's/readinessProbe:/readinesProbe:/')"
expect_reject "capabilities under the pod" 'unknown field "capabilities"' validate k8s "$(bad daemonset.yaml podcaps 's/^      hostNetwork: true$/      hostNetwork: true\n      capabilities: {}/')"
expect_reject "a string port" 'must be number' validate k8s "$(bad service.yaml port 's/port: 9810/port: "9810"/')"
expect_reject "ServiceMonitor scrapeTimout" 'unknown field "scrapeTimout"' validate k8s "$(bad servicemonitor.yaml smon 's/scrapeTimeout:/scrapeTimout:/')"
expect_reject "PrometheusRule annotation typo at rule level" 'unknown field "anotations"' validate k8s "$(bad prometheusrule.yaml prule '0,/ annotations:/s// anotations:/')"
expect_reject "an unknown kind" 'no schema for apps/v1/Deployment' validate k8s "$(bad daemonset.yaml kind 's/^kind: DaemonSet$/kind: Deployment/')"
expect_reject "privileged: true" 'not privileged' validate policy "$(bad daemonset.yaml priv 's/privileged: false/privileged: true/')"
expect_reject "an extra capability" 'add BPF, NET_ADMIN and NET_RAW only' validate policy "$(bad daemonset.yaml cap 's/- NET_RAW$/- NET_RAW\n                - SYS_ADMIN/')"
sed '/- servicemonitor.yaml/d' "$K8S/kustomization.yaml" >"$WORK/kustomization.yaml"
mkdir -p "$WORK/kdir" && cp "$K8S"/*.yaml "$WORK/kdir/" && cp "$WORK/kustomization.yaml" "$WORK/kdir/"
expect_reject "a manifest missing from kustomization.yaml" 'does not list servicemonitor.yaml' validate kustomization "$WORK/kdir"
sed 's/"title": "l2tp-agent"/"title": "l2tp-agent edited"/' "$DEPLOY/grafana/l2tp-agent.json" >"$WORK/dash.json"
mkdir -p "$WORK/d2/grafana" "$WORK/d2/prometheus" "$WORK/d2/k8s"
cp "$WORK/dash.json" "$WORK/d2/grafana/l2tp-agent.json"; cp "$DEPLOY/prometheus/l2tp-agent-rules.yaml" "$WORK/d2/prometheus/"; cp "$K8S"/*.yaml "$WORK/d2/k8s/"
expect_reject "a dashboard edited without regenerating its ConfigMap" 'dashboard ConfigMap differs' validate copies "$WORK/d2"

# The real agent accepts the ConfigMap's config (memory datapath; no packets).
if [[ -n "${BUILD_DIR:-}" && -x "$BUILD_DIR/agent/l2tp-agent" ]]; then
  validate config "$K8S/configmap.yaml" >"$WORK/config.yaml"
  "$BUILD_DIR/agent/l2tp-agent" --datapath=memory --config="$WORK/config.yaml" --socket="$WORK/agent.sock" \
    --state-dir="$WORK/state" --metrics-addr= >"$WORK/agent.log" 2>&1 &
  pid=$!
  for _ in $(seq 1 100); do [[ -S "$WORK/agent.sock" ]] && break; kill -0 $pid 2>/dev/null || break; sleep 0.1; done
  names=$("$BUILD_DIR/client/l2tpctl" --socket "$WORK/agent.sock" get tunnels -o json 2>/dev/null | jq -r '.tunnels[].name' || true)
  kill -TERM $pid 2>/dev/null || true; wait $pid 2>/dev/null || true
  [[ "$names" == "to-site-b" ]] || { cat "$WORK/agent.log"; fail "the agent did not load the ConfigMap's config.yaml"; }
  ok "l2tp-agent --config accepts the ConfigMap's config.yaml (tunnel to-site-b applied)"
else
  fail "BUILD_DIR with agent/l2tp-agent is needed to check the ConfigMap's config"
fi
finish
