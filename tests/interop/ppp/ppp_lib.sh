# shellcheck shell=bash
# Helpers for the PPP tests: pppd + xl2tpd (Debian's builds) in the test VM
# (tests/vm/), on the kernel's PPPoL2TP datapath. Source it; no `set -e`
# assumptions (callers check return codes).
#
# Host side (before booting the VM):
#   ppp_stage PAYLOAD_DIR             pppd, plugins, xl2tpd, tcpdump, libraries
#                                     into PAYLOAD_DIR/ppp-root (stage.sh; 77 =
#                                     packages unobtainable)
#   ppp_tshark_summary PCAP [PORT..]  one line per L2TP control message and
#                                     PPP control frame (tshark), for the report
#   ppp_tshark_detail PCAP FILTER [PORT..]  the first matching frame's L2TP,
#                                     PPP and CHAP/LCP/IPCP layers in full
#   ppp_tshark_check PCAP [PORT..]    which L2TPv2 messages and LCP/CHAP/IPCP codes
#                                     tshark decoded (sets PPP_DECODED)
# VM side (in the job; /vm/lib.sh is sourced by then):
#   ppp_vm_install [PAYLOAD]          copy ppp-root into / (never replacing a
#                                     base file), /var/run, /etc/ppp, /dev/ppp
#   ppp_netns_pair NS_A NS_B IF_A IF_B CIDR_A CIDR_B
#   ppp_etc_dir DIR                   a private /etc/ppp in the making
#   ppp_chap_secret DIR CLIENT SERVER SECRET [ADDRS]
#   ppp_options FILE LOGFILE [OPTION...]   a pppoptfile
#   ppp_xl2tpd_config lns|lac FILE KEY=VALUE...
#   ppp_ns_cmd NETNS ETC_PPP_DIR      PPP_NS_CMD: prefix running a program in
#                                     NETNS with ETC_PPP_DIR as its /etc/ppp
#   ppp_start_xl2tpd NAME NETNS DIR ETC_PPP_DIR   (XL2TPD_PID[NAME])
#   ppp_xl2tpd_ctl NAME COMMAND       a line to its control FIFO ("c lac", "d lac")
#   ppp_stop_xl2tpd NAME
#   ppp_wait_iface NETNS ADDRESS SECONDS   prints the ppp interface holding ADDRESS
#   ppp_wait_log FILE REGEX SECONDS
#   ppp_capture_start NETNS IF PCAP [FILTER...] / ppp_capture_stop
#   ppp_pppol2tp NETNS / ppp_sessions NETNS   /proc/net/pppol2tp entries
#   ppp_leftovers NETNS...            prints pppd/xl2tpd processes, pppN
#                                     interfaces, PPPoL2TP tunnels/sessions left
#   ppp_mountns_probe                 how private mount namespaces behave here
#
# Facts these rely on (Debian bookworm, kernel 6.1 in the VM):
#  - pppd 2.4.9 looks for plugins in /usr/lib/pppd/2.4.9 (PPP_PLUGIN_DIR in
#    ppp-root/.ppp-stage) and always reads /etc/ppp/{options,chap-secrets,
#    pap-secrets}: a missing /etc/ppp/options is fine for root. xl2tpd execs
#    /usr/sbin/pppd (compiled in) with `plugin pppol2tp.so pppol2tp FD` (+
#    `pppol2tp_lns_mode pppol2tp_tunnel_id T pppol2tp_session_id S` as LNS),
#    `passive nodetach`, `name`, `require-chap`/`refuse-pap`..., `file
#    PPPOPTFILE`, and `plugin passwordfd.so` when a LAC has `password =`.
#  - xl2tpd picks the kernel datapath by itself when socket(AF_PPPOX,
#    SOCK_DGRAM, PX_PROTO_OL2TP) works; it logs "Using l2tp kernel support."
#    (else "L2TP kernel support not detected" and pppd on a pty).
#  - /dev/ppp (108,0) is made by devtmpfs when ppp_generic loads at boot.
#  - ppp units are per network namespace: both ends of a pair in one VM are
#    ppp0. /proc/net/pppol2tp is per network namespace, too.
#  - The VM's / is rootfs, private (no "shared:" in mountinfo). busybox
#    `unshare -m` makes / rprivate in the new namespace (its default;
#    `--propagation unchanged` is broken in busybox 1.35: EINVAL). Bind
#    mounts over /etc/ppp there stay private; see ppp_mountns_probe. (On a
#    systemd host / is shared: there the namespace must be made rprivate
#    before the bind, or it propagates back.) `ip netns exec NS` itself also
#    unshares the mount namespace (rslave) and binds /etc/netns/NS/* over
#    /etc/*, so an /etc/netns/NS/ppp would shadow /etc/ppp as well.
#  - Debian's pppd negotiates IPV6CP too unless told `noipv6`; its default
#    MTU/MRU is 1500 (the L2TP/UDP packet then fragments on a 1500 link).
#  - When xl2tpd tears a call down it TERMs pppd, whose LCP Terminate-Request
#    goes unanswered (the session is gone): pppd exits ~6 s later (2 x 3 s).
#  - In the VM, busybox's `timeout CMD` runs busybox's own applet CMD when it
#    has one (`timeout 5 ip ...` is busybox ip): put timeout after `ip netns
#    exec NS`.

