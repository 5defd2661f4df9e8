#!/usr/bin/env bash
# Boots Debian's kernel once (tests/vm/run.sh) and runs, inside the VM:
#  1. kernel_datapath_vm_test: KernelDatapath against the real kernel, checked
#     with iproute2; traffic between two namespaces;
#  2. when AGENT and L2TPCTL are given: the agent on --datapath=kernel
#     (agent_cases.sh): apply, adoption with zero writes, drift repair,
#     modify in place.
#
#   run_vm_tests.sh TEST_BINARY [AGENT L2TPCTL]
#
# Needs root and (apt) qemu-system-x86 busybox-static kmod xz-utils iproute2
# binutils. Exit status: the VM job's (0 = all passed).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
TEST_BIN=${1:?usage: run_vm_tests.sh TEST_BINARY [AGENT L2TPCTL]}
AGENT=${2:-} CTL=${3:-}
[[ $(id -u) -eq 0 ]] || { echo "FAIL: needs root (prepares and boots the VM)" >&2; exit 1; }
[[ -x $TEST_BIN ]] || { echo "FAIL: test binary not executable: $TEST_BIN" >&2; exit 1; }

PAYLOAD=$(mktemp -d /tmp/l2tp-kernel-vm-XXXXXX)
trap 'rm -rf "$PAYLOAD"' EXIT
install -m 0755 "$HERE/vm_job.sh" "$PAYLOAD/"
args=(--timeout "${L2TP_VM_TIMEOUT:-600}" --memory 1024 --bin "$(readlink -f "$TEST_BIN")")
job=(vm_job.sh "$(readlink -f "$TEST_BIN")")
if [[ -n $AGENT ]]; then
  [[ -x $AGENT && -x $CTL ]] || { echo "FAIL: agent or l2tpctl not executable: $AGENT $CTL" >&2; exit 1; }
  install -m 0755 "$HERE/agent_cases.sh" "$PAYLOAD/"
  args+=(--bin "$(readlink -f "$AGENT")" --bin "$(readlink -f "$CTL")")
  job+=("$(readlink -f "$AGENT")" "$(readlink -f "$CTL")")
fi
exec "$HERE/../run.sh" "${args[@]}" "$PAYLOAD" "${job[@]}"
