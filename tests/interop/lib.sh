# Shared helpers for the interop tests (source it). Each test creates its own
# network namespaces and uses addresses only on links it creates there.
set -euo pipefail

INTEROP_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
VM_DIR=$(cd "$INTEROP_DIR/../vm" && pwd)

# require TOOL:PACKAGE...: a missing tool is a failure (setup.sh installs them),
# never a silent skip.
require() {
  local missing=()
  for t in "$@"; do command -v "${t%%:*}" >/dev/null 2>&1 || missing+=("${t#*:}"); done
  if [[ ${#missing[@]} -gt 0 ]]; then
    echo "FAIL: missing tools; install with: apt-get install --no-install-recommends ${missing[*]}" >&2
    exit 1
  fi
  [[ $(id -u) -eq 0 ]] || { echo "FAIL: needs root (namespaces, TAP devices)" >&2; exit 1; }
}

# require_exec NAME PATH: a binary the test was given.
require_exec() {
  [[ -n $2 && -x $2 ]] || { echo "FAIL: $1 not executable: '${2:-}'" >&2; exit 1; }
}

# Agent in a namespace: start_ns_agent NS DIR AGENT; ctl via "$CTL --socket DIR/agent.sock".
start_ns_agent() {
  local ns=$1 dir=$2 agent=$3
  mkdir -p "$dir"
  ip netns exec "$ns" "$agent" --socket="$dir/agent.sock" --state-dir="$dir/state" \
    --datapath=userspace --resync-interval=1s --log-level=info >"$dir/agent.log" 2>&1 &
  AGENT_PID=$!
  for _ in $(seq 1 100); do
    [[ -S $dir/agent.sock ]] && return 0
    kill -0 "$AGENT_PID" 2>/dev/null || { echo "agent exited:"; cat "$dir/agent.log"; return 1; }
    sleep 0.1
  done
  echo "agent did not serve within 10 s"; cat "$dir/agent.log"; return 1
}

# stop_pid PID: TERM, bounded wait, then KILL.
stop_pid() {
  [[ -n ${1:-} ]] || return 0
  kill -TERM "$1" 2>/dev/null || return 0
  # Poll (tail --pid polls only once a second).
  for _ in $(seq 1 200); do kill -0 "$1" 2>/dev/null || break; sleep 0.05; done
  kill -KILL "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}

# wait_sessions_ready CTL SOCK N: all N sessions (and their tunnels) READY, 20 s.
wait_sessions_ready() {
  local ctl=$1 sock=$2 n=$3 ready
  for _ in $(seq 1 200); do
    ready=$("$ctl" --socket "$sock" get sessions -o json 2>/dev/null |
      jq '[.sessions[]? | select(.status.phase == "PHASE_READY")] | length' 2>/dev/null || echo 0)
    [[ $ready == "$n" ]] && return 0
    sleep 0.1
  done
  "$ctl" --socket "$sock" get sessions -o wide || true
  return 1
}
