#!/usr/bin/env bash
# Interop with an independent decoder: Wireshark's L2TP dissector (tshark)
# must decode every control message the control library (control/) builds,
# L2TPv2 over UDP and L2TPv3 over UDP and over IP, and the hand-written golden
# frames of tests/unit/control/golden_frames.h.
#
#   tshark_control_test.sh CONTROL_FRAMES_DUMP
#
# control_frames_dump prints the frames (see control_frames_dump.cc); they go
# into one pcap per transport with text2pcap (nothing is sent anywhere) and
# tshark decodes them. Per frame, in order: it is dissected as an L2TP control
# message of the expected version, over the expected transport, whose Length
# is the whole payload; its Message Type is the expected one (a ZLB: none, and
# tshark says ZLB); tshark walks exactly as many AVPs as we put in; the header
# ids, Ns, Nr and the AVP values we set read back as we set them; and there is
# no malformed packet and no expert info of severity warning or error.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
DUMP=${1:-}
require_exec control_frames_dump "$DUMP"
require tshark:tshark text2pcap:wireshark-common

WORK=$(mktemp -d /tmp/l2tp-tshark-control-XXXXXX)
chmod 755 "$WORK"  # tshark may read as another user
cleanup() { if [[ ${KEEP_WORK:-0} == 1 ]]; then echo "work dir kept: $WORK"; else rm -rf "$WORK"; fi; }
trap cleanup EXIT

# Message Type values, RFC 2661 section 3.2 and RFC 3931 section 3.1.
declare -A TYPE_NUMBER=([SCCRQ]=1 [SCCRP]=2 [SCCCN]=3 [StopCCN]=4 [HELLO]=6 [ICRQ]=10 [ICRP]=11
                        [ICCN]=12 [CDN]=14 [ACK]=20)
# Expert infos of severity warning or error that are right per the RFC for
# one frame: "frame name" -> tshark's exact message, with a comment why.
# None is needed with tshark 4.0.
declare -A ALLOW_EXPERT=()
SEV_WARN=$((0x00600000))  # _ws.expert.severity: chat 0x2..., note 0x4..., warn 0x6..., error 0x8...

# Split the dump: frame i is frame INDEX[i] of TRANSPORT[i].pcap.
"$DUMP" >"$WORK/frames.txt"
NAMES=() TRANSPORT=() TYPE=() AVPS=() CHECKS=() INDEX=()
declare -A COUNT=([udp]=0 [ip]=0) CHECK_FIELDS=()
: >"$WORK/udp.hex"; : >"$WORK/ip.hex"
while IFS= read -r line; do
  if [[ $line == "# "* ]]; then
    IFS='|' read -r name tr type avps checks <<<"${line#\# }"
    COUNT[$tr]=$((COUNT[$tr] + 1))
    NAMES+=("$name") TRANSPORT+=("$tr") TYPE+=("$type") AVPS+=("$avps") CHECKS+=("${checks:-}")
    INDEX+=("${COUNT[$tr]}")
    IFS='|' read -r -a pairs <<<"${checks:-}"
    for p in "${pairs[@]}"; do CHECK_FIELDS[${p%%=*}]=1; done
  else
    echo "$line" >>"$WORK/$tr.hex"
  fi
