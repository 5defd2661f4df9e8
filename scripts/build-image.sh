#!/usr/bin/env bash
# Builds the container image localhost/l2tp-agent:<version> from Debian
# packages only (no registry is pulled from): the two binaries, exactly the
# shared libraries they need, kmod (modprobe) and iproute2 (ip), each file
# taken from the Debian package that owns it on this machine (same version),
# with that package's copyright file. Assembled with buildah from scratch.
#
# Writes  $OUT_DIR/l2tp-agent-<version>.oci.tar   (OCI archive)
#         $OUT_DIR/l2tp-agent-<version>.packages  (the Debian packages inside)
# and copies the image into the local containers-storage (podman, CRI-O).
#
# Usage: scripts/build-image.sh [--no-build] [--no-store] [--out-dir DIR]
#   --no-build   use the binaries already in BUILD_DIR (default: build them)
#   --no-store   only write the OCI archive, not containers-storage
# Env: BUILD_DIR (CMake build tree, default build/), OUT_DIR (default
#      build/image), DEB_CACHE (downloaded .debs, default $OUT_DIR/debs),
#      IMAGE_NAME (default localhost/l2tp-agent; the tag is the version),
#      SOURCE_DATE_EPOCH (image timestamps; default: the last commit's),
#      IMAGE_REVISION (label org.opencontainers.image.revision; default HEAD).
# The version (the tag) comes from the built l2tp-agent --version, which is
# CMake's project version (CMakeLists.txt); deploy/k8s/daemonset.yaml must
# name the same tag (tests/deploy/container_test.sh checks it).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD_DIR=${BUILD_DIR:-$ROOT/build}
OUT_DIR=${OUT_DIR:-$ROOT/build/image}
do_build=1
do_store=1
while [[ $# -gt 0 ]]; do
  case $1 in
    --no-build) do_build=0 ;;
    --no-store) do_store=0 ;;
    --out-dir) OUT_DIR=$2; shift ;;
    -h|--help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "build-image: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
log() { echo "build-image: $*"; }
die() { echo "build-image: error: $*" >&2; exit 1; }

