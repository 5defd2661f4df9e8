#!/usr/bin/env bash
# Desired state survives a clean restart and kill -9; a kill -9 in the middle
# of a large apply leaves either the old or the new state, never a mix.
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/lib.sh"
source "$HERE/fixtures.sh"

specs() { ctl get sessions -o json | jq -c '[.sessions[]? | {name, spec, generation, resourceVersion}]'; }

start_agent
write_base_config "$WORK/base.yaml"
ctl apply -f "$WORK/base.yaml" >/dev/null
before=$(specs)
stop_agent
start_agent
[[ "$(specs)" == "$before" ]] || fail "state differs after restart"
wait_for "READY after restart" all_ready
ok "clean restart keeps the state"

kill9_agent
start_agent
[[ "$(specs)" == "$before" ]] || fail "state differs after kill -9"
ok "kill -9 keeps the acknowledged state"

write_large_config "$WORK/large.json" 20000
for delay in 0.02 0.1 0.25 0.5; do
  ctl apply -f "$WORK/large.json" --timeout 30s >/dev/null 2>&1 &
  APPLY_PID=$!
  sleep "$delay"
  kill9_agent
  wait "$APPLY_PID" 2>/dev/null || true
  start_agent
  n=$(ctl get sessions -o json | jq '.sessions | length')
  [[ "$n" == 3 || "$n" == 20003 ]] || fail "after kill -9 at ${delay}s: $n sessions (neither old 3 nor new 20003)"
  echo "# kill -9 after ${delay}s: $n sessions"
  if [[ "$n" == 20003 ]]; then
    # Back to the old state for the next round.
    ctl apply -f "$WORK/base.yaml" --prune >/dev/null
  fi
done
ok "kill -9 during a large apply: old or new state, never mixed"
ls "$STATE" | grep -q corrupt && fail "a state file was found corrupt"
ok "no state file was ever corrupt"
stop_agent
finish
