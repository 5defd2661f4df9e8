#!/usr/bin/env bash
# --config follows its file without a restart, the way kubelet updates a
# mounted ConfigMap: config.yaml -> ..data/config.yaml, ..data -> a
# timestamped directory, swapped atomically by renaming a new symlink over
# ..data. A changed file is applied whole; what it drops is deleted; what the
# API applied stays; a broken file changes nothing and is reported.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/fixtures.sh"

CONF_DIR="$WORK/configmap"
mkdir -p "$CONF_DIR"
GENERATION=0
# publish FILE: what kubelet does when the ConfigMap changes.
publish() {
  GENERATION=$((GENERATION + 1))
  local dir="..gen_$GENERATION"
  mkdir "$CONF_DIR/$dir"
  cp "$1" "$CONF_DIR/$dir/config.yaml"
  ln -sfn "$dir" "$CONF_DIR/..data_tmp"
  mv -T "$CONF_DIR/..data_tmp" "$CONF_DIR/..data"
  [[ -L $CONF_DIR/config.yaml ]] || ln -s ..data/config.yaml "$CONF_DIR/config.yaml"
}

cat >"$WORK/v1.yaml" <<'YAML'
tunnels:
  - {name: a, spec: {tunnelId: 1, peerTunnelId: 2, local: 192.0.2.1, remote: 192.0.2.9}}
  - {name: b, spec: {tunnelId: 3, peerTunnelId: 4, local: 192.0.2.1, remote: 192.0.2.3}}
sessions:
  - {name: a1, spec: {tunnel: a, sessionId: 1, peerSessionId: 2}}
  - {name: b1, spec: {tunnel: b, sessionId: 1, peerSessionId: 2}}
YAML
cat >"$WORK/v2.yaml" <<'YAML'
tunnels:
  - {name: a, spec: {tunnelId: 1, peerTunnelId: 2, local: 192.0.2.1, remote: 192.0.2.9}}
sessions:
  - {name: a1, spec: {tunnel: a, sessionId: 1, peerSessionId: 2, mtu: 1400}}
YAML
cat >"$WORK/broken.yaml" <<'YAML'
tunnels:
  - {name: a, spec: {tunnelId: 0, peerTunnelId: 2, local: 192.0.2.1, remote: 192.0.2.9}}
YAML

names() { phases | sed 's/=.*//' | sort | tr '\n' ' '; }
has_names() { [[ $(names) == "$1" ]]; }
metric() { curl -sf "http://127.0.0.1:$METRICS_PORT/metrics" | awk -v m="$1" '$1 == m {print $2}'; }
metric_is() { [[ $(metric "$1") == "$2" ]]; }

METRICS_PORT=$((20000 + RANDOM % 20000))
export METRICS_ADDR="127.0.0.1:$METRICS_PORT"
publish "$WORK/v1.yaml"
start_agent --config="$CONF_DIR/config.yaml" --config-reload-interval=200ms
wait_for "the file's resources" has_names "session/a1 session/b1 tunnel/a tunnel/b "
ok "the file is applied at start"
wait_for "a successful load counted" metric_is l2tp_agent_config_last_reload_successful 1

write_base_config "$WORK/api.yaml"
ctl apply -f "$WORK/api.yaml" >/dev/null
publish "$WORK/v2.yaml"
wait_for "tunnel b and session b1 gone" has_names "session/a1 session/s1 session/s2 session/s3 tunnel/a tunnel/t1 tunnel/t2 "
[[ $(ctl get session a1 -o json | jq -r '.spec.mtu') == 1400 ]] || fail "a1 was not modified to mtu 1400"
ok "a new version of the file is applied: dropped resources deleted, changed ones modified, API resources kept"
grep -q -- "--config: applied" "$AGENT_LOG" || fail "no log line for the reload"

before=$(ctl get tunnels -o json)
publish "$WORK/broken.yaml"
wait_for "the broken file reported" grep -q 'tunnels\[0\].spec.tunnel_id' "$AGENT_LOG"
wait_for "the failed load counted" metric_is 'l2tp_agent_config_reloads_total{result="failed"}' 1
metric_is l2tp_agent_config_last_reload_successful 0 || fail "last_reload_successful should be 0"
sleep 0.6  # three more reload intervals: reported once, nothing changes
[[ $(ctl get tunnels -o json) == "$before" ]] || fail "a broken config file changed the state"
metric_is 'l2tp_agent_config_reloads_total{result="failed"}' 1 || fail "the same broken file was counted again"
ok "a broken file changes nothing, is logged with the field, counted once"

publish "$WORK/v1.yaml"
wait_for "b back" has_names "session/a1 session/b1 session/s1 session/s2 session/s3 tunnel/a tunnel/b tunnel/t1 tunnel/t2 "
metric_is l2tp_agent_config_last_reload_successful 1 || fail "last_reload_successful should be 1 again"
ok "the fixed file is applied"

# The agent is down while the file loses tunnel b: deleted at the next start.
stop_agent
publish "$WORK/v2.yaml"
start_agent --config="$CONF_DIR/config.yaml" --config-reload-interval=200ms
wait_for "b gone after restart" has_names "session/a1 session/s1 session/s2 session/s3 tunnel/a tunnel/t1 tunnel/t2 "
ok "what the file dropped while the agent was down is deleted at start"
stop_agent
finish
