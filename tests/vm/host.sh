# Host-side helpers for tests that talk to a job running in the VM
# (source tests/vm/host.sh). The VM side is vmlib.sh.

# vm_wait_mark CONSOLE NAME SECONDS [PID]: waits for `vm_mark NAME` in the
# console log. Returns 1 after SECONDS, or early when PID (run.sh) is gone.
vm_wait_mark() {
  local console=$1 name=$2 deadline=$((SECONDS + $3)) pid=${4:-}
  while ((SECONDS < deadline)); do
    grep -aq "@@MARK $name[ @]" "$console" 2>/dev/null && return 0
    if [[ -n $pid ]] && ! kill -0 "$pid" 2>/dev/null; then return 1; fi
    sleep 0.2
  done
  return 1
}

# vm_mark_text CONSOLE NAME: the TEXT of `vm_mark NAME TEXT` (last one).
vm_mark_text() {
  grep -a "@@MARK $1 " "$2" 2>/dev/null | tail -1 | sed "s/.*@@MARK $1 \(.*\)@@.*/\1/" | tr -d '\r'
}

# vm_send PREFIX WORD: one line to the VM (run.sh --control PREFIX). The FIFO
# is held open by QEMU, so this does not block while the VM runs.
vm_send() { timeout 5 bash -c 'printf "%s\n" "$2" >"$1.in"' _ "$1" "$2"; }