done <"$WORK/frames.txt"
((${#NAMES[@]} > 0)) || { echo "FAIL: $DUMP printed no frames"; exit 1; }

FIELDS=(frame.protocols udp.length ip.len l2tp.type l2tp.version l2tp.length l2tp.avp.message_type
        l2tp.zero_length_body_message l2tp.avp.type _ws.malformed _ws.expert.severity _ws.expert.message
        "${!CHECK_FIELDS[@]}")
EFIELDS=()
for f in "${FIELDS[@]}"; do EFIELDS+=(-e "$f"); done
for tr in udp ip; do
  ((COUNT[$tr] > 0)) || continue
  if [[ $tr == udp ]]; then encap=(-u "1701,1701"); else encap=(-i 115); fi
  text2pcap -q "${encap[@]}" -4 192.0.2.1,192.0.2.2 "$WORK/$tr.hex" "$WORK/$tr.pcap" 2>"$WORK/$tr.err" ||
    { echo "FAIL: text2pcap could not convert $tr.hex"; cat "$WORK/$tr.err"; exit 1; }
  chmod 644 "$WORK/$tr.pcap"
  tshark -r "$WORK/$tr.pcap" -T fields -E header=y -E occurrence=a -E aggregator=, "${EFIELDS[@]}" \
    >"$WORK/$tr.tsv" 2>"$WORK/$tr.err" ||
    { echo "FAIL: tshark could not read $tr.pcap"; cat "$WORK/$tr.err"; exit 1; }
done

# same EXPECTED ACTUAL: numbers (decimal or 0x hex) by value, the rest as text.
same() {
  local num='^(0x[0-9a-fA-F]+|[1-9][0-9]*|0)$'
  if [[ $1 =~ $num && $2 =~ $num ]]; then (($1 == $2)); else [[ $1 == "$2" ]]; fi
}

PASSED=0 FAILED=0
for i in "${!NAMES[@]}"; do
  name=${NAMES[$i]} tr=${TRANSPORT[$i]} type=${TYPE[$i]}
  # The frame's row (header + INDEX) as F[field]; tabs split, empty fields kept.
  mapfile -t head < <(head -1 "$WORK/$tr.tsv" | tr '\t' '\n')
  mapfile -t row < <(sed -n "$((INDEX[i] + 1))p" "$WORK/$tr.tsv" | tr '\t' '\n')
  declare -A F=()
  for k in "${!head[@]}"; do F[${head[$k]}]=${row[$k]:-}; done
  why=()

  want_proto=$([[ $tr == udp ]] && echo ":udp:l2tp" || echo ":ip:l2tp")
  [[ ${F[frame.protocols]} == *"$want_proto"* ]] || why+=("not dissected as L2TP over $tr: ${F[frame.protocols]:-no frame}")
  [[ ${F[l2tp.type]} == 1 ]] || why+=("T bit '${F[l2tp.type]}', not a control message")
  version=$(sed -n 's/.*v\([23]\)[ /].*/\1/p' <<<"$name")
  [[ ${F[l2tp.version]} == "$version" ]] || why+=("version '${F[l2tp.version]}', want $version")
  if [[ $tr == udp ]]; then payload=$((${F[udp.length]:-0} - 8)); else payload=$((${F[ip.len]:-0} - 20 - 4)); fi
  [[ ${F[l2tp.length]} == "$payload" ]] || why+=("Length ${F[l2tp.length]} but $payload bytes of L2TP")

  if [[ $type == ZLB ]]; then
    [[ -z ${F[l2tp.avp.message_type]} && -n ${F[l2tp.zero_length_body_message]} ]] ||
      why+=("not a ZLB: message type '${F[l2tp.avp.message_type]}'")
  elif [[ -z ${TYPE_NUMBER[$type]:-} ]]; then
    why+=("unknown expected type $type")
  else
    [[ ${F[l2tp.avp.message_type]} == "${TYPE_NUMBER[$type]}" ]] ||
      why+=("message type '${F[l2tp.avp.message_type]}', want $type (${TYPE_NUMBER[$type]})")
  fi
  navps=0
  [[ -n ${F[l2tp.avp.type]} ]] && navps=$(tr ',' '\n' <<<"${F[l2tp.avp.type]}" | wc -l)
  [[ $navps == "${AVPS[$i]}" ]] || why+=("$navps AVPs decoded (types ${F[l2tp.avp.type]:-none}), want ${AVPS[$i]}")

  [[ -z ${F[_ws.malformed]} ]] || why+=("malformed: ${F[_ws.malformed]}")
  if [[ -n ${F[_ws.expert.severity]} ]]; then
    IFS=',' read -r -a sevs <<<"${F[_ws.expert.severity]}"
    for s in "${sevs[@]}"; do
      if ((s >= SEV_WARN)) && [[ ${F[_ws.expert.message]} != "${ALLOW_EXPERT[$name]:-}" ]]; then
        why+=("expert info (severity $(printf 0x%08x "$s")): ${F[_ws.expert.message]}")
        break
      fi
    done
  fi

  IFS='|' read -r -a pairs <<<"${CHECKS[$i]}"
  for p in "${pairs[@]}"; do
    field=${p%%=*} want=${p#*=}
    same "$want" "${F[$field]}" || why+=("$field '${F[$field]}', want '$want'")
  done

  if [[ ${#why[@]} -eq 0 ]]; then
    PASSED=$((PASSED + 1))
    note=""
    [[ -z ${F[_ws.expert.message]} ]] || note="  (expert: ${F[_ws.expert.message]})"
    echo "ok $name ($tr, $type, ${AVPS[$i]} AVPs, ${#pairs[@]} values)$note"
  else
    FAILED=$((FAILED + 1))
    msg=$(printf '; %s' "${why[@]}")
    echo "FAIL $name: ${msg:2}"
    tshark -r "$WORK/$tr.pcap" -V -Y "frame.number == ${INDEX[$i]}" 2>/dev/null |
      sed -n '/^Layer 2 Tunneling/,$p' | head -40 | sed 's/^/    /' || true
  fi
  unset F
done
echo "tshark_control: $PASSED passed, $FAILED failed"
[[ $FAILED == 0 ]]
