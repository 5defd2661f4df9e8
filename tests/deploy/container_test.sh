#!/usr/bin/env bash
# The container image (deploy/container, scripts/build-image.sh), for real:
#  1. builds it from BUILD_DIR's binaries under a temporary name
#     (localhost/l2tp-agent-test-PID:<version>) into a temporary directory,
#     twice: both builds have the same digest;
#  2. checks the OCI archive: config (entrypoint, default args, labels), the
#     files (binaries, modprobe, ip, no shell, a copyright file per package),
#     and that deploy/k8s/daemonset.yaml names this version's tag;
#  3. runs it with podman on the host's network, as the DaemonSet does
#     (capabilities NET_ADMIN, NET_RAW and BPF only, read-only root, /dev/net/tun,
#     /lib/modules read-only): GetInfo with the host's l2tpctl through the
#     unix socket in a bind-mounted directory, /healthz and /readyz on a
#     loopback port, Apply and Get of a tunnel and a session (memory
#     datapath), l2tpctl and ip inside the container, SIGTERM -> exit 0.
#     Where podman cannot run containers, the same agent checks run in a
#     chroot of the image's unpacked root file system (umoci), and the test
#     says why podman could not.
# Needs root. Bounded: every wait has a deadline; removes what it created.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BUILD_DIR=${BUILD_DIR:-$ROOT/build}
PASSED=0
fail() { echo "FAIL: $*" >&2; exit 1; }
ok() { PASSED=$((PASSED + 1)); echo "ok $PASSED - $*"; }
skip() { echo "SKIP: $*"; exit 0; }

[[ $(id -u) -eq 0 ]] || skip "needs root (podman with host networking, chroot)"
AGENT=$BUILD_DIR/agent/l2tp-agent
CTL=$BUILD_DIR/client/l2tpctl
[[ -x $AGENT && -x $CTL ]] || fail "BUILD_DIR=$BUILD_DIR has no agent/l2tp-agent and client/l2tpctl"
for t in buildah skopeo umoci jq curl; do
  command -v $t >/dev/null || fail "$t is not installed (scripts/setup.sh installs it)"
done

