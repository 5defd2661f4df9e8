#!/usr/bin/env bash
# Inside the VM: the datapath tests, then (if given) the agent cases.
# Prints one summary line "kernel-vm: N passed, N failed".
TEST_BIN=$1 AGENT=${2:-} CTL=${3:-}
passed=0 failed=0
start=$(cut -d' ' -f1 /proc/uptime)
if "$TEST_BIN" --gtest_color=no; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAIL: kernel_datapath_vm_test"; fi
echo "kernel-vm: datapath tests took $(awk -v s="$start" '{printf "%.1f", $1 - s}' /proc/uptime) s"
if [[ -n $AGENT ]]; then
  start=$(cut -d' ' -f1 /proc/uptime)
  if bash /payload/agent_cases.sh "$AGENT" "$CTL"; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAIL: agent_cases"; fi
  echo "kernel-vm: agent cases took $(awk -v s="$start" '{printf "%.1f", $1 - s}' /proc/uptime) s"
fi
echo "kernel-vm: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
