#!/usr/bin/env bash
# Stages pppd (with its pppol2tp.so and passwordfd.so plugins), xl2tpd and
# tcpdump from Debian's packages into a payload directory for the test VM
# (tests/vm/run.sh), with the shared libraries they need.
#
#   tests/interop/ppp/stage.sh PAYLOAD_DIR
#
# Writes PAYLOAD_DIR/ppp-root/, a tree laid out as the VM's / wants it
# (usr/sbin/pppd, usr/sbin/xl2tpd, usr/sbin/xl2tpd-control, usr/bin/tcpdump,
# usr/lib/pppd/VERSION/{pppol2tp,passwordfd}.so, lib/x86_64-linux-gnu/lib*),
# and PAYLOAD_DIR/ppp-root/.ppp-stage, shell assignments describing it
# (PPP_VERSION, PPP_PLUGIN_DIR, XL2TPD_VERSION, TCPDUMP_VERSION). Inside the
# VM, ppp_vm_install (ppp_lib.sh) copies the tree into / without replacing
# anything the base image has (its libc is the host's, in use by init).
#
# The packages are never installed on the host: `apt-get download` into
# $L2TP_VM_CACHE/ppp/debs (the cache tests/vm/prepare.sh uses, default
# /var/cache/l2tp-agent-vm), `dpkg -x` into $L2TP_VM_CACHE/ppp/root. The
# libraries come from the same release's packages (PPP_LIB_PACKAGES), so the
# host needs none of them; only libc and the loader are the host's, as in
# the base image. Offline, the newest cached .deb of each package is used.
#
# Exit status: 0 staged; 77 a package can be neither downloaded nor found in
# the cache (the caller skips); 1 anything else (a library not resolved...).
set -euo pipefail
OUT=${1:?usage: stage.sh PAYLOAD_DIR}
CACHE=${L2TP_VM_CACHE:-/var/cache/l2tp-agent-vm}/ppp
DEBS=$CACHE/debs

# Binaries' packages, then the libraries pppd, xl2tpd and tcpdump link
# (ldd of the bookworm builds; libc6 stays the host's).
PPP_PACKAGES=(ppp xl2tpd tcpdump)
PPP_LIB_PACKAGES=(libpcap0.8 libdbus-1-3 libsystemd0 libcap2 libgcrypt20 libgpg-error0 liblz4-1
                  liblzma5 libzstd1 libssl3 libcrypt1 libpam0g libaudit1 libcap-ng0)

die() { echo "ppp/stage: $*" >&2; exit 1; }
skip() { echo "ppp/stage: $*" >&2; exit 77; }
for t in apt-get apt-cache dpkg dpkg-deb ldd flock sha256sum; do
  command -v "$t" >/dev/null 2>&1 || skip "missing $t"
done

mkdir -p "$DEBS"
exec 8>"$CACHE/.lock"
flock -w 600 8 || die "another stage.sh holds $CACHE/.lock"