WORK=$(mktemp -d /tmp/l2tp-container-XXXXXX)
NAME=localhost/l2tp-agent-test-$$
CTR=l2tp-agent-test-$$
PODMAN=(podman --cgroup-manager=cgroupfs --events-backend=file)
cleanup() {
  if command -v podman >/dev/null; then
    "${PODMAN[@]}" rm --force --time 2 "$CTR" >/dev/null 2>&1 || true
    "${PODMAN[@]}" rmi --force "$(cat "$WORK/image" 2>/dev/null || echo "$NAME")" >/dev/null 2>&1 || true
  fi
  [[ -n ${CHROOT_PID:-} ]] && kill -KILL "$CHROOT_PID" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

# --- 1. Build -----------------------------------------------------------
VERSION=$(sed -nE 's/^project\(l2tp-agent VERSION ([0-9.]+).*/\1/p' "$ROOT/CMakeLists.txt")
IMAGE=$NAME:$VERSION
echo "$IMAGE" >"$WORK/image"
store=(); command -v podman >/dev/null || store=(--no-store)
# Both builds get the same commit and time, even if someone commits between.
IMAGE_REVISION=$(git -C "$ROOT" rev-parse HEAD 2>/dev/null || echo unknown)
SOURCE_DATE_EPOCH=$(git -C "$ROOT" log -1 --format=%ct "$IMAGE_REVISION" 2>/dev/null || date +%s)
export IMAGE_REVISION SOURCE_DATE_EPOCH
start=$(date +%s)
BUILD_DIR=$BUILD_DIR OUT_DIR=$WORK/out DEB_CACHE=${DEB_CACHE:-$BUILD_DIR/image-debs} IMAGE_NAME=$NAME \
  timeout 600 "$ROOT/scripts/build-image.sh" --no-build "${store[@]}" >"$WORK/build.log" 2>&1 \
  || { cat "$WORK/build.log"; fail "scripts/build-image.sh"; }
ARCHIVE=$WORK/out/l2tp-agent-$VERSION.oci.tar
[[ -s $ARCHIVE ]] || { cat "$WORK/build.log"; fail "no $ARCHIVE"; }
ok "scripts/build-image.sh built $IMAGE in $(($(date +%s) - start)) s: $(grep -o 'wrote .*' "$WORK/build.log" | sed "s|$WORK/out/||")"

# Reproducible: a second build (no cache but the .debs) has the same digest.
BUILD_DIR=$BUILD_DIR OUT_DIR=$WORK/out2 DEB_CACHE=${DEB_CACHE:-$BUILD_DIR/image-debs} IMAGE_NAME=$NAME \
  timeout 600 "$ROOT/scripts/build-image.sh" --no-build --no-store >"$WORK/build2.log" 2>&1 \
  || { cat "$WORK/build2.log"; fail "scripts/build-image.sh (second build)"; }
d1=$(skopeo inspect "oci-archive:$ARCHIVE" | jq -r .Digest)
d2=$(skopeo inspect "oci-archive:$WORK/out2/l2tp-agent-$VERSION.oci.tar" | jq -r .Digest)
[[ $d1 == "$d2" ]] || fail "two builds of the same tree differ: $d1, $d2"
ok "reproducible: a second build has the same manifest digest ${d1:0:19}"

# --- 2. The archive -----------------------------------------------------
skopeo inspect --config "oci-archive:$ARCHIVE" >"$WORK/config.json"
jq -e '.config.Entrypoint == ["/usr/bin/l2tp-agent"]' "$WORK/config.json" >/dev/null || fail "entrypoint"
jq -e --arg v "$VERSION" --arg r "$IMAGE_REVISION" '.config.Labels["org.opencontainers.image.version"] == $v
  and .config.Labels["org.opencontainers.image.title"] == "l2tp-agent"
  and .config.Labels["org.opencontainers.image.revision"] == $r
  and .config.StopSignal == "SIGTERM" and .os == "linux"' "$WORK/config.json" >/dev/null \
  || { jq .config "$WORK/config.json"; fail "labels, stop signal or os"; }
ok "config: entrypoint /usr/bin/l2tp-agent, OCI labels (version $VERSION, revision), stop signal SIGTERM"

# The default args are the DaemonSet's (minus --config, which needs the ConfigMap).
ds=$ROOT/deploy/k8s/daemonset.yaml
ds_image=$(sed -nE 's/^ +image: *([^ ]+) *$/\1/p' "$ds" | head -1)
[[ $ds_image == "localhost/l2tp-agent:$VERSION" ]] || fail "daemonset.yaml runs $ds_image; the build makes localhost/l2tp-agent:$VERSION"
sed -nE '/^ +args:/,/^ +env:/ s/^ +- (--[^ ]+)$/\1/p' "$ds" | grep -v '^--config=' | sort >"$WORK/ds-args"
jq -r '.config.Cmd[]' "$WORK/config.json" | sort >"$WORK/img-args"
diff -u "$WORK/ds-args" "$WORK/img-args" || fail "the image's default args differ from daemonset.yaml's"
ok "daemonset.yaml runs localhost/l2tp-agent:$VERSION with the image's default args (+ --config)"

skopeo copy --quiet "oci-archive:$ARCHIVE" "oci:$WORK/oci:img"
umoci unpack --image "$WORK/oci:img" "$WORK/bundle" >/dev/null
RFS=$WORK/bundle/rootfs
for f in usr/bin/l2tp-agent usr/bin/l2tpctl usr/sbin/modprobe usr/bin/ip etc/passwd etc/group etc/os-release; do
  [[ -e $RFS/$f ]] || fail "/$f missing from the image"
done
for f in bin/sh usr/bin/bash usr/bin/apt usr/bin/dpkg; do
  [[ ! -e $RFS/$f ]] || fail "/$f is in the image (it should hold no shell or package manager)"
done
npkg=0
for st in "$RFS"/var/lib/dpkg/status.d/*; do
  pkg=$(basename "$st")
  [[ -f $RFS/usr/share/doc/$pkg/copyright ]] || fail "no copyright file for $pkg"
  npkg=$((npkg + 1))
done
[[ $npkg -ge 10 ]] || fail "only $npkg packages in /var/lib/dpkg/status.d"
# Every ELF's libraries resolve inside the image.
for elf in usr/bin/l2tp-agent usr/bin/l2tpctl usr/bin/kmod usr/bin/ip; do
  out=$(chroot "$RFS" /usr/lib64/ld-linux-x86-64.so.2 --list "/$elf" 2>&1) || { echo "$out"; fail "$elf: loader failed"; }
  ! grep -q 'not found' <<<"$out" || { echo "$out"; fail "$elf: missing libraries in the image"; }
done
v=$(chroot "$RFS" /usr/bin/l2tp-agent --version)
[[ $v == "l2tp-agent $VERSION" ]] || fail "l2tp-agent --version in the image says '$v'"
ok "root file system: $(du -sh "$RFS" | cut -f1), $npkg Debian packages each with its copyright, no shell, all libraries resolve, '$v'"

# --- 3. Run it ------------------------------------------------------------
free_port() {  # a free loopback TCP port
  local p
  for _ in $(seq 1 50); do
    p=$((20000 + RANDOM % 20000))
    ss -Htln "sport = :$p" | grep -q . || { echo "$p"; return; }
  done
  fail "no free port"
}
wait_for() {  # SECONDS CMD...: until CMD succeeds
  local deadline=$(($(date +%s) + $1)); shift
  until "$@" >/dev/null 2>&1; do
    [[ $(date +%s) -lt $deadline ]] || return 1
    sleep 0.2
  done
}

# The agent checks, through SOCK and PORT (memory datapath, no packets moved).
agent_checks() {  # WHERE SOCK PORT
  local where=$1 sock=$2 port=$3
  wait_for 30 test -S "$sock" || fail "$where: no socket $sock"
  "$CTL" --socket "$sock" --timeout 10s info -o json >"$WORK/info.json" || fail "$where: GetInfo"
  jq -e --arg v "$VERSION" '.version == $v and .datapath == "memory"' "$WORK/info.json" >/dev/null \
    || { cat "$WORK/info.json"; fail "$where: GetInfo says $(jq -c . "$WORK/info.json")"; }
  ok "$where: GetInfo through the bind-mounted socket: agent $VERSION, datapath memory"
  wait_for 10 curl -fsS "http://127.0.0.1:$port/healthz" || fail "$where: /healthz on 127.0.0.1:$port"
  wait_for 10 curl -fsS "http://127.0.0.1:$port/readyz" || fail "$where: /readyz on 127.0.0.1:$port"
  curl -fsS "http://127.0.0.1:$port/metrics" >"$WORK/metrics.txt" || fail "$where: GET /metrics"
  grep -q '^l2tp_' "$WORK/metrics.txt" || fail "$where: /metrics has no l2tp_ series"
  ok "$where: /healthz, /readyz and /metrics on 127.0.0.1:$port"
  cat >"$WORK/pw.yaml" <<'EOF'
tunnels:
  - name: ctr-test
    spec: {tunnelId: 4101, peerTunnelId: 4102, encap: ENCAPSULATION_UDP, local: 192.0.2.1, remote: 192.0.2.2}
sessions:
  - name: ctr-test-pw
    spec: {tunnel: ctr-test, sessionId: 4201, peerSessionId: 4202, interfaceName: l2tpctrtest0}
EOF
  "$CTL" --socket "$sock" --timeout 10s apply -f "$WORK/pw.yaml" >"$WORK/apply.txt" || { cat "$WORK/apply.txt"; fail "$where: apply"; }
  wait_for 20 sh -c "'$CTL' --socket '$sock' get tunnel ctr-test -o json | jq -e '.status.phase == \"PHASE_READY\"'" \
    || { "$CTL" --socket "$sock" get all -o yaml; fail "$where: tunnel ctr-test not READY"; }
  "$CTL" --socket "$sock" get session ctr-test-pw -o json | jq -e '.spec.sessionId == 4201' >/dev/null \
    || fail "$where: Get session ctr-test-pw"
  ok "$where: Apply of a tunnel and a session, Get shows them (tunnel READY)"
}

# podman raises RLIMIT_NOFILE and RLIMIT_NPROC by default; where the sandbox
# forbids that, run with the current limits (NPROC at most pid_max: above
# it, this sandbox refuses too).
nproc=$(ulimit -Hu); pid_max=$(cat /proc/sys/kernel/pid_max)
[[ $nproc == unlimited || $nproc -gt $pid_max ]] && nproc=$pid_max
CUR_LIMITS=(--ulimit "nofile=$(ulimit -Hn):$(ulimit -Hn)" --ulimit "nproc=$nproc:$nproc")
LIMITS=()
podman_why=""
can_podman() {
  command -v podman >/dev/null || { podman_why="podman is not installed"; return 1; }
  local rt lim
  # crun refuses hosts with cgroup v1 and v2 controllers mixed ("hybrid");
  # runc runs there.
  for rt in "" runc; do
    [[ -z $rt ]] || command -v "$rt" >/dev/null || continue
    for lim in default current; do
      local l=(); [[ $lim == current ]] && l=("${CUR_LIMITS[@]}")
      if "${PODMAN[@]}" ${rt:+--runtime=$rt} run --rm --network=host "${l[@]}" "$IMAGE" --version >"$WORK/probe.txt" 2>&1; then
        [[ -z $rt ]] || PODMAN+=(--runtime="$rt")
        LIMITS=("${l[@]}")
        return 0
      fi
      podman_why+="${rt:-default runtime} with $lim limits: $(tail -1 "$WORK/probe.txt"); "
    done
  done
  return 1
}

if can_podman; then
  ok "podman runs the image: ${PODMAN[*]:1} run ${LIMITS[*]}"
  mkdir -p "$WORK/run" "$WORK/state"
  port=$(free_port)
  tun=(); [[ -c /dev/net/tun ]] && tun=(--device /dev/net/tun)
  mods=(); [[ -d /lib/modules ]] && mods=(-v /lib/modules:/lib/modules:ro)
  "${PODMAN[@]}" run -d --name "$CTR" --network=host "${LIMITS[@]}" \
    --cap-drop=all --cap-add=NET_ADMIN,NET_RAW,BPF --security-opt=no-new-privileges --read-only \
    "${tun[@]}" "${mods[@]}" -v "$WORK/run:/run/l2tp-agent" -v "$WORK/state:/var/lib/l2tp-agent" \
    "$IMAGE" --datapath=memory --metrics-addr="127.0.0.1:$port" \
    --socket=/run/l2tp-agent/agent.sock --state-dir=/var/lib/l2tp-agent >/dev/null \
    || fail "podman run"
  agent_checks "podman" "$WORK/run/agent.sock" "$port" \
    || { "${PODMAN[@]}" logs "$CTR"; exit 1; }
  "${PODMAN[@]}" exec "$CTR" l2tpctl get sessions | grep -q ctr-test-pw || fail "l2tpctl inside the container"
  "${PODMAN[@]}" exec "$CTR" ip -br link show lo | grep -q '^lo' || fail "ip inside the container"
  ok "l2tpctl and ip work inside the container (podman exec)"
  start=$(date +%s%N)
  "${PODMAN[@]}" stop --time 10 "$CTR" >/dev/null
  code=$("${PODMAN[@]}" inspect "$CTR" --format '{{.State.ExitCode}}')
  ms=$((($(date +%s%N) - start) / 1000000))
  # Into a file first: grep -q closing a pipe early would fail `podman logs` under pipefail.
  "${PODMAN[@]}" logs "$CTR" >"$WORK/ctr.log" 2>&1
  grep -q 'received SIGTERM' "$WORK/ctr.log" || { cat "$WORK/ctr.log"; fail "no SIGTERM in the log"; }
  [[ $code == 0 && $ms -lt 9000 ]] || { "${PODMAN[@]}" logs "$CTR"; fail "stop: exit code $code after $ms ms"; }
  ok "podman stop: SIGTERM, exit code 0 after $ms ms; the state persisted ($(ls "$WORK/state" | tr "\n" " " | sed "s/ $//"))"
  "${PODMAN[@]}" rm "$CTR" >/dev/null

  # As the DaemonSet runs it: its args, --datapath=auto, /dev/net/tun.
  port=$(free_port)
  rm -rf "$WORK/run" "$WORK/state"; mkdir -p "$WORK/run" "$WORK/state"
  "${PODMAN[@]}" run -d --name "$CTR" --network=host "${LIMITS[@]}" \
    --cap-drop=all --cap-add=NET_ADMIN,NET_RAW,BPF --security-opt=no-new-privileges --read-only \
    "${tun[@]}" "${mods[@]}" -v "$WORK/run:/run/l2tp-agent" -v "$WORK/state:/var/lib/l2tp-agent" \
    "$IMAGE" --datapath=auto --metrics-addr="127.0.0.1:$port" --socket=/run/l2tp-agent/agent.sock \
    --state-dir=/var/lib/l2tp-agent --resync-interval=10s --log-level=info >/dev/null || fail "podman run (auto)"
  wait_for 30 test -S "$WORK/run/agent.sock" || { "${PODMAN[@]}" logs "$CTR"; fail "auto: no socket"; }
  dp=$("$CTL" --socket "$WORK/run/agent.sock" info -o json | jq -r .datapath)
  [[ $dp == kernel || $dp == userspace ]] || { "${PODMAN[@]}" logs "$CTR"; fail "auto: datapath '$dp'"; }
  wait_for 10 curl -fsS "http://127.0.0.1:$port/readyz" || fail "auto: /readyz"
  "${PODMAN[@]}" stop --time 10 "$CTR" >/dev/null
  [[ $("${PODMAN[@]}" inspect "$CTR" --format '{{.State.ExitCode}}') == 0 ]] || fail "auto: exit code"
  ok "with the DaemonSet's flags and --datapath=auto: datapath $dp, ready, exit 0 on SIGTERM"
else
  echo "note: podman cannot run containers here: $podman_why"
  echo "note: running the image's root file system in a chroot instead"
  mkdir -p "$RFS/run/l2tp-agent" "$RFS/var/lib/l2tp-agent"
  port=$(free_port)
  chroot "$RFS" /usr/bin/l2tp-agent --datapath=memory --metrics-addr="127.0.0.1:$port" \
    --socket=/run/l2tp-agent/agent.sock --state-dir=/var/lib/l2tp-agent >"$WORK/chroot.log" 2>&1 &
  CHROOT_PID=$!
  agent_checks "chroot" "$RFS/run/l2tp-agent/agent.sock" "$port" || { cat "$WORK/chroot.log"; exit 1; }
  kill -TERM "$CHROOT_PID"
  code=0; timeout 10 tail --pid="$CHROOT_PID" -f /dev/null || true
  wait "$CHROOT_PID" || code=$?
  CHROOT_PID=
  [[ $code == 0 ]] || { cat "$WORK/chroot.log"; fail "chroot agent: exit code $code on SIGTERM"; }
  ok "chroot: exit code 0 on SIGTERM"
fi
echo "$PASSED passed, 0 failed"
