# Helpers for payload scripts running inside the test VM (source /vm/lib.sh).
# The host side of these is tests/vm/host.sh.

# vm_mark NAME [TEXT]: a line the host waits for (vm_wait_mark). Written to
# the console directly, so a payload's own redirections do not hide it.
vm_mark() { echo "@@MARK $*@@" >/dev/console; }

# vm_wait_host WORD SECONDS: waits until the host sent the line WORD
# (vm_send). Returns 1 after SECONDS.
vm_wait_host() {
  local word=$1 deadline=$((SECONDS + $2))
  while ((SECONDS < deadline)); do
    grep -qx "$word" "${VM_HOST_MSGS:-/run/host.msgs}" 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}

# vm_result FILE...: files to hand back to the host (run.sh --out DIR).
vm_result() { cp -a "$@" "${VM_RESULTS:-/results}/"; }

# Scripts the job starts with bash get them too.
export -f vm_mark vm_wait_host vm_result