# Candidate versions of all packages in one apt-cache call ("pkg version").
candidates() {
  apt-cache policy "${PPP_PACKAGES[@]}" "${PPP_LIB_PACKAGES[@]}" 2>/dev/null |
    awk '/^[^ ].*:$/ {pkg = substr($1, 1, length($1) - 1)} $1 == "Candidate:" && $2 != "(none)" {print pkg, $2}'
}
declare -A VER=()
while read -r p v; do VER[$p]=$v; done < <(candidates)
if [[ ${#VER[@]} -lt $((${#PPP_PACKAGES[@]} + ${#PPP_LIB_PACKAGES[@]})) ]]; then
  # No package lists yet (fresh machine): fetch them once.
  timeout 300 apt-get update -qq >/dev/null 2>&1 || true
  while read -r p v; do VER[$p]=$v; done < <(candidates)
fi

# fetch PKG: prints the .deb of PKG's candidate version, downloading it if
# the cache lacks it; offline, the newest cached one.
fetch() {
  local pkg=$1 ver=${VER[$1]:-} file=""
  if [[ -n $ver ]]; then
    # apt's file names spell an epoch's colon as %3a.
    file=$(ls "$DEBS/${pkg}_${ver//:/%3a}"_*.deb 2>/dev/null | head -1 || true)
    if [[ -z $file ]]; then
      (cd "$DEBS" && timeout 300 apt-get download "$pkg=$ver" >/dev/null 2>&1) || true
      file=$(ls "$DEBS/${pkg}_${ver//:/%3a}"_*.deb 2>/dev/null | head -1 || true)
    fi
  fi
  [[ -n $file ]] || file=$(ls -v "$DEBS/${pkg}"_*.deb 2>/dev/null | tail -1 || true)
  [[ -n $file ]] || skip "cannot get the Debian package $pkg (apt-get download failed, nothing cached in $DEBS)"
  echo "$file"
}

debs=()
for p in "${PPP_PACKAGES[@]}" "${PPP_LIB_PACKAGES[@]}"; do debs+=("$(fetch "$p")"); done

# Unpacked tree: rebuilt when the set of packages (or this script) changes.
ROOT=$CACHE/root
STAMP=$( (printf '%s\n' "${debs[@]##*/}"; cat "$0") | sha256sum | cut -c1-16)
if [[ ! -f $ROOT/.stamp || $(cat "$ROOT/.stamp") != "$STAMP" ]]; then
  rm -rf "$ROOT"
  mkdir -p "$ROOT"
  for d in "${debs[@]}"; do dpkg -x "$d" "$ROOT" || die "dpkg -x $d failed"; done
  echo "$STAMP" >"$ROOT/.stamp"
fi

version_of() { dpkg-deb -f "$(printf '%s\n' "${debs[@]}" | grep "/${1}_")" Version; }
PLUGIN=$(cd "$ROOT" && ls usr/lib/pppd/*/pppol2tp.so 2>/dev/null | head -1 || true)
[[ -n $PLUGIN ]] || die "no usr/lib/pppd/*/pppol2tp.so in the ppp package"
PLUGIN_DIR=/${PLUGIN%/pppol2tp.so}

DEST=$OUT/ppp-root
rm -rf "$DEST"
mkdir -p "$DEST/lib/x86_64-linux-gnu"
FILES=(usr/sbin/pppd usr/sbin/xl2tpd usr/sbin/xl2tpd-control usr/bin/tcpdump
       "${PLUGIN_DIR#/}/pppol2tp.so" "${PLUGIN_DIR#/}/passwordfd.so")
LIBPATH=$ROOT/lib/x86_64-linux-gnu:$ROOT/usr/lib/x86_64-linux-gnu
declare -A LIBS=()
for f in "${FILES[@]}"; do
  [[ -f $ROOT/$f ]] || die "no /$f in the unpacked packages"
  install -D -m 0755 "$ROOT/$f" "$DEST/$f"
  # "soname => path": the unpacked copy when there is one, else the host's.
  out=$(LD_LIBRARY_PATH=$LIBPATH ldd "$ROOT/$f" 2>&1) || die "ldd $f: $out"
  if grep -q 'not found' <<<"$out"; then
    die "$f: $(grep 'not found' <<<"$out" | tr -s ' \t' ' ' | tr '\n' ';') (add its package to PPP_LIB_PACKAGES)"
  fi
  while read -r soname path; do
    [[ $soname == libc.so.* || $soname == ld-linux* ]] && continue  # the base image's
    LIBS[$soname]=$path
  done < <(sed -n 's/^[[:space:]]*\([^ ]*\) => \(\/[^ ]*\) .*/\1 \2/p' <<<"$out")
done
# All under /lib/x86_64-linux-gnu, where the base image keeps bash's and
# ip's libraries (the loader searches it without an ld.so.cache).
for soname in "${!LIBS[@]}"; do
  install -m 0644 "$(readlink -f "${LIBS[$soname]}")" "$DEST/lib/x86_64-linux-gnu/$soname"
done
cat >"$DEST/.ppp-stage" <<EOF
PPP_VERSION=$(version_of ppp)
PPP_PLUGIN_DIR=$PLUGIN_DIR
XL2TPD_VERSION=$(version_of xl2tpd)
TCPDUMP_VERSION=$(version_of tcpdump)
EOF
echo "ppp/stage: ppp $(version_of ppp) (plugins $PLUGIN_DIR), xl2tpd $(version_of xl2tpd), tcpdump $(version_of tcpdump), ${#LIBS[@]} libraries: $(du -sh "$DEST" | cut -f1)" >&2
