#!/usr/bin/env bash
# Boots Debian's kernel under QEMU (TCG) with the base initramfs from
# prepare.sh plus a payload, runs SCRIPT under bash inside the VM and exits
# with its status.
#
#   tests/vm/run.sh [options] PAYLOAD_DIR SCRIPT [ARGS...]
#
# PAYLOAD_DIR is copied to /payload in the VM; SCRIPT (relative to it) runs
# there as init's job with ARGS. The job's output goes to the console and is
# printed here afterwards. Inside the VM, `source /vm/lib.sh` gives vm_mark,
# vm_wait_host and vm_result (see vmlib.sh); the host side is tests/vm/host.sh.
#
# Options:
#   --timeout SECONDS   kill the VM after this long (default 300); exit 124
#   --netns NS          run QEMU inside network namespace NS (for tap NICs)
#   --tap NAME          a virtio NIC backed by tap NAME (existing or created by
#                       QEMU; inside --netns if given). First NIC is eth0.
#   --netdev SPEC       a virtio NIC backed by `-netdev SPEC` (e.g. l2tpv3,...)
#   --out DIR           files the job put in /results (vm_result) land here
#   --console FILE      serial console log (written live; tests poll it)
#   --control PREFIX    host->VM message channel: run.sh makes FIFOs PREFIX.in
#                       and PREFIX.out; `vm_send PREFIX WORD` delivers WORD
#   --bin PATH          copy a host binary and its shared libraries into the
#                       VM at the same paths (repeatable)
#   --memory MB         guest memory (default 512)
# Environment: L2TP_VM_CACHE (see prepare.sh), VM_VERBOSE=1 prints the whole
# console instead of only the job's part.
#
# Exit status: the job's, 124 on timeout, 125 if the VM ended without
# reporting one (boot failure, panic), 2 on usage errors.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)

TIMEOUT=300 NETNS="" OUT="" CONSOLE="" CONTROL="" MEMORY=512
NICS=() BINS=()
usage() { sed -n '2,/^set -euo/p' "$0" | sed 's/^# \{0,1\}//;/^set -euo/d' >&2; exit 2; }
while [[ $# -gt 0 ]]; do
  case $1 in
    --timeout) TIMEOUT=$2; shift 2 ;;
    --netns) NETNS=$2; shift 2 ;;
    --tap) NICS+=("tap,ifname=$2,script=no,downscript=no"); shift 2 ;;
    --netdev) NICS+=("$2"); shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    --console) CONSOLE=$2; shift 2 ;;
    --control) CONTROL=$2; shift 2 ;;
    --bin) BINS+=("$2"); shift 2 ;;
    --memory) MEMORY=$2; shift 2 ;;
    -h|--help) usage ;;
    --*) echo "vm/run: unknown option $1" >&2; usage ;;
    *) break ;;
  esac