PPP_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# ---------------------------------------------------------------- host side

ppp_stage() { bash "$PPP_LIB_DIR/stage.sh" "$1"; }

# ppp_tshark_args [PORT...]: decode-as for L2TP on ports other than 1701.
ppp_tshark_args() {
  local p
  for p in "$@"; do [[ $p == 1701 ]] || printf -- '-d\nudp.port==%s,l2tp\n' "$p"; done
}

ppp_tshark_summary() {
  local pcap=$1; shift
  local args=()
  mapfile -t args < <(ppp_tshark_args "$@")
  timeout 120 tshark -r "$pcap" "${args[@]}" -Y 'l2tp.type == 1 || lcp || chap || pap || ipcp || ipv6cp' \
    -T fields -E separator=' ' -e frame.number -e frame.time_relative -e ip.src -e ip.dst -e _ws.col.Protocol -e _ws.col.Info 2>/dev/null
}

ppp_tshark_detail() {
  local pcap=$1 filter=$2; shift 2
  local args=()
  mapfile -t args < <(ppp_tshark_args "$@")
  timeout 120 tshark -r "$pcap" "${args[@]}" -Y "$filter" -O l2tp,ppp,lcp,chap,ipcp 2>/dev/null |
    awk '/^Frame / {n++} n == 1' | grep -v '^\(Frame\|Ethernet\|Internet Protocol\|User Datagram\) '
}

# ppp_tshark_check PCAP [PORT...]: PPP_DECODED gets a line per kind tshark
# found, with a count: "l2tp-msg N" (Message Type AVP: 1 SCCRQ ... 14 CDN),
# "l2tp-msg ZLB", "lcp N" / "ipcp N" (ppp.code: 1 Conf-Req, 2 Ack, 3 Nak, 4
# Rej, 5 Term-Req, 6 Term-Ack), "chap N" (1 Challenge, 2 Response, 3
# Success, 4 Failure), "icmp-in-ppp 8|0" (echo request/reply inside data
# messages).
# shellcheck disable=SC2034  # PPP_DECODED is the result
ppp_tshark_check() {
  local pcap=$1; shift
  local args=()
  mapfile -t args < <(ppp_tshark_args "$@")
  PPP_DECODED=$(
    {
      timeout 120 tshark -r "$pcap" "${args[@]}" -Y 'l2tp.type == 1 && l2tp.avp.message_type' -T fields \
        -e l2tp.avp.message_type 2>/dev/null | cut -d, -f1 | sed 's/^/l2tp-msg /'
      timeout 120 tshark -r "$pcap" "${args[@]}" -Y 'l2tp.type == 1 && !l2tp.avp.message_type' -T fields \
        -e frame.number 2>/dev/null | sed 's/.*/l2tp-msg ZLB/'
      timeout 120 tshark -r "$pcap" "${args[@]}" -Y 'l2tp.type == 0 && lcp' -T fields -e ppp.code 2>/dev/null | sed 's/^/lcp /'
      timeout 120 tshark -r "$pcap" "${args[@]}" -Y 'l2tp.type == 0 && chap' -T fields -e chap.code 2>/dev/null | sed 's/^/chap /'
      timeout 120 tshark -r "$pcap" "${args[@]}" -Y 'l2tp.type == 0 && ipcp' -T fields -e ppp.code 2>/dev/null | sed 's/^/ipcp /'
      timeout 120 tshark -r "$pcap" "${args[@]}" -Y 'l2tp.type == 0 && ppp && icmp' -T fields -e icmp.type 2>/dev/null | sed 's/^/icmp-in-ppp /'
    } | sort | uniq -c | awk '{print $2, $3, $1}'
  )
}

