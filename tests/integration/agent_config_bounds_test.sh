#!/usr/bin/env bash
# Config files are bounded (issue 11, item 5). A YAML alias bomb, a file over
# 16 MiB and a too deeply nested file are refused at once, with the file and
# the limit named: by the agent at start (--config), by a running agent that
# follows its --config file (which keeps serving and keeps its state), and by
# `l2tpctl apply -f` (a file or stdin). Unbounded, the bomb grew the agent to
# gigabytes without it ever serving, and l2tpctl apply never ended.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/fixtures.sh"

# Nested aliases: a few hundred bytes that stand for 9^9 (387 million) strings.
cat >"$WORK/bomb.yaml" <<'YAML'
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
tunnels: *i
YAML
BOMB_LIMIT="config files are limited to 1000000 nodes"
truncate -s 17M "$WORK/big.yaml"  # sparse: no disk used
BIG_LIMIT="larger than 16 MiB (16777216 bytes), the limit for config files"
printf 'tunnels: %s%s\n' "$(printf '[%.0s' $(seq 100))" "$(printf ']%.0s' $(seq 100))" >"$WORK/deep.yaml"
DEEP_LIMIT="config files are limited to 64 levels"

now_ms() { echo $(($(date +%s%N) / 1000000)); }

# fails_fast LOG CMD...: CMD must fail within 5 s (the timeout only keeps an
# unbounded parser from hanging the test).
fails_fast() {
  local log=$1; shift
  local start rc=0 took
  start=$(now_ms)
  timeout 30 "$@" >"$log" 2>&1 || rc=$?
  took=$(($(now_ms) - start))
  [[ $rc -ne 124 ]] || fail "still running after 30 s: $*"
  [[ $rc -ne 0 ]] || fail "succeeded: $*"
  ((took < 5000)) || fail "took $took ms to fail: $*"
}

# says LOG TEXT...: LOG holds every TEXT.
says() {
  local log=$1; shift
  for text in "$@"; do grep -qF -- "$text" "$log" || fail "expected \"$text\" in: $(cat "$log")"; done
}

agent_refuses() {  # $1: config file, $2: the limit's text
  fails_fast "$WORK/start.log" "$AGENT" --socket="$SOCK" --state-dir="$STATE" --datapath=memory \
    --metrics-addr= --config="$1"
  says "$WORK/start.log" "--config: $1: " "$2"
}

agent_refuses "$WORK/bomb.yaml" "$BOMB_LIMIT"
ok "the agent refuses to start on an alias bomb at once, naming the file and the limit"
agent_refuses "$WORK/big.yaml" "$BIG_LIMIT"
ok "the agent refuses to start on a file over 16 MiB, naming the file and the limit"

# A running agent that follows its --config file, which is replaced (renamed
# over, as an editor or kubelet does) by the bomb.
metric() { curl -sf "http://127.0.0.1:$METRICS_PORT/metrics" | awk -v m="$1" '$1 == m {print $2}'; }
metric_is() { [[ $(metric "$1") == "$2" ]]; }
replace_config() { cp "$1" "$WORK/config.tmp" && mv -f "$WORK/config.tmp" "$WORK/config.yaml"; }
state() { ctl get tunnels -o json; ctl get sessions -o json; }
names() { phases | sed 's/=.*//' | sort | tr '\n' ' '; }
has_names() { [[ $(names) == "$1" ]]; }

cat >"$WORK/v1.yaml" <<'YAML'
tunnels:
  - {name: a, spec: {tunnelId: 1, peerTunnelId: 2, local: 192.0.2.1, remote: 192.0.2.9}}
sessions:
  - {name: a1, spec: {tunnel: a, sessionId: 1, peerSessionId: 2}}
YAML
cat >"$WORK/v2.yaml" <<'YAML'
tunnels:
  - {name: a, spec: {tunnelId: 1, peerTunnelId: 2, local: 192.0.2.1, remote: 192.0.2.9}}
