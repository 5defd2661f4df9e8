#!/usr/bin/env bash
# PPP sessions at scale (issue 14), measured inside the test VM (Debian's
# kernel under QEMU TCG, one vCPU: absolute times are an emulated CPU's and
# slower than on hardware): N PPP calls from an l2tp-agent as LAC against an
# l2tp-agent as LNS over one L2TPv2 DYNAMIC tunnel, Debian's pppd on every
# call on both ends (the kernel's PPPoL2TP datapath). What is timed and how
# is in bench/ppp_sessions_side.sh's header: from the LAC's `l2tpctl apply`
# until the LNS's `l2tpctl get sessions -o json` shows N calls in
# PPP_PHASE_NETWORK (polled), the first and median call (from the agents'
# logs), the agents' RSS before and after, the pppd processes of each
# agent, the VM's memory, then the cleanup at scale (the LAC's sessions
# deleted: until no pppd and no ppp interface is left). XL2TPD=1 (the
# default) also runs the same calls against Debian's xl2tpd as LNS in the
# same VM, for comparison.
#
#   bench/ppp_sessions.sh [AGENT L2TPCTL]     (default build/agent/l2tp-agent build/client/l2tpctl)
#   SESSIONS=50 bench/ppp_sessions.sh          a smaller scale
#
# Environment: SESSIONS (200), BOUND_S (900: how long to wait for all calls,
# and for the cleanup), POLL_S (1), XL2TPD (1), VM_MEMORY (3072 MiB),
# L2TP_VM_TIMEOUT (the VM's own bound; default from BOUND_S), KEEP_WORK=1
# keeps the work directory (console, agents' logs, configs, statuses; kept
# anyway when the run fails). For diagnosis: LOG_LEVEL=debug (the agents'
# level; pppd's own lines are logged at debug), CAPTURE=1 (the L2TP control
# messages on the veth, as WORKDIR/vm/control.pcap).
#
# Needs root and what tests/vm/run.sh and tests/interop/ppp/stage.sh need
# (QEMU, busybox-static, apt-get for Debian's ppp and xl2tpd packages, which
# are staged into the VM and never installed here). Prints the figures and
# the command; exits 0 when all calls came up and were cleaned up, 1 on a
# setup failure, 3 when not all calls reached NETWORK within BOUND_S, 4 when
# the cleanup left something, 5 when the xl2tpd comparison failed, 77 when
# the VM or the packages cannot be had.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
CMD="$0 $*"
for v in SESSIONS XL2TPD BOUND_S POLL_S VM_MEMORY LOG_LEVEL CAPTURE; do
  if [[ -n ${!v:-} ]]; then CMD="$v=${!v} $CMD"; fi
done
AGENT=$(readlink -f "${1:-$ROOT/build/agent/l2tp-agent}")
CTL=$(readlink -f "${2:-$ROOT/build/client/l2tpctl}")
N=${SESSIONS:-200} BOUND=${BOUND_S:-900} POLL=${POLL_S:-1} XL=${XL2TPD:-1} MEM=${VM_MEMORY:-3072}
LOG_LEVEL=${LOG_LEVEL:-info} CAPTURE=${CAPTURE:-0}
# Setup (boot, install) + the calls + rest + cleanup, twice with xl2tpd.
VM_TIMEOUT=${L2TP_VM_TIMEOUT:-$(((XL == 1 ? 4 : 2) * BOUND + 600))}

[[ $(id -u) -eq 0 ]] || { echo "bench/ppp_sessions.sh: needs root" >&2; exit 77; }
[[ -x $AGENT && -x $CTL ]] || { echo "bench/ppp_sessions.sh: no $AGENT or $CTL (build them first)" >&2; exit 1; }
((N >= 1 && N <= 1000)) || { echo "SESSIONS must be 1..1000 (the pool is a /22)" >&2; exit 1; }