# ------------------------------------------------------------------ VM side

# ppp_vm_install [PAYLOAD]: the staged tree into / (files the base image
# has, e.g. a library ip links, stay: init and bash map them), then what
# pppd and xl2tpd expect to exist.
ppp_vm_install() {
  local src=${1:-/payload}/ppp-root f
  [[ -f $src/.ppp-stage ]] || { echo "ppp_vm_install: no $src/.ppp-stage (stage.sh)"; return 1; }
  (cd "$src" && find . ! -type d) | while read -r f; do
    f=${f#./}
    [[ $f == .ppp-stage || -e /$f ]] && continue
    mkdir -p "/$(dirname "$f")" && cp -a "$src/$f" "/$f"
  done
  # shellcheck disable=SC1091
  source "$src/.ppp-stage"
  export PPP_VERSION PPP_PLUGIN_DIR XL2TPD_VERSION TCPDUMP_VERSION
  mkdir -p /etc/ppp /var/log /run/lock
  [[ -e /var/run ]] || ln -s /run /var/run
  [[ -e /var/lock ]] || ln -s /run/lock /var/lock
  [[ -c /dev/ppp ]] || mknod -m 0600 /dev/ppp c 108 0
  [[ -x /usr/sbin/pppd && -x /usr/sbin/xl2tpd && -f $PPP_PLUGIN_DIR/pppol2tp.so ]] ||
    { echo "ppp_vm_install: pppd/xl2tpd/pppol2tp.so missing after install"; return 1; }
}

# ppp_netns_pair NS_A NS_B IF_A IF_B CIDR_A CIDR_B: two namespaces joined by a veth.
ppp_netns_pair() {
  ip netns add "$1" && ip netns add "$2" || return 1
  ip link add "$3" netns "$1" type veth peer name "$4" netns "$2" || return 1
  ip -n "$1" link set lo up && ip -n "$2" link set lo up
  ip -n "$1" addr add "$5" dev "$3" && ip -n "$2" addr add "$6" dev "$4"
  ip -n "$1" link set "$3" up && ip -n "$2" link set "$4" up
}

# ppp_etc_dir DIR: an empty directory to bind over /etc/ppp (no options
# file: pppd then reads only what xl2tpd and the pppoptfile say).
ppp_etc_dir() { rm -rf "$1" && mkdir -p "$1" && : >"$1/chap-secrets" && : >"$1/pap-secrets" && chmod 600 "$1"/*-secrets; }

# ppp_chap_secret DIR CLIENT SERVER SECRET [ADDRS]: a chap-secrets line.
ppp_chap_secret() { printf '"%s" "%s" "%s" %s\n' "$2" "$3" "$4" "${5:-*}" >>"$1/chap-secrets"; }

# ppp_options FILE LOGFILE [OPTION...]: a pppoptfile. Common options: debug
# to LOGFILE, no compression (no ppp_deflate/bsd_comp in the VM), no routes.
ppp_options() {
  local file=$1 log=$2; shift 2
  {
    printf '%s\n' debug "logfile $log" noccp nodefaultroute noproxyarp "lcp-echo-interval 0"
    printf '%s\n' "$@"
  } >"$file"
}

# ppp_xl2tpd_config lns|lac FILE KEY=VALUE...: an xl2tpd.conf. Keys:
#   listen=ADDR port=N (global; default 1701)  auth_file=PATH (tunnel secrets)
#   debug=yes (tunnel/state/avp debugging)
#   section=NAME (default "default" for lns, "peer" for lac)
#   lns: ip_range=A-B local_ip=ADDR lac_allow=RANGE (default: any)
#   lac: peer=ADDR[:PORT] (the LNS) autodial=yes|no redial=yes|no
#        redial_timeout=S max_redials=N password=SECRET (via passwordfd.so)
#   both: name=PPP_NAME hostname=TUNNEL_HOSTNAME pppoptfile=PATH
#        auth=chap|pap|none (lns: required of the peer; lac: what we refuse
#        not to do) challenge=yes|no (tunnel auth, needs auth_file)
#        length_bit=yes|no extra="raw line\nraw line" (into the section)
ppp_xl2tpd_config() {
  local role=$1 file=$2 kv
  shift 2
  local -A c=([port]=1701 [auth]=chap [length_bit]=yes [debug]=no [challenge]=no [autodial]=yes
              [redial]=yes [redial_timeout]=2 [max_redials]=5)
  for kv in "$@"; do c[${kv%%=*}]=${kv#*=}; done
  {
    echo "[global]"
    [[ -n ${c[listen]:-} ]] && echo "listen-addr = ${c[listen]}"
    echo "port = ${c[port]}"
    echo "access control = no"
    [[ -n ${c[auth_file]:-} ]] && echo "auth file = ${c[auth_file]}"
    if [[ ${c[debug]} == yes ]]; then
      printf '%s\n' "debug tunnel = yes" "debug state = yes" "debug avp = yes" "debug network = yes"
    fi
    if [[ $role == lns ]]; then
      echo "[lns ${c[section]:-default}]"
      [[ -n ${c[lac_allow]:-} ]] && echo "lac = ${c[lac_allow]}"
      [[ -n ${c[ip_range]:-} ]] && echo "ip range = ${c[ip_range]}"
      [[ -n ${c[local_ip]:-} ]] && echo "local ip = ${c[local_ip]}"
      case ${c[auth]} in
        chap) printf '%s\n' "require chap = yes" "refuse pap = yes" "require authentication = yes" ;;
        pap) printf '%s\n' "require pap = yes" "refuse chap = yes" "require authentication = yes" ;;
        none) echo "require authentication = no" ;;
      esac
    else
      echo "[lac ${c[section]:-peer}]"
      echo "lns = ${c[peer]:?ppp_xl2tpd_config lac needs peer=}"
      echo "autodial = ${c[autodial]}"
      echo "redial = ${c[redial]}"
      echo "redial timeout = ${c[redial_timeout]}"
      echo "max redials = ${c[max_redials]}"
      [[ -n ${c[password]:-} ]] && echo "password = ${c[password]}"
      case ${c[auth]} in
        chap) echo "refuse pap = yes" ;;
        pap) echo "refuse chap = yes" ;;
      esac
      echo "require authentication = no"
    fi
    [[ -n ${c[name]:-} ]] && echo "name = ${c[name]}"
    [[ -n ${c[hostname]:-} ]] && echo "hostname = ${c[hostname]}"
    [[ -n ${c[pppoptfile]:-} ]] && echo "pppoptfile = ${c[pppoptfile]}"
    echo "challenge = ${c[challenge]}"
    echo "ppp debug = yes"
    echo "length bit = ${c[length_bit]}"
    if [[ -n ${c[extra]:-} ]]; then printf '%b\n' "${c[extra]}"; fi
  } >"$file"
}

# ppp_ns_cmd NETNS ETC_PPP_DIR: sets PPP_NS_CMD, a command prefix that runs
# a program in NETNS ("-": the VM's own) and in a mount namespace of its own
# (busybox unshare -m: / made rprivate) with ETC_PPP_DIR bound over
# /etc/ppp ("-": none), each step exec'ing the next, so `"${PPP_NS_CMD[@]}"
# prog ... &` leaves prog's PID in $!. This is what the agent's pppd runner
# does with unshare(CLONE_NEWNS) + mount(MS_REC|MS_PRIVATE) + MS_BIND.
ppp_ns_cmd() {
  PPP_NS_CMD=()
  [[ $1 != - ]] && PPP_NS_CMD=(ip netns exec "$1")
  if [[ $2 != - ]]; then
    PPP_NS_CMD+=(unshare -m sh -c 'mount --bind "$0" /etc/ppp && exec "$@"' "$2")
  fi
}

# ppp_start_xl2tpd NAME NETNS DIR ETC_PPP_DIR: xl2tpd -D with DIR/NAME.conf,
# in NETNS and in a mount namespace of its own where ETC_PPP_DIR is bound
# over /etc/ppp (pppd inherits both). Log DIR/NAME.log, control FIFO
# DIR/NAME.ctl, tunnel secrets DIR/NAME.secrets (made empty if absent).
# Waits (10 s) for the FIFO; fails unless xl2tpd says it uses the kernel.
declare -gA XL2TPD_PID=() XL2TPD_DIR=()
ppp_start_xl2tpd() {
  local name=$1 ns=$2 dir=$3 etc=$4
  [[ -f $dir/$name.secrets ]] || { : >"$dir/$name.secrets"; chmod 600 "$dir/$name.secrets"; }
  rm -f "$dir/$name.ctl" "$dir/$name.pid"
  ppp_ns_cmd "$ns" "$etc"
  "${PPP_NS_CMD[@]}" /usr/sbin/xl2tpd -D -c "$dir/$name.conf" -s "$dir/$name.secrets" -p "$dir/$name.pid" \
    -C "$dir/$name.ctl" </dev/null >>"$dir/$name.log" 2>&1 &
  XL2TPD_PID[$name]=$!
  XL2TPD_DIR[$name]=$dir
  for _ in $(seq 1 100); do
    [[ -p $dir/$name.ctl ]] && break
    kill -0 "${XL2TPD_PID[$name]}" 2>/dev/null || break
    sleep 0.1
  done
  if [[ ! -p $dir/$name.ctl ]]; then
    echo "ppp_start_xl2tpd $name: no control FIFO after 10 s"; tail -20 "$dir/$name.log"; return 1
  fi
  grep -q 'Using l2tp kernel support' "$dir/$name.log" ||
    { echo "ppp_start_xl2tpd $name: not on the kernel datapath"; tail -20 "$dir/$name.log"; return 1; }
}

# ppp_xl2tpd_ctl NAME COMMAND: e.g. "c peer" (dial LAC "peer"), "d peer".
ppp_xl2tpd_ctl() { timeout 5 sh -c 'echo "$1" >"$0"' "${XL2TPD_DIR[$1]}/$1.ctl" "$2"; }

# ppp_stop_xl2tpd NAME: TERM (xl2tpd sends StopCCN and TERMs its pppds), 10 s, KILL.
ppp_stop_xl2tpd() {
  local pid=${XL2TPD_PID[$1]:-}
  [[ -n $pid ]] || return 0
  kill -TERM "$pid" 2>/dev/null
  for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  unset "XL2TPD_PID[$1]"
  return 0
}

# ppp_iface_with NETNS ADDRESS: the ppp interface that has ADDRESS (local).
ppp_iface_with() {
  ip -n "$1" -o -4 addr show 2>/dev/null | awk -v a="$2" '$2 ~ /^ppp/ && $4 ~ "^"a"(/|$)" {print $2; exit}'
}

# ppp_wait_iface NETNS ADDRESS SECONDS: prints the interface once it is up with ADDRESS.
ppp_wait_iface() {
  local deadline=$((SECONDS + $3)) ifc
  while ((SECONDS < deadline)); do
    ifc=$(ppp_iface_with "$1" "$2")
    if [[ -n $ifc ]] && ip -n "$1" link show "$ifc" 2>/dev/null | grep -q '[<,]UP[,>]'; then
      echo "$ifc"; return 0
    fi
    sleep 0.2
  done
  return 1
}

# ppp_wait_log FILE REGEX SECONDS (grep -E).
ppp_wait_log() {
  local deadline=$((SECONDS + $3))
  while ((SECONDS < deadline)); do
    grep -Eq "$2" "$1" 2>/dev/null && return 0
    sleep 0.2
  done
  return 1
}

# ppp_capture_start NETNS IF PCAP [FILTER...]: tcpdump (PPP_CAP_PID), whole
# frames, written per packet; waits until it listens (10 s).
PPP_CAP_PID=""
ppp_capture_start() {
  local ns=$1 ifc=$2 pcap=$3; shift 3
  ip netns exec "$ns" tcpdump -i "$ifc" -s 0 -U -Z root -w "$pcap" "$@" >"$pcap.log" 2>&1 &
  PPP_CAP_PID=$!
  for _ in $(seq 1 100); do grep -q 'listening on' "$pcap.log" 2>/dev/null && return 0; sleep 0.1; done
  echo "ppp_capture_start: tcpdump did not start"; cat "$pcap.log"; return 1
}
ppp_capture_stop() {
  [[ -n $PPP_CAP_PID ]] || return 0
  kill -INT "$PPP_CAP_PID" 2>/dev/null
  for _ in $(seq 1 50); do kill -0 "$PPP_CAP_PID" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$PPP_CAP_PID" 2>/dev/null
  wait "$PPP_CAP_PID" 2>/dev/null
  PPP_CAP_PID=""
  return 0
}

# ppp_pppol2tp NETNS: the entries of /proc/net/pppol2tp (l2tp_ppp's table of
# L2TPv2 tunnels and PPPoL2TP sessions in that namespace), header left out:
# "TUNNEL 'name', ...", "  SESSION 'name' addr/port tid/sid -> ptid/psid ...",
# "   interface pppN".
ppp_pppol2tp() { ip netns exec "$1" cat /proc/net/pppol2tp 2>/dev/null | grep -E "^(TUNNEL|  SESSION) '|^   interface "; }

# ppp_sessions NETNS: the PPPoL2TP sessions (session id not 0: a tunnel's
# own socket is session 0) of /proc/net/pppol2tp.
ppp_sessions() { ppp_pppol2tp "$1" | grep "^  SESSION '[^']*/[1-9]"; }

# ppp_leftovers NETNS...: prints what is left (nothing = clean): pppd and
# xl2tpd processes (VM-wide; PPP_LEFTOVER_PROCS="pppd" to look for pppd only), ppp interfaces, PPPoL2TP tunnels/sessions
# (/proc/net/pppol2tp) and kernel L2TP tunnels (genetlink) per namespace.
ppp_leftovers() {
  local ns p
  # shellcheck disable=SC2086  # a list of names
  for p in $(pidof ${PPP_LEFTOVER_PROCS:-pppd xl2tpd} 2>/dev/null); do echo "process $p: $(tr '\0' ' ' </proc/"$p"/cmdline 2>/dev/null)"; done
  for ns in "$@"; do
    ip -n "$ns" -o link show 2>/dev/null | awk -v n="$ns" '$2 ~ /^ppp/ {print "interface " n "/" $2}'
    ppp_pppol2tp "$ns" | sed "s|^ *|pppol2tp $ns: |"
    ip -n "$ns" l2tp show tunnel 2>/dev/null | sed -n "s|^Tunnel \\([0-9]*\\),.*|l2tp $ns: tunnel \\1|p"
  done
}

# ppp_mountns_probe: how a private mount namespace with a bind over
# /etc/ppp behaves in this root (what the agent's pppd runner relies on).
# Prints "ok|fail WHAT" lines; returns 1 if a private bind leaked out or
# could not be made.
ppp_mountns_probe() {
  local d=/run/ppp-mountns-probe rc=0 root_prop
  mkdir -p "$d/alt" /etc/ppp && echo private >"$d/alt/marker"
  root_prop=$(awk '$5 == "/" {for (i = 7; $i != "-"; i++) s = s " " $i; print (s == "" ? "private" : s)}' /proc/self/mountinfo)
  echo "info / is $(awk '$5 == "/" {print $(NF-2)}' /proc/self/mountinfo), propagation:${root_prop}"
  if unshare -m sh -c 'mount --bind "$0" /etc/ppp && [ "$(cat /etc/ppp/marker)" = private ]' "$d/alt" &&
     [[ ! -e /etc/ppp/marker ]]; then
    echo "ok   unshare -m (rprivate) + bind over /etc/ppp: seen inside only"
  else
    echo "fail unshare -m + bind over /etc/ppp"; rc=1
  fi
  if unshare -m sh -c 'mount -t tmpfs ppp /etc/ppp && echo t >/etc/ppp/t && [ -f /etc/ppp/t ]' &&
     [[ ! -e /etc/ppp/t ]]; then
    echo "ok   unshare -m + tmpfs over /etc/ppp: seen inside only"
  else
    echo "fail unshare -m + tmpfs over /etc/ppp"; rc=1
  fi
  # What a host whose / is shared (systemd) would do: a namespace that keeps
  # the shared propagation leaks its mounts back; an rprivate one does not.
  local leak
  leak=$(unshare -m sh -c 'mount --make-rshared / &&
    unshare -m --propagation shared sh -c "mount --bind $0 /etc/ppp" && a=$(ls /etc/ppp) && umount /etc/ppp;
    unshare -m --propagation private sh -c "mount --bind $0 /etc/ppp" && b=$(ls /etc/ppp); echo "[$a] [$b]"' "$d/alt")
  if [[ $leak == "[marker] []" ]]; then
    echo "ok   under a shared /: a namespace left shared leaks the bind back, an rprivate one does not"
  else
    echo "fail shared-root simulation: $leak"; rc=1
  fi
  rm -rf "$d"
  return $rc
}
