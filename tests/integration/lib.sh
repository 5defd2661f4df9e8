# Shared helpers for the integration tests: start the real agent binary on a
# temporary socket and state directory, drive it with the real l2tpctl.
# Every wait is bounded. Source this file; set BUILD_DIR (CMake build tree).
set -euo pipefail

: "${BUILD_DIR:?BUILD_DIR must point at the CMake build directory}"
AGENT="$BUILD_DIR/agent/l2tp-agent"
CTL="$BUILD_DIR/client/l2tpctl"
WORK=$(mktemp -d /tmp/l2tp-it-XXXXXX)
SOCK="$WORK/agent.sock"
STATE="$WORK/state"
AGENT_LOG="$WORK/agent.log"
AGENT_PID=""
PASSED=0

cleanup() {
  if [[ -n "$AGENT_PID" ]] && kill -0 "$AGENT_PID" 2>/dev/null; then kill -9 "$AGENT_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

fail() {
  echo "FAIL: $*" >&2
  if [[ -f "$AGENT_LOG" ]]; then echo "--- agent log (last 30 lines)" >&2; tail -30 "$AGENT_LOG" >&2; fi
  exit 1
}

ok() { PASSED=$((PASSED + 1)); echo "ok $PASSED - $*"; }

# start_agent [extra agent flags...]: starts it and waits for the socket.
start_agent() {
  "$AGENT" --socket="$SOCK" --state-dir="$STATE" --datapath="${DATAPATH:-memory}" \
    --resync-interval="${RESYNC:-1s}" --metrics-addr="${METRICS_ADDR:-}" "$@" >>"$AGENT_LOG" 2>&1 &
  AGENT_PID=$!
  for _ in $(seq 1 100); do
    if [[ -S "$SOCK" ]] && ctl info >/dev/null 2>&1; then return 0; fi
    kill -0 "$AGENT_PID" 2>/dev/null || fail "agent exited during start"
    sleep 0.1
  done
  fail "agent did not serve on $SOCK within 10 s"
}

# stop_agent: SIGTERM, expect exit 0 within 10 s.
stop_agent() {
  kill -TERM "$AGENT_PID"
  local rc=0
  for _ in $(seq 1 100); do kill -0 "$AGENT_PID" 2>/dev/null || break; sleep 0.1; done
  wait "$AGENT_PID" || rc=$?
  [[ $rc -eq 0 ]] || fail "agent exited with $rc on SIGTERM"
  AGENT_PID=""
}

kill9_agent() {
  kill -9 "$AGENT_PID" 2>/dev/null || true
  wait "$AGENT_PID" 2>/dev/null || true
  AGENT_PID=""
}

ctl() { "$CTL" --socket "$SOCK" "$@"; }

# expect_fail CODE CMD...: the command must exit non-zero with CODE in stderr.
expect_fail() {
  local code=$1; shift
  local err="$WORK/err.txt"
  if "$@" >/dev/null 2>"$err"; then fail "expected '$*' to fail with $code"; fi
  grep -q "$code" "$err" || fail "expected $code from '$*', got: $(cat "$err")"
  cat "$err"
}

# wait_for DESC CMD...: polls CMD (every 0.1 s, up to 10 s) until it succeeds.
wait_for() {
  local desc=$1; shift
  for _ in $(seq 1 100); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.1
  done
  fail "timed out waiting for: $desc"
}

# Phases of every resource as "kind/name=PHASE" lines, sorted.
phases() {
  ctl get tunnels -o json | jq -r '.tunnels[]? | "tunnel/\(.name)=\(.status.phase)"'
  ctl get sessions -o json | jq -r '.sessions[]? | "session/\(.name)=\(.status.phase)"'
}

all_ready() { ! phases | grep -qv '=PHASE_READY$'; }

finish() { echo "$PASSED passed, 0 failed"; }
