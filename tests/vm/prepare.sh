#!/usr/bin/env bash
# Prepares what tests/vm/run.sh boots: Debian's own kernel (the current
# linux-image-*-amd64, which has L2TP as modules) and a small base initramfs
# (static busybox, bash, iproute2's ip, the network, L2TP and PPP modules,
# /init).
#
#   tests/vm/prepare.sh            prints the prepared directory on stdout
#
# Installs nothing. Needs (apt): qemu-system-x86 busybox-static kmod xz-utils
# iproute2 binutils, plus apt-get to download the kernel .deb (never installed
# on the host, only unpacked). Reuses the cache when the same kernel is there.
#
# Environment:
#   L2TP_VM_CACHE        cache directory (default /var/cache/l2tp-agent-vm)
#   L2TP_VM_KERNEL_PKG   a linux-image package to use instead of resolving one
#   L2TP_VM_EXTRA_MODULES  more modules (names) to load at boot, space separated
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
CACHE=${L2TP_VM_CACHE:-/var/cache/l2tp-agent-vm}

die() { echo "vm/prepare: $*" >&2; exit 1; }

missing=()
for tool in qemu-system-x86_64:qemu-system-x86 busybox:busybox-static depmod:kmod \
            modprobe:kmod xz:xz-utils ip:iproute2 readelf:binutils apt-get:apt \
            dpkg:dpkg ldd:libc-bin; do
  command -v "${tool%%:*}" >/dev/null 2>&1 || missing+=("${tool#*:}")
done
# The initramfs needs a statically linked busybox: the VM has no libc of its own
# until bash's libraries are copied in, and init runs before anything else.
if command -v busybox >/dev/null 2>&1 && ldd "$(command -v busybox)" >/dev/null 2>&1; then
  missing+=(busybox-static)