sessions:
  - {name: a1, spec: {tunnel: a, sessionId: 1, peerSessionId: 2, mtu: 1400}}
YAML
METRICS_PORT=$((20000 + RANDOM % 20000))
export METRICS_ADDR="127.0.0.1:$METRICS_PORT"
replace_config "$WORK/v1.yaml"
start_agent --config="$WORK/config.yaml" --config-reload-interval=200ms
write_base_config "$WORK/api.yaml"
ctl apply -f "$WORK/api.yaml" >/dev/null
wait_for "the file's and the API's resources" has_names \
  "session/a1 session/s1 session/s2 session/s3 tunnel/a tunnel/t1 tunnel/t2 "
before=$(state)

replace_config "$WORK/bomb.yaml"
wait_for "the bomb reported" grep -qF "$BOMB_LIMIT" "$AGENT_LOG"
grep -F "$BOMB_LIMIT" "$AGENT_LOG" | grep -qF -- "--config: $WORK/config.yaml: " || fail "the log does not name the file"
wait_for "the failed load counted" metric_is 'l2tp_agent_config_reloads_total{result="failed"}' 1
kill -0 "$AGENT_PID" || fail "the agent died on the bomb"
ctl info >/dev/null || fail "the agent stopped serving"
[[ $(state) == "$before" ]] || fail "the bomb changed the state"
hwm_kb=$(awk '$1 == "VmHWM:" {print $2}' "/proc/$AGENT_PID/status")
((hwm_kb < 512 * 1024)) || fail "the agent's memory peaked at $hwm_kb kB"
ok "a followed --config file replaced by the bomb is refused and counted; the agent serves on, state unchanged (peak RSS $((hwm_kb / 1024)) MiB)"

replace_config "$WORK/v2.yaml"
wait_for "the fixed file applied" metric_is l2tp_agent_config_last_reload_successful 1
[[ $(ctl get session a1 -o json | jq -r '.spec.mtu') == 1400 ]] || fail "a1 was not modified to mtu 1400"
ok "the next good version of the file is applied"

# l2tpctl apply -f refuses each of them before sending anything.
before=$(state)
fails_fast "$WORK/apply.log" "$CTL" --socket "$SOCK" apply -f "$WORK/bomb.yaml"
says "$WORK/apply.log" "$WORK/bomb.yaml: " "$BOMB_LIMIT"
fails_fast "$WORK/apply.log" "$CTL" --socket "$SOCK" apply -f - <"$WORK/bomb.yaml"
says "$WORK/apply.log" "<stdin>: " "$BOMB_LIMIT"
ok "l2tpctl apply -f refuses the alias bomb at once (file and stdin), naming it and the limit"
fails_fast "$WORK/apply.log" "$CTL" --socket "$SOCK" apply -f "$WORK/big.yaml"
says "$WORK/apply.log" "$WORK/big.yaml: " "$BIG_LIMIT"
fails_fast "$WORK/apply.log" "$CTL" --socket "$SOCK" apply -f "$WORK/deep.yaml"
says "$WORK/apply.log" "$WORK/deep.yaml: line 1, column " "$DEEP_LIMIT"
ok "l2tpctl apply -f refuses a file over 16 MiB and one nested too deep"
printf 'tunnels:\n  - name: x\n    spec: {tunnel_id: 7, tunnelId: 8}\n' >"$WORK/twice.yaml"
fails_fast "$WORK/apply.log" "$CTL" --socket "$SOCK" apply -f "$WORK/twice.yaml"
says "$WORK/apply.log" "$WORK/twice.yaml: line 3, column 26: tunnels[0].spec: " "are both the field tunnel_id"
ok "l2tpctl apply -f refuses a field given twice, naming the place"
[[ $(state) == "$before" ]] || fail "a refused apply changed the state"

# The bomb is there again when the agent restarts: refused, as at the start.
replace_config "$WORK/bomb.yaml"
stop_agent
agent_refuses "$WORK/config.yaml" "$BOMB_LIMIT"
ok "a restart with the bomb in place is refused the same way"
finish