TREE=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
DIRTY=$(git -C "$ROOT" status --porcelain 2>/dev/null | awk '{print $2}' | tr '\n' ' ')
[[ -n $DIRTY ]] && TREE="$TREE with uncommitted changes"

WORK=$(mktemp -d /tmp/l2tp-ppp-bench-XXXXXX)
chmod 755 "$WORK"
cleanup() { if [[ ${KEEP_WORK:-0} == 1 || ${FAILED_RUN:-0} == 1 || $CAPTURE == 1 ]]; then echo "work dir kept: $WORK"; else rm -rf "$WORK"; fi; }
trap cleanup EXIT

t_start=$SECONDS
rc=0
"$ROOT/tests/vm/prepare.sh" >/dev/null 2>"$WORK/prepare.log" || rc=$?
[[ $rc == 0 ]] || { cat "$WORK/prepare.log"; echo "tests/vm/prepare.sh failed ($rc)"; exit 77; }
mkdir -p "$WORK/payload"
rc=0
bash "$ROOT/tests/interop/ppp/stage.sh" "$WORK/payload" 2>"$WORK/stage.log" || rc=$?
[[ $rc == 77 ]] && { cat "$WORK/stage.log"; echo "the ppp/xl2tpd packages are not obtainable"; exit 77; }
[[ $rc == 0 ]] || { cat "$WORK/stage.log"; echo "stage.sh exited $rc"; exit 1; }
cp "$ROOT/tests/interop/ppp/ppp_lib.sh" "$HERE/ppp_sessions_side.sh" "$WORK/payload/"
# The binaries as they are now (others may rebuild them during the run).
BUILT="agent built $(date -u -r "$AGENT" '+%Y-%m-%d %H:%M UTC'), l2tpctl $(date -u -r "$CTL" '+%H:%M UTC')"
mkdir -p "$WORK/bin"
cp "$AGENT" "$WORK/bin/l2tp-agent" && cp "$CTL" "$WORK/bin/l2tpctl"
AGENT=$WORK/bin/l2tp-agent CTL=$WORK/bin/l2tpctl

echo "PPP sessions: $N calls, agent LAC -> agent LNS$( ((XL == 1)) && echo ", then -> xl2tpd LNS"); tree $TREE; $(date -u '+%Y-%m-%d %H:%M UTC'); host load $(cut -d' ' -f1-3 /proc/loadavg)"
t_vm=$SECONDS
VM_RC=0
"$ROOT/tests/vm/run.sh" --timeout "$VM_TIMEOUT" --memory "$MEM" --console "$WORK/console.log" --out "$WORK/vm" \
  --bin "$AGENT" --bin "$CTL" "$WORK/payload" ppp_sessions_side.sh "$AGENT" "$CTL" "$N" "$BOUND" "$POLL" "$XL" "$LOG_LEVEL" "$CAPTURE" \
  >"$WORK/vm.out" 2>&1 || VM_RC=$?

tr -d '\r' <"$WORK/console.log" >"$WORK/console.txt"
echo "---- progress in the VM"
grep -a '^\[[0-9.]*\] ' "$WORK/console.txt" || true
echo "---- figures"
sed -n 's/.*@@BENCH \([^=]*\)=\(.*\)@@.*/  \1: \2/p' "$WORK/console.txt"
if [[ $VM_RC != 0 ]]; then
  FAILED_RUN=1
  echo "---- the VM job failed (exit $VM_RC); its output:"
  grep -av '@@BENCH\|^\[[0-9.]*\] ' "$WORK/console.txt" | sed -n '/@@VM-JOB-START/,$p' | tail -400
fi
echo "---- run"
echo "  command: $CMD"
echo "  binaries: $BUILT"
[[ -n $DIRTY ]] && echo "  uncommitted: $DIRTY"
echo "  tree: $TREE; VM: QEMU TCG, 1 vCPU, $MEM MiB; $((SECONDS - t_vm)) s in the VM, $((SECONDS - t_start)) s in all; host load after $(cut -d' ' -f1-3 /proc/loadavg)"
exit "$VM_RC"