fi
[[ ${#missing[@]} -eq 0 ]] || die "missing tools; apt-get install --no-install-recommends $(printf '%s\n' "${missing[@]}" | sort -u | tr '\n' ' ')"
[[ $(id -u) -eq 0 ]] || die "needs root (device nodes in the initramfs)"

# The kernel package: linux-image-amd64 depends on the current ABI package.
resolve_kernel_pkg() {
  apt-cache depends linux-image-amd64 2>/dev/null |
    sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*-amd64\)$/\1/p' | head -1
}
PKG=${L2TP_VM_KERNEL_PKG:-$(resolve_kernel_pkg)}
if [[ -z $PKG ]]; then
  # No package lists yet (fresh machine): fetch them once, then resolve again.
  apt-get update -qq >/dev/null 2>&1 || true
  PKG=$(resolve_kernel_pkg)
fi
if [[ -z $PKG ]]; then
  # Offline but a kernel was prepared before: use it.
  [[ -L $CACHE/current && -f $CACHE/current/ready ]] || die "cannot resolve linux-image-amd64 (apt-cache depends)"
  readlink -f "$CACHE/current"
  exit 0
fi
KVER=${PKG#linux-image-}
DIR=$CACHE/$KVER

# Stamp: inputs that change the base image. A new script version rebuilds it.
STAMP="$KVER $(cat "$HERE/prepare.sh" "$HERE/init.sh" "$HERE/vmlib.sh" | sha256sum | cut -c1-16) ${L2TP_VM_EXTRA_MODULES:-}"
if [[ -f $DIR/ready && $(cat "$DIR/ready") == "$STAMP" ]]; then
  ln -sfn "$KVER" "$CACHE/current"
  echo "$DIR"
  exit 0
fi

mkdir -p "$DIR"
exec 9>"$CACHE/.lock"
flock -w 600 9 || die "another prepare.sh holds $CACHE/.lock"

# 1. The kernel package, unpacked (not installed).
deb=$(ls "$DIR"/linux-image-*.deb 2>/dev/null | head -1 || true)
if [[ -z $deb ]]; then
  echo "vm/prepare: downloading $PKG" >&2
  (cd "$DIR" && apt-get download "$PKG" >/dev/null 2>&1) ||
    { apt-get update -qq >/dev/null 2>&1 || true; (cd "$DIR" && apt-get download "$PKG" >/dev/null); } ||
    die "apt-get download $PKG failed"
  deb=$(ls "$DIR"/linux-image-*.deb | head -1)
fi
if [[ ! -d $DIR/root/lib/modules/$KVER ]]; then
  rm -rf "$DIR/root"
  dpkg -x "$deb" "$DIR/root"
fi
MODROOT=$DIR/root
# The .deb ships no modules.dep; build it for the host's modprobe to resolve.
depmod -b "$MODROOT" "$KVER"

# 2. The kernel image. QEMU boots an uncompressed ELF through PVH, which skips
# the decompressor (roughly 5 s less under TCG). vmlinuz's payload is xz.
VMLINUZ=$MODROOT/boot/vmlinuz-$KVER
[[ -f $VMLINUZ ]] || die "no $VMLINUZ in $deb"
KERNEL=$VMLINUZ
off=$(LC_ALL=C grep -obUaP '\xfd\x37\x7a\x58\x5a\x00' "$VMLINUZ" | head -1 | cut -d: -f1 || true)
if [[ -n $off ]]; then
  tail -c +"$((off + 1))" "$VMLINUZ" | xz -dc --single-stream >"$DIR/vmlinux.tmp" 2>/dev/null || true
  # PVH entry = ELF note "Xen" type 18 (XEN_ELFNOTE_PHYS32_ENTRY).
  if [[ $(head -c 4 "$DIR/vmlinux.tmp" | od -An -tx1 | tr -d ' ') == 7f454c46 ]] &&
     readelf -n "$DIR/vmlinux.tmp" 2>/dev/null | grep -q 'PHYS32_ENTRY\|Unknown note type: (0x00000012)'; then
    mv "$DIR/vmlinux.tmp" "$DIR/vmlinux"
    KERNEL=$DIR/vmlinux
  fi
  rm -f "$DIR/vmlinux.tmp"
fi
echo "$KERNEL" >"$DIR/kernel.path"

# 3. The base initramfs.
STAGE=$DIR/stage
rm -rf "$STAGE"
mkdir -p "$STAGE"/{bin,sbin,usr/bin,usr/sbin,dev,proc,sys,tmp,run,etc,vm,payload,results,lib/modules/"$KVER"}
cp "$(command -v busybox)" "$STAGE/bin/busybox"
# Busybox applets, except those a real tool replaces: its own `ip` and `sh`
# semantics differ (bash and iproute2 are copied below; /bin/sh stays busybox).
for applet in $(busybox --list); do
  case $applet in ip|busybox) continue ;; esac
  ln -sf busybox "$STAGE/bin/$applet"
done
ln -sf ../bin/busybox "$STAGE/sbin/modprobe"  # the kernel's module autoloader path
ln -sf ../bin/busybox "$STAGE/sbin/insmod"

# copy_with_libs BIN DEST_IN_STAGE: a dynamic binary and the libraries ldd names.
copy_with_libs() {
  install -D -m 0755 "$1" "$STAGE/$2"
  ldd "$1" 2>/dev/null | grep -o '/[^ ]*' | while read -r lib; do
    [[ -f $lib ]] || continue
    install -D -m 0755 "$lib" "$STAGE$lib"
    # Keep the path the binary's interpreter/RUNPATH uses, and the real file.
    real=$(readlink -f "$lib")
    [[ $real != "$lib" ]] && install -D -m 0755 "$real" "$STAGE$real"
  done
}
copy_with_libs "$(command -v bash)" bin/bash
copy_with_libs "$(readlink -f "$(command -v ip)")" usr/sbin/ip
# /lib64 → /lib/x86_64-linux-gnu layout of Debian: the interpreter path matters.
[[ -e $STAGE/lib64/ld-linux-x86-64.so.2 ]] || die "dynamic loader not copied"

# PPP pseudowires: slhc, ppp_generic (/dev/ppp, made by devtmpfs when it
# loads), pppox and l2tp_ppp (PPPoL2TP sockets).
MODULES="virtio_pci virtio_net l2tp_eth l2tp_ip l2tp_ip6 l2tp_netlink slhc ppp_generic pppox l2tp_ppp veth tun bridge af_packet ${L2TP_VM_EXTRA_MODULES:-}"
: >"$STAGE/vm/modules"
for m in $MODULES; do
  # Built-in modules print "builtin ..."; only loadable ones need copying.
  modprobe -d "$MODROOT" -S "$KVER" --show-depends "$m" 2>/dev/null | awk '$1 == "insmod" {print $2}'
done | awk '!seen[$0]++' | while read -r ko; do
  rel=${ko#"$MODROOT"/}
  install -D -m 0644 "$ko" "$STAGE/$rel"
  echo "/$rel" >>"$STAGE/vm/modules"
done
grep -q l2tp_eth "$STAGE/vm/modules" || die "l2tp_eth not found in $PKG"
grep -q l2tp_ppp "$STAGE/vm/modules" || die "l2tp_ppp not found in $PKG"
cp "$MODROOT/lib/modules/$KVER"/modules.{order,builtin,builtin.modinfo} "$STAGE/lib/modules/$KVER/" 2>/dev/null || true
depmod -b "$STAGE" "$KVER"

install -m 0755 "$HERE/init.sh" "$STAGE/init"
install -m 0644 "$HERE/vmlib.sh" "$STAGE/vm/lib.sh"
echo "$KVER" >"$STAGE/vm/kernel-release"
printf 'root:x:0:0:root:/root:/bin/bash\n' >"$STAGE/etc/passwd"
printf 'root:x:0:\n' >"$STAGE/etc/group"
printf '127.0.0.1 localhost\n::1 localhost\n' >"$STAGE/etc/hosts"
# Init writes to the console before devtmpfs is mounted.
mknod -m 0600 "$STAGE/dev/console" c 5 1
mknod -m 0666 "$STAGE/dev/null" c 1 3

(cd "$STAGE" && find . | sort | busybox cpio -o -H newc -R 0:0 2>/dev/null) >"$DIR/base.cpio.tmp"
mv "$DIR/base.cpio.tmp" "$DIR/base.cpio"
rm -rf "$STAGE"
echo "$STAMP" >"$DIR/ready"
ln -sfn "$KVER" "$CACHE/current"
echo "vm/prepare: $KVER ready ($(basename "$KERNEL"), base initramfs $(du -h "$DIR/base.cpio" | cut -f1))" >&2
echo "$DIR"