done
[[ $# -ge 2 ]] || usage
PAYLOAD=$1 SCRIPT=$2
shift 2
[[ -d $PAYLOAD ]] || { echo "vm/run: no payload directory $PAYLOAD" >&2; exit 2; }
[[ -f $PAYLOAD/$SCRIPT ]] || { echo "vm/run: no $SCRIPT in $PAYLOAD" >&2; exit 2; }

VMDIR=$("$HERE/prepare.sh")
KERNEL=$(cat "$VMDIR/kernel.path")

WORK=$(mktemp -d /tmp/l2tp-vm-XXXXXX)
QEMU_PID=""
cleanup() {
  if [[ -n $QEMU_PID ]] && kill -0 "$QEMU_PID" 2>/dev/null; then
    kill "$QEMU_PID" 2>/dev/null || true
    timeout 5 tail --pid="$QEMU_PID" -f /dev/null 2>/dev/null || kill -9 "$QEMU_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The payload archive: PAYLOAD_DIR at /payload, the job file, extra binaries.
ROOT=$WORK/root
mkdir -p "$ROOT/payload"
cp -a "$PAYLOAD/." "$ROOT/payload/"
{
  echo 'source /vm/lib.sh'
  printf 'exec bash %q' "/payload/$SCRIPT"
  for a in "$@"; do printf ' %q' "$a"; done
  echo
} >"$ROOT/payload/.vmjob"
for bin in "${BINS[@]:-}"; do
  [[ -n $bin ]] || continue
  [[ -f $bin ]] || { echo "vm/run: no binary $bin" >&2; exit 2; }
  install -D -m 0755 "$bin" "$ROOT$bin"
  ldd "$bin" 2>/dev/null | grep -o '/[^ ]*' | while read -r lib; do
    [[ -f $lib ]] && install -D -m 0755 "$(readlink -f "$lib")" "$ROOT$lib"
  done
done
(cd "$ROOT" && find . -mindepth 1 | sort | busybox cpio -o -H newc -R 0:0 2>/dev/null) >"$WORK/payload.cpio"
# Concatenated newc archives: the kernel unpacks them in order.
cat "$VMDIR/base.cpio" "$WORK/payload.cpio" >"$WORK/initrd.cpio"

[[ -n $CONSOLE ]] || CONSOLE=$WORK/console.log
: >"$CONSOLE"
if [[ -n $CONTROL ]]; then
  rm -f "$CONTROL.in" "$CONTROL.out"
  mkfifo "$CONTROL.in" "$CONTROL.out"
else
  mkfifo "$WORK/ctl.in" "$WORK/ctl.out"
  CONTROL=$WORK/ctl
fi

args=(-accel tcg -nodefaults -no-user-config -display none -no-reboot
      -m "$MEMORY" -smp 1
      -kernel "$KERNEL" -initrd "$WORK/initrd.cpio"
      -append "console=ttyS0 quiet loglevel=3 panic=-1 rdinit=/init net.ifnames=0"
      -chardev "file,id=con,path=$CONSOLE" -serial chardev:con
      -chardev "file,id=res,path=$WORK/results.tar" -serial chardev:res
      -chardev "pipe,id=ctl,path=$CONTROL" -serial chardev:ctl)
i=0
for nic in "${NICS[@]:-}"; do
  [[ -n $nic ]] || continue
  args+=(-netdev "$nic,id=n$i" -device "virtio-net-pci,netdev=n$i,mac=52:54:00:12:34:$(printf %02x $((0x10 + i))),romfile=")
  i=$((i + 1))
done

start=$SECONDS
if [[ -n $NETNS ]]; then
  ip netns exec "$NETNS" qemu-system-x86_64 "${args[@]}" >"$WORK/qemu.out" 2>&1 &
else
  qemu-system-x86_64 "${args[@]}" >"$WORK/qemu.out" 2>&1 &
fi
QEMU_PID=$!

timed_out=0
while kill -0 "$QEMU_PID" 2>/dev/null; do
  if ((SECONDS - start >= TIMEOUT)); then timed_out=1; break; fi
  sleep 0.2
done
if ((timed_out)); then
  kill "$QEMU_PID" 2>/dev/null || true
fi
wait "$QEMU_PID" 2>/dev/null || true
QEMU_PID=""
elapsed=$((SECONDS - start))

exit_line=$(grep -a '@@VM-EXIT ' "$CONSOLE" | tail -1 || true)
if [[ ${VM_VERBOSE:-0} == 1 || -z $exit_line ]]; then
  tr -d '\r' <"$CONSOLE"
else
  # Only the job's part of the console.
  tr -d '\r' <"$CONSOLE" | sed -n '/@@VM-JOB-START/,/@@VM-EXIT /p'
fi
if [[ -s $WORK/qemu.out ]]; then sed 's/^/qemu: /' "$WORK/qemu.out" >&2; fi

if [[ -n $OUT && -s $WORK/results.tar ]]; then
  mkdir -p "$OUT"
  tar -C "$OUT" -xf "$WORK/results.tar" || echo "vm/run: result archive damaged" >&2
fi

if ((timed_out)); then
  echo "vm/run: timed out after ${TIMEOUT}s" >&2
  exit 124
fi
if [[ -z $exit_line ]]; then
  echo "vm/run: the VM stopped after ${elapsed}s without reporting an exit status" >&2
  exit 125
fi
rc=$(sed 's/.*@@VM-EXIT \([0-9]*\).*/\1/' <<<"$exit_line")
echo "vm/run: job exited $rc after ${elapsed}s in the VM" >&2
exit "$rc"
