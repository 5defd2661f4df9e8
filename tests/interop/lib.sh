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

# vm_host_init NS_PREFIX WORK_PREFIX: this test's namespace ($NS, made
# later by vm_host_tap) and work dir ($WORK), and an exit trap that stops the
# capture, the VM and the agent ($CAP_PID, $VM_PID, $AGENT_PID), then deletes
# the namespace and the work dir (kept with KEEP_WORK=1).
vm_host_init() {
  NS=$1-$$
  WORK=$(mktemp -d "/tmp/$2-XXXXXX")
  AGENT_PID="" VM_PID="" CAP_PID=""
  trap vm_host_cleanup EXIT
}
vm_host_cleanup() {
  stop_pid "$CAP_PID"
  [[ -n $VM_PID ]] && { kill "$VM_PID" 2>/dev/null || true; timeout 15 tail --pid="$VM_PID" -f /dev/null || true; }
  stop_pid "$AGENT_PID"
  ip netns del "$NS" 2>/dev/null || true
  if [[ ${KEEP_WORK:-0} == 1 ]]; then echo "work dir kept: $WORK"; else rm -rf "$WORK"; fi
}

# vm_host_tap ADDRESS/PREFIX...: $NS with the TAP vm0 (the VM's NIC) up,
# holding these addresses (IPv6 without duplicate address detection).
vm_host_tap() {
  ip netns add "$NS"
  ip -n "$NS" link set lo up
  ip -n "$NS" tuntap add mode tap name vm0
  local a
  for a in "$@"; do
    if [[ $a == *:* ]]; then ip -n "$NS" addr add "$a" dev vm0 nodad; else ip -n "$NS" addr add "$a" dev vm0; fi
  done
  ip -n "$NS" link set vm0 up
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

# ---- The shape both VM interop tests share: our agent in a namespace with N
# pseudowires, a VM on the far side, pings both ways per case, results joined.

# apply_and_address NS SOCK CONFIG N IFPREFIX NET: applies CONFIG, waits for
# the N sessions, then puts 10.NET.n.1/24 and fd00:NET:n::1/64 on IFPREFIXn.
apply_and_address() {
  local ns=$1 sock=$2 config=$3 n=$4 prefix=$5 net=$6
  "$CTL" --socket "$sock" apply -f "$config" >/dev/null
  wait_sessions_ready "$CTL" "$sock" "$n" || { echo "FAIL: sessions not READY"; tail -30 "$(dirname "$sock")/agent.log"; exit 1; }
  for i in $(seq 1 "$n"); do
    ip -n "$ns" addr add "10.$net.$i.1/24" dev "$prefix$i"
    ip -n "$ns" addr add "fd00:$net:$i::1/64" dev "$prefix$i" nodad
  done
}

# start_capture NS IF PCAP: the underlay, for diagnosing failures (CAP_PID).
start_capture() {
  command -v tshark >/dev/null 2>&1 || return 0
  ip netns exec "$1" tshark -q -i "$2" -w "$3" >/dev/null 2>&1 &
  CAP_PID=$!
}

# boot_vm CONSOLE OUT RUN_SH_ARGS...: tests/vm/run.sh in the background
# (VM_PID), waiting for the payload's "ready" mark.
boot_vm() {
  local console=$1 out=$2; shift 2
  source "$VM_DIR/host.sh"
  "$VM_DIR/run.sh" --timeout 420 --console "$console" "$@" >"$out" 2>&1 &
  VM_PID=$!
  if ! vm_wait_mark "$console" ready 240 "$VM_PID"; then
    echo "FAIL: the VM never got ready"; wait "$VM_PID" || true; VM_PID=""; cat "$out"; exit 1
  fi
}

# ping_case NS NET n EXPECT RESULT_PREFIX: pings the far end of case n
# (10.NET.n.2, fd00:NET:n::2) and writes "ipv4=ok|fail ipv6=ok|fail
# replies=a/3,b/2" to RESULT_PREFIXn. A direction passes when replies come
# back (iputils exits 0 on any reply without -w). Run it in the background.
ping_case() {
  local ns=$1 net=$2 n=$3 expect=$4 out=$5 w=10 v4=fail v6=fail r4 r6
  [[ $expect == fail ]] && w=3
  ip netns exec "$ns" timeout $((w + 1)) ping -q -c 3 -i 0.2 -W $w "10.$net.$n.2" </dev/null >"$out$n.ping4" 2>&1 && v4=ok
  ip netns exec "$ns" timeout $((w + 1)) ping -6 -q -c 2 -i 0.2 -W $w "fd00:$net:$n::2" </dev/null >"$out$n.ping6" 2>&1 && v6=ok
  r4=$(sed -n 's/.* \([0-9]*\) received.*/\1/p' "$out$n.ping4")
  r6=$(sed -n 's/.* \([0-9]*\) received.*/\1/p' "$out$n.ping6")
  echo "ipv4=$v4 ipv6=$v6 replies=${r4:-0}/3,${r6:-0}/2" >"$out$n"
}

# finish_vm CONSOLE CTL_DIR SOCK SESSIONS_JSON: waits for the host's pings and
# the VM's, saves the agent's sessions, lets the VM stop; sets VM_RC.
finish_vm() {
  local console=$1 ctl_dir=$2 sock=$3 sessions=$4
  for p in $(jobs -p); do [[ $p == "$VM_PID" || $p == "${CAP_PID:-}" || $p == "${AGENT_PID:-}" ]] || wait "$p" || true; done
  vm_wait_mark "$console" vm-pings-done 300 "$VM_PID" || echo "the VM did not finish its pings"
  "$CTL" --socket "$sock" get sessions -o json >"$sessions" || true
  vm_send "$ctl_dir" done || true
  VM_RC=0
  wait "$VM_PID" || VM_RC=$?
  VM_PID=""
  stop_pid "${CAP_PID:-}"; CAP_PID=""
}

# case_result NAME n CONSOLE RESULT_PREFIX SESSIONS_JSON: sets from_vm,
# vm_replies (the VM's view), from_host, host_replies and counters (the agent's).
case_result() {
  local name=$1 n=$2 console=$3 out=$4 sessions=$5
  from_vm=$(grep -a "@@MARK result $name " "$console" | sed 's/.*vm-to-host \(ipv4=[a-z]* ipv6=[a-z]*\).*/\1/' | tr -d '\r' || true)
  vm_replies=$(grep -a "@@MARK result $name " "$console" | sed -n 's/.* \(replies=[0-9/,]*\).*/\1/p' | tr -d '\r' || true)
  from_host=$(cut -d' ' -f1,2 "$out$n" 2>/dev/null || echo none)
  host_replies=$(cut -d' ' -f3 "$out$n" 2>/dev/null || true)
  counters=$(jq -r --arg s "s$n" '.sessions[] | select(.name == $s) | .status.counters |
    "rx=\(.rxPackets // 0) tx=\(.txPackets // 0) cookie_discards=\(.rxCookieDiscards // 0) seq_discards=\(.rxSeqDiscards // 0)"' \
    "$sessions" 2>/dev/null || echo "no counters")
}
