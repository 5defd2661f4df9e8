#!/usr/bin/env bash
# Installs everything the project needs to build, test and run, from Debian's
# apt and the npm registry only. Idempotent: a second run installs nothing.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)

APT_PACKAGES=(
  # build
  build-essential cmake pkg-config bazel-bootstrap
  # build checks (tests/build/): one_truth.py, clang_format_check.sh (clang-format 14)
  python3 clang-format
  # libraries (Debian's packaged builds)
  libgrpc++-dev protobuf-compiler protobuf-compiler-grpc libprotobuf-dev libabsl-dev libssl-dev
  libnl-3-dev libnl-genl-3-dev libnl-route-3-dev prometheus-cpp-dev libyaml-cpp-dev liburing-dev
  libgtest-dev libgmock-dev
  # tests and the demo: namespaces, traffic, JSON, fuzzing
  iproute2 iputils-ping iperf3 ethtool jq curl clang libclang-rt-14-dev openvpn iptables
  # control-protocol interop: a real L2TPv2 LAC/LNS
  xl2tpd
  # monitoring: promtool and a real Prometheus server for the metrics tests
  prometheus yamllint
  # kernel-L2TP tests in a QEMU VM, and packet decoding
  qemu-system-x86 busybox-static kmod xz-utils binutils tshark
  # the container image: build (buildah, skopeo), check (umoci), run (podman; runc where crun cannot)
  buildah skopeo umoci podman runc
)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ! command -v npm >/dev/null 2>&1; then missing+=(nodejs npm); fi
if [[ ${#missing[@]} -gt 0 ]]; then
  echo "setup: installing ${missing[*]}"
  SUDO=""; [[ $(id -u) -eq 0 ]] || SUDO=sudo
  # tshark asks whether non-root users may capture; answer for it.
  echo "wireshark-common wireshark-common/install-setuid boolean false" | $SUDO debconf-set-selections
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # The tests start their own xl2tpd in a namespace; the packaged service
  # would listen on every address of this machine.
  if [[ " ${missing[*]} " == *" xl2tpd "* ]] && command -v systemctl >/dev/null 2>&1; then
    $SUDO systemctl disable --now xl2tpd >/dev/null 2>&1 || true
  fi
fi

# buf (npm @bufbuild/buf): a grpcurl-like client for the reflection test.
BUF_VERSION=1.75.0
if [[ ! -x "$ROOT/.tools/node_modules/.bin/buf" ]]; then
  echo "setup: installing @bufbuild/buf@$BUF_VERSION into .tools/"
  mkdir -p "$ROOT/.tools"
  npm install --silent --no-audit --no-fund --prefix "$ROOT/.tools" "@bufbuild/buf@$BUF_VERSION" >/dev/null
fi
# npm tools for the manifest and dashboard schema tests (pinned lockfile).
"$ROOT/tests/deploy/install-tools.sh"
echo "setup: done"