# Tools: buildah assembles and commits, skopeo copies into containers-storage.
need_pkgs=()
command -v buildah >/dev/null || need_pkgs+=(buildah)
command -v skopeo >/dev/null || need_pkgs+=(skopeo)
command -v strip >/dev/null || need_pkgs+=(binutils)
command -v dpkg-deb >/dev/null || die "not a Debian system (dpkg-deb missing)"
if [[ ${#need_pkgs[@]} -gt 0 ]]; then
  log "installing ${need_pkgs[*]}"
  SUDO=""; [[ $(id -u) -eq 0 ]] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need_pkgs[@]}" >/dev/null
fi

AGENT=$BUILD_DIR/agent/l2tp-agent
CTL=$BUILD_DIR/client/l2tpctl
if [[ $do_build -eq 1 ]]; then
  [[ -f $BUILD_DIR/CMakeCache.txt ]] || cmake -S "$ROOT" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build "$BUILD_DIR" -j"$(nproc)" --target l2tp-agent l2tpctl
fi
[[ -x $AGENT && -x $CTL ]] || die "$AGENT or $CTL missing (build them, or drop --no-build)"

VERSION=$("$AGENT" --version | awk '{print $2}')
[[ $VERSION =~ ^[0-9]+\.[0-9]+\.[0-9]+ ]] || die "cannot read the version from $AGENT --version"
project_version=$(sed -nE 's/^project\(l2tp-agent VERSION ([0-9.]+).*/\1/p' "$ROOT/CMakeLists.txt")
[[ $VERSION == "$project_version" ]] || die "$AGENT is version $VERSION, CMakeLists.txt says $project_version: rebuild"
IMAGE=${IMAGE_NAME:-localhost/l2tp-agent}:$VERSION
ds_image=$(sed -nE 's/^ +image: *([^ ]*l2tp-agent:[^ ]+) *$/\1/p' "$ROOT/deploy/k8s/daemonset.yaml" | head -1)
[[ $ds_image == "localhost/l2tp-agent:$VERSION" ]] \
  || log "warning: deploy/k8s/daemonset.yaml runs $ds_image, this builds localhost/l2tp-agent:$VERSION: update it"
ARCHIVE=$OUT_DIR/l2tp-agent-$VERSION.oci.tar
ARCH=$(dpkg --print-architecture)          # amd64, arm64: the same names in OCI
MULTIARCH=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || gcc -print-multiarch)
REVISION=${IMAGE_REVISION:-$(git -C "$ROOT" rev-parse HEAD 2>/dev/null || echo unknown)}
if [[ -z ${SOURCE_DATE_EPOCH:-} ]]; then
  SOURCE_DATE_EPOCH=$(git -C "$ROOT" log -1 --format=%ct 2>/dev/null || date +%s)
fi
CREATED=$(date -u -d "@$SOURCE_DATE_EPOCH" +%Y-%m-%dT%H:%M:%SZ)

WORK=$(mktemp -d /tmp/l2tp-image-XXXXXX)
# buildah works in a private, temporary store: an interrupted build leaves
# nothing behind in the machine's containers-storage.
BUILDAH=(buildah --root "$WORK/storage" --runroot "$WORK/run" --storage-driver vfs)
cleanup() {
  "${BUILDAH[@]}" rm --all >/dev/null 2>&1 || true
  "${BUILDAH[@]}" rmi --all --force >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT
ROOTFS=$WORK/rootfs
STAGE=$WORK/stage
mkdir -p "$ROOTFS" "$STAGE"

# --- Which files, from which packages -------------------------------------
FILES=()                # host paths whose package files go into the image
want_file() { FILES+=("$@"); }
want_libs_of() {        # ELF: its shared libraries (ldd's closure) and ld.so
  local libs
  libs=$(ldd "$1") || die "ldd $1 failed"
  ! grep -q 'not found' <<<"$libs" || die "$1 has missing libraries: $(grep 'not found' <<<"$libs" | xargs)"
  mapfile -t -O "${#FILES[@]}" FILES < <(awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}' <<<"$libs" | sort -u)
}

want_libs_of "$AGENT"
want_libs_of "$CTL"
# kmod: modprobe for the kernel datapath (it asks for the l2tp_* modules; that
# works where the container has CAP_SYS_MODULE and the host's /lib/modules).
want_file /bin/kmod /sbin/modprobe /sbin/modinfo /bin/lsmod /lib/modprobe.d/aliases.conf
want_libs_of /bin/kmod
# iproute2: ip, for looking at tunnels, sessions and links from inside.
want_file /bin/ip
for f in /etc/iproute2/*; do
  if [[ -f $f ]]; then want_file "$f"; fi
done
want_libs_of /bin/ip
# base-files: /etc/os-release, so that scanners know the distribution.
want_file /usr/lib/os-release /etc/os-release /etc/debian_version

# Which package owns each file, and under which path: Debian 12 is merged-/usr,
# so ldd's /lib/x/libfoo.so may be registered as /usr/lib/x/libfoo.so. One
# dpkg -S for all candidates (it is slow per call).
declare -A OWNER=()     # registered path -> package
while IFS= read -r line; do
  [[ $line == diversion* || $line != *": /"* ]] && continue
  OWNER[${line#*: }]=${line%%: *}
done < <(for f in "${FILES[@]}"; do echo "$f"; [[ $f == /usr/* ]] && echo "${f#/usr}" || echo "/usr$f"; done \
           | sort -u | xargs dpkg -S 2>/dev/null || true)
declare -A WANT=()      # "pkg<TAB>registered path" -> 1
for f in "${FILES[@]}"; do
  alt=/usr$f; [[ $f == /usr/* ]] && alt=${f#/usr}
  if [[ -n ${OWNER[$f]:-} ]]; then WANT[${OWNER[$f]}$'\t'$f]=1
  elif [[ -n ${OWNER[$alt]:-} ]]; then WANT[${OWNER[$alt]}$'\t'$alt]=1
  else die "no Debian package owns $f"
  fi
done
mapfile -t PACKAGES < <(printf '%s\n' "${!WANT[@]}" | cut -f1 | sort -u)

# --- Fetch the packages ---------------------------------------------------
# The installed version of each package (the binaries were linked against
# it); if the mirror no longer has it, the candidate version (a Debian stable
# update of the same ABI), with a warning. Downloaded .debs are kept in
# $DEB_CACHE, so a rebuild downloads nothing.
DEBS=${DEB_CACHE:-$OUT_DIR/debs}
declare -A PKG_VERSION=()   # package -> the version in the image
mkdir -p "$DEBS"
deb_of() {  # PKG VERSION: the .deb file's path, if downloaded
  local f
  for f in "$DEBS/${1%%:*}_${2//:/%3a}"_*.deb "/var/cache/apt/archives/${1%%:*}_${2//:/%3a}"_*.deb; do
    [[ -f $f ]] && { echo "$f"; return 0; }
  done
  return 1
}
APT_DL=(apt-get download -qq -o APT::Sandbox::User=root)
fetch_all() {  # PKG...: download (in one go) and unpack into $STAGE/PKG
  local pkg ver unknown=() missing=()
  for pkg in "$@"; do
    [[ -n ${PKG_VERSION[$pkg]:-} ]] && continue
    ver=$(dpkg-query -W -f='${Version}' "$pkg")
    PKG_VERSION[$pkg]=$ver
    deb_of "$pkg" "$ver" >/dev/null || unknown+=("$pkg")
  done
  if [[ ${#unknown[@]} -gt 0 ]]; then
    # One apt-cache policy for all: "name installed candidate yes|no" (is the
    # installed version still on a mirror).
    local -A avail=() cand=()
    local name inst c ok
    while read -r name inst c ok; do avail[$name]=$ok; cand[$name]=$c; done < <(
      apt-cache policy "${unknown[@]}" | awk '
        /^[^ ].*:$/ { if (n) print n, inst, cand, ok; n = substr($0, 1, length($0) - 1); inst = cand = ""; ok = "no"; next }
        /^  Installed:/ { inst = $2 } /^  Candidate:/ { cand = $2 }
        /^ (\*\*\*)? +[^ ]+ [0-9]+$/ { v = ($1 == "***") ? $2 : $1; next }
        /^        [0-9]+ / { if (v == inst && $2 != "/var/lib/dpkg/status") ok = "yes" }
        END { if (n) print n, inst, cand, ok }')
    for pkg in "${unknown[@]}"; do
      name=${pkg%%:*}
      if [[ ${avail[$name]:-no} != yes ]]; then
        c=${cand[$name]:-}
        [[ -n $c && $c != "(none)" ]] || die "apt has no version of $pkg (apt-get update?)"
        log "warning: $pkg ${PKG_VERSION[$pkg]} (installed) is no longer on the mirror; using $c"
        PKG_VERSION[$pkg]=$c
        deb_of "$pkg" "$c" >/dev/null && continue
      fi
      missing+=("$pkg=${PKG_VERSION[$pkg]}")
    done
  fi
  if [[ ${#missing[@]} -gt 0 ]]; then
    log "downloading ${#missing[@]} packages"
    (cd "$DEBS" && "${APT_DL[@]}" "${missing[@]}" >/dev/null 2>"$WORK/apt.err") \
      || { cat "$WORK/apt.err" >&2; die "apt-get download failed (apt-get update?)"; }
  fi
  local deb
  for pkg in "$@"; do
    [[ -d $STAGE/$pkg ]] && continue
    deb=$(deb_of "$pkg" "${PKG_VERSION[$pkg]}") || die "no .deb for $pkg ${PKG_VERSION[$pkg]}"
    mkdir -p "$STAGE/$pkg"
    dpkg-deb -x "$deb" "$STAGE/$pkg"
    dpkg-deb -f "$deb" >"$STAGE/$pkg.control"
  done
}
fetch_all "${PACKAGES[@]}"

# --- Assemble the root file system ----------------------------------------
# Merged /usr, as Debian 12 itself.
mkdir -p "$ROOTFS"/usr/{bin,sbin,lib,lib64} "$ROOTFS/usr/lib/$MULTIARCH"
for d in bin sbin lib lib64; do ln -s "usr/$d" "$ROOTFS/$d"; done

copy_from() {  # PKG PATH [nofollow]: PATH (and where its symlinks lead) from the unpacked PKG
  local pkg=$1 p=$2 t
  for _ in 1 2 3 4 5 6 7 8; do
    [[ -e $STAGE/$pkg$p || -L $STAGE/$pkg$p ]] || die "$p is not in the package $pkg"
    (cd "$STAGE/$pkg" && tar -cf - --no-recursion ".$p") | tar -C "$ROOTFS" -xf - --keep-directory-symlink
    [[ -L $STAGE/$pkg$p && -z ${3:-} ]] || return 0
    t=$(readlink "$STAGE/$pkg$p")
    [[ $t == /* ]] || t=$(dirname "$p")/$t
    p=$(realpath -m -s "$t")
  done
  die "symlink loop at $2 in $pkg"
}
for w in "${!WANT[@]}"; do copy_from "${w%%$'\t'*}" "${w#*$'\t'}"; done

# Every package's copyright file, and a distroless-style dpkg status entry
# per package (/var/lib/dpkg/status.d/PKG) so that scanners see what is inside.
mkdir -p "$ROOTFS/var/lib/dpkg/status.d"
doc_pkgs=("${PACKAGES[@]}")
for ((i = 0; i < ${#doc_pkgs[@]}; i++)); do
  pkg=${doc_pkgs[$i]}; name=${pkg%%:*}
  fetch_all "$pkg"
  doc=/usr/share/doc/$name
  if [[ -L $STAGE/$pkg$doc ]]; then
    # e.g. /usr/share/doc/kmod -> libkmod2: ship the link and the target's copyright.
    copy_from "$pkg" "$doc" nofollow
    target=$(basename "$(readlink "$STAGE/$pkg$doc")")
    tpkg=$(dpkg-query -W -f='${binary:Package}' "$target" 2>/dev/null) \
      || die "$doc in $pkg links to $target, which is not installed"
    [[ " ${doc_pkgs[*]} " == *" $tpkg "* ]] || doc_pkgs+=("$tpkg")
  else
    copy_from "$pkg" "$doc/copyright"
  fi
  { cat "$STAGE/$pkg.control"; echo "Status: install ok installed"; } >"$ROOTFS/var/lib/dpkg/status.d/$name"
done

# The two binaries, without their debug sections (symbols stay, for traces).
strip --strip-debug -o "$ROOTFS/usr/bin/l2tp-agent" "$AGENT"
strip --strip-debug -o "$ROOTFS/usr/bin/l2tpctl" "$CTL"
chmod 0755 "$ROOTFS/usr/bin/l2tp-agent" "$ROOTFS/usr/bin/l2tpctl"

# Minimal /etc from deploy/container/rootfs (passwd, group, nsswitch.conf).
# The agent runs as root (it needs CAP_NET_ADMIN and NET_RAW in the host's
# network namespace); its socket is root:root, mode 0660.
(cd "$ROOT/deploy/container/rootfs" && tar -cf - .) | tar -C "$ROOTFS" -xf - --keep-directory-symlink --no-same-owner
mkdir -p "$ROOTFS"/{etc/l2tp-agent,etc/modprobe.d,var/lib/l2tp-agent,run/l2tp-agent,tmp,dev,proc,sys}
chmod 1777 "$ROOTFS/tmp"
chmod 0644 "$ROOTFS"/etc/{passwd,group,nsswitch.conf}
# The loader's cache, so libraries resolve without a search.
ldconfig -r "$ROOTFS" 2>/dev/null || true

# Everything root-owned, timestamps fixed: the layer is reproducible.
tar -C "$ROOTFS" --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$SOURCE_DATE_EPOCH" \
  --format=posix --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime -cf "$WORK/rootfs.tar" .

# Sanity: the binaries start in the root file system (no missing library).
if [[ $(id -u) -eq 0 ]]; then
  chroot "$ROOTFS" /usr/bin/l2tp-agent --version >/dev/null || die "l2tp-agent does not start in the image's root file system"
  chroot "$ROOTFS" /usr/bin/l2tpctl --version >/dev/null || die "l2tpctl does not start in the image's root file system"
  chroot "$ROOTFS" /sbin/modprobe --version >/dev/null || die "modprobe does not start in the image's root file system"
  chroot "$ROOTFS" /bin/ip -V >/dev/null 2>&1 || die "ip does not start in the image's root file system"
fi

# --- The image -------------------------------------------------------------
log "assembling $IMAGE with buildah"
ctr=$("${BUILDAH[@]}" from --format oci scratch)
"${BUILDAH[@]}" add "$ctr" "$WORK/rootfs.tar" / >/dev/null
labels=(
  org.opencontainers.image.title=l2tp-agent
  "org.opencontainers.image.description=Per-node L2TPv3 agent with a declarative gRPC API (l2tp-agent, l2tpctl, modprobe, ip; Debian 12 packages)"
  org.opencontainers.image.version="$VERSION"
  org.opencontainers.image.revision="$REVISION"
  org.opencontainers.image.created="$CREATED"
  "org.opencontainers.image.base.name=scratch (files from Debian $(cat "$ROOTFS/etc/debian_version") packages)"
)
cfg=()
for l in "${labels[@]}"; do cfg+=(--label "$l" --annotation "$l"); done
"${BUILDAH[@]}" config \
  --os linux --arch "$ARCH" \
  --entrypoint '["/usr/bin/l2tp-agent"]' \
  --cmd '["--datapath=auto","--metrics-addr=0.0.0.0:9810","--socket=/run/l2tp-agent/agent.sock","--state-dir=/var/lib/l2tp-agent","--resync-interval=10s","--log-level=info"]' \
  --env PATH=/usr/sbin:/usr/bin:/sbin:/bin \
  --user 0:0 --workingdir / \
  --port 9810/tcp \
  --stop-signal SIGTERM \
  --created-by "scripts/build-image.sh (rootfs from Debian packages, see /var/lib/dpkg/status.d)" \
  "${cfg[@]}" "$ctr"
"${BUILDAH[@]}" commit --quiet --format oci --timestamp "$SOURCE_DATE_EPOCH" --rm "$ctr" "$IMAGE" >/dev/null

mkdir -p "$OUT_DIR"
rm -f "$ARCHIVE"
"${BUILDAH[@]}" push --quiet "$IMAGE" "oci-archive:$ARCHIVE:$IMAGE"
for pkg in "${doc_pkgs[@]}"; do
  printf '%s %s\n' "${pkg%%:*}" "${PKG_VERSION[$pkg]}"
done | sort -u >"$OUT_DIR/l2tp-agent-$VERSION.packages"

size=$(du -sk "$ROOTFS" | cut -f1)
log "wrote $ARCHIVE ($(du -h "$ARCHIVE" | cut -f1), root file system $((size / 1024)) MiB, $(wc -l <"$OUT_DIR/l2tp-agent-$VERSION.packages") Debian packages)"

# podman load writes where podman (and CRI-O) look, with their storage
# configuration; skopeo where podman is not installed.
if [[ $do_store -eq 1 ]]; then
  if command -v podman >/dev/null; then
    store=(podman load --quiet --input "$ARCHIVE")
  else
    store=(skopeo copy --quiet "oci-archive:$ARCHIVE" "containers-storage:$IMAGE")
  fi
  if "${store[@]}" >"$WORK/store.out" 2>&1; then
    log "stored $IMAGE in containers-storage (${store[0]})"
  else
    cat "$WORK/store.out" >&2
    log "warning: could not store $IMAGE in containers-storage; the OCI archive is complete"
  fi
fi
echo "$ARCHIVE"
