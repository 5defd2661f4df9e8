// control_frames_dump: every control frame the control library builds, and
// the hand-written golden frames, as text for text2pcap, so that
// tests/interop/tshark_control_test.sh can have Wireshark's L2TP dissector
// decode them. Per frame:
//
//   # NAME|TRANSPORT|TYPE|AVPS|FIELD=VALUE|FIELD=VALUE...
//   000000 c8 02 00 3f ...            (od -Ax -tx1 -v style, 16 bytes a line)
//
// TRANSPORT is udp or ip (the L2TPv3 control frame over IP, Session ID 0 in
// front); TYPE is the message type the frame must decode as (ZLB for a v2
// ZLB); AVPS is how many AVPs it carries; the FIELD=VALUE pairs are tshark
// fields and the values we put there (header ids, Ns/Nr and AVP values).
#include <cstdio>
#include <cstdlib>
#include <span>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "control/codec.h"
#include "control/messages.h"
#include "tests/unit/control/golden_frames.h"

namespace {

using namespace l2tp::control;

void Print(const std::string& name, bool over_ip, const std::string& type, size_t avps,
           const std::vector<std::string>& fields, std::span<const uint8_t> bytes) {
  std::printf("# %s|%s|%s|%zu", name.c_str(), over_ip ? "ip" : "udp", type.c_str(), avps);
  for (const std::string& f : fields) std::printf("|%s", f.c_str());
  for (size_t i = 0; i < bytes.size(); ++i) {
    if (i % 16 == 0) std::printf("\n%06zx", i);
    std::printf(" %02x", bytes[i]);
  }
  std::printf("\n");
}

std::string Hex(std::span<const uint8_t> bytes) {
  std::string s;
  for (uint8_t b : bytes) absl::StrAppend(&s, absl::Hex(b, absl::kZeroPad2));
  return s;
}

// "FIELD=VALUE": a tshark field and the value it must show.
std::string F(const char* field, const absl::AlphaNum& value) { return absl::StrCat(field, "=", value); }

// One message as the builders made it, with the header a peer would see.
// `fields` are the AVP values to find; the header's are added here.
void Emit(const std::string& name, Transport t, const std::string& type, ControlMessage m,
          const ControlHeader& h, std::vector<std::string> fields = {}) {
  m.header.version = h.version;
  m.header.tunnel_id = h.tunnel_id;
  m.header.ns = h.ns;
  m.header.nr = h.nr;
  if (h.session_id != 0) m.header.session_id = h.session_id;
  auto bytes = EncodeControlMessage(m, t, "");
  if (!bytes.ok()) {
    std::fprintf(stderr, "%s: %s\n", name.c_str(), std::string(bytes.status().message()).c_str());
    std::exit(1);
  }
  std::vector<std::string> all;
  if (h.version == kL2tpV2) {
    all.push_back(F("l2tp.tunnel", m.header.tunnel_id));
    all.push_back(F("l2tp.session", m.header.session_id));
  } else {
    all.push_back(F("l2tp.ccid", m.header.tunnel_id));
  }
  all.push_back(F("l2tp.Ns", h.ns));
  all.push_back(F("l2tp.Nr", h.nr));
  all.insert(all.end(), fields.begin(), fields.end());
  Print(name, t == Transport::kIp, type, m.avps.size(), all, *bytes);
}

// A control connection between an initiator A and a responder B, one message
// of each kind in the direction it would go, with the ids, Ns and Nr it
// would carry there.
void Version2() {
  const Transport u = Transport::kUdp;
  const uint16_t a_tunnel = 7, b_tunnel = 41, a_session = 1001, b_session = 2002;
  const std::vector<uint8_t> challenge = {0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef};
  ChallengeResponseBytes response;
  for (size_t i = 0; i < response.size(); ++i) response[i] = static_cast<uint8_t>(0xa0 + i);
  const std::string resp_hex = Hex(response);

  LocalTunnel a, b;
  a.version = b.version = kL2tpV2;
  a.tunnel_id = a_tunnel;
  a.host_name = "lac-a";
  a.receive_window = 8;
  a.challenge = challenge;
  b.tunnel_id = b_tunnel;
  b.host_name = "lns-b";
  b.receive_window = 4;
  LocalSession as, bs;
  as.session_id = a_session;
  as.call_serial = 5;
  bs.session_id = b_session;

  Emit("v2 SCCRQ", u, "SCCRQ", BuildSccrq(a), {kL2tpV2, 0, 0, 0, 0},
       {"l2tp.avp.host_name=lac-a", "l2tp.avp.vendor_name=l2tp-agent", "l2tp.avp.assigned_tunnel_id=7",
        "l2tp.avp.receive_window_size=8", "l2tp.avp.protocol_version=1", "l2tp.avp.protocol_revision=0",
        F("l2tp.avp.chap_challenge", Hex(challenge))});
  Emit("v2 SCCRP", u, "SCCRP", BuildSccrp(b, std::nullopt), {kL2tpV2, a_tunnel, 0, 0, 1},
       {"l2tp.avp.host_name=lns-b", "l2tp.avp.assigned_tunnel_id=41", "l2tp.avp.receive_window_size=4"});
  Emit("v2 SCCRP+response", u, "SCCRP", BuildSccrp(b, response), {kL2tpV2, a_tunnel, 0, 0, 1},
       {"l2tp.avp.host_name=lns-b", F("l2tp.avp.chap_challenge_response", resp_hex)});
  Emit("v2 SCCCN", u, "SCCCN", BuildScccn(response), {kL2tpV2, b_tunnel, 0, 1, 1},
       {F("l2tp.avp.chap_challenge_response", resp_hex)});
  Emit("v2 HELLO", u, "HELLO", BuildHello(), {kL2tpV2, b_tunnel, 0, 2, 1});
  Emit("v2 ICRQ", u, "ICRQ", BuildIcrq(kL2tpV2, as), {kL2tpV2, b_tunnel, 0, 3, 1},
       {"l2tp.avp.assigned_session_id=1001", "l2tp.avp.call_serial_number=5"});
  Emit("v2 ICRP", u, "ICRP", BuildIcrp(kL2tpV2, bs, a_session), {kL2tpV2, a_tunnel, 0, 1, 4},
       {"l2tp.avp.assigned_session_id=2002"});
  Emit("v2 ICCN", u, "ICCN", BuildIccn(kL2tpV2, as, b_session), {kL2tpV2, b_tunnel, 0, 4, 2},
       {"l2tp.avp.connect_speed=100000000"});
  Emit("v2 CDN", u, "CDN", BuildCdn(kL2tpV2, a_session, b_session, {kCdnAdminDisconnect, std::nullopt, ""}),
       {kL2tpV2, b_tunnel, 0, 5, 2}, {"l2tp.avp.assigned_session_id=1001", "l2tp.result_code=3"});
  Emit("v2 StopCCN", u, "StopCCN",
       BuildStopccn(kL2tpV2, a_tunnel, {kStopGeneralError, kErrorGeneric, "shutting down"}),
       {kL2tpV2, b_tunnel, 0, 6, 2},
       {"l2tp.avp.assigned_tunnel_id=7", "l2tp.result_code=2", "l2tp.avp.error_code=6",
        "l2tp.avp.error_message=shutting down"});
  Emit("v2 ZLB", u, "ZLB", ControlMessage{}, {kL2tpV2, a_tunnel, 0, 2, 7});
}

void Version3(Transport t) {
  const std::string tn = t == Transport::kIp ? "v3/ip " : "v3/udp ";
  const uint32_t a_ccid = 0x0a0b0c0d, b_ccid = 0x11223344, a_session = 0x00010001, b_session = 0x00020002;
  ChallengeResponseBytes response;
  for (size_t i = 0; i < response.size(); ++i) response[i] = static_cast<uint8_t>(0x50 + i);
  const std::string resp_hex = Hex(response);

  LocalTunnel a, b;
  a.version = b.version = kL2tpV3;
  a.tunnel_id = a_ccid;
  a.host_name = "lcce-a";
  a.receive_window = 8;
  a.router_id = 0x0a000001;
  a.pseudowire_types = {kPseudowireEth, kPseudowirePpp};
  b.tunnel_id = b_ccid;
  b.host_name = "lcce-b";
  b.receive_window = 4;
  b.router_id = 0x0a000002;
  b.pseudowire_types = {kPseudowireEth};
  LocalSession as, bs;
  as.session_id = a_session;
  as.call_serial = 9;
  as.remote_end_id = "pw-42";
  as.receive_cookie = {0xde, 0xad, 0xbe, 0xef};
  as.l2_sublayer = 1;
  as.data_sequencing = 0;
  bs.session_id = b_session;
  bs.remote_end_id = "pw-42";
  bs.receive_cookie = {1, 2, 3, 4, 5, 6, 7, 8};
  bs.l2_sublayer = 0;
  bs.data_sequencing = 2;

  Emit(tn + "SCCRQ", t, "SCCRQ", BuildSccrq(a), {kL2tpV3, 0, 0, 0, 0},
       {"l2tp.avp.host_name=lcce-a", "l2tp.avp.vendor_name=l2tp-agent", F("l2tp.avp.router_id", a.router_id),
        F("l2tp.avp.assigned_control_conn_id", a_ccid), "l2tp.avp.pw_type=5,7",
        "l2tp.avp.receive_window_size=8"});
  Emit(tn + "SCCRP", t, "SCCRP", BuildSccrp(b, std::nullopt), {kL2tpV3, a_ccid, 0, 0, 1},
       {"l2tp.avp.host_name=lcce-b", F("l2tp.avp.router_id", b.router_id),
        F("l2tp.avp.assigned_control_conn_id", b_ccid), "l2tp.avp.pw_type=5"});
  Emit(tn + "SCCRP+response", t, "SCCRP", BuildSccrp(b, response), {kL2tpV3, a_ccid, 0, 0, 1},
       {"l2tp.avp.host_name=lcce-b", F("l2tp.avp.chap_challenge_response", resp_hex)});
  Emit(tn + "SCCCN", t, "SCCCN", BuildScccn(std::nullopt), {kL2tpV3, b_ccid, 0, 1, 1});
  Emit(tn + "HELLO", t, "HELLO", BuildHello(), {kL2tpV3, b_ccid, 0, 2, 1});
  Emit(tn + "ICRQ", t, "ICRQ", BuildIcrq(kL2tpV3, as), {kL2tpV3, b_ccid, 0, 3, 1},
       {F("l2tp.avp.local_session_id", a_session), "l2tp.avp.remote_session_id=0",
        "l2tp.avp.call_serial_number=9", "l2tp.avp.pseudowire_type=5", "l2tp.avp.remote_end_id=pw-42",
        "l2tp.avp.assigned_cookie=deadbeef", "l2tp.avp.layer2_specific_sublayer=1",
        "l2tp.avp.data_sequencing=0"});
  Emit(tn + "ICRP", t, "ICRP", BuildIcrp(kL2tpV3, bs, a_session), {kL2tpV3, a_ccid, 0, 1, 4},
       {F("l2tp.avp.local_session_id", b_session), F("l2tp.avp.remote_session_id", a_session),
        "l2tp.avp.assigned_cookie=0102030405060708", "l2tp.avp.layer2_specific_sublayer=0",
        "l2tp.avp.data_sequencing=2"});
  Emit(tn + "ICCN", t, "ICCN", BuildIccn(kL2tpV3, as, b_session), {kL2tpV3, b_ccid, 0, 4, 2},
       {F("l2tp.avp.local_session_id", a_session), F("l2tp.avp.remote_session_id", b_session)});
  Emit(tn + "CDN", t, "CDN",
       BuildCdn(kL2tpV3, a_session, b_session, {kCdnGeneralError, kErrorOutOfRange, "bad cookie"}),
       {kL2tpV3, b_ccid, 0, 5, 2},
       {F("l2tp.avp.local_session_id", a_session), F("l2tp.avp.remote_session_id", b_session),
        "l2tp.result_code=2", "l2tp.avp.error_code=3", "l2tp.avp.error_message=bad cookie"});
  Emit(tn + "StopCCN", t, "StopCCN",
       BuildStopccn(kL2tpV3, a_ccid, {kStopGeneralRequest, std::nullopt, "admin down"}),
       {kL2tpV3, b_ccid, 0, 6, 2},
       {F("l2tp.avp.assigned_control_conn_id", a_ccid), "l2tp.result_code=1", "l2tp.avp.error_code=0",
        "l2tp.avp.error_message=admin down"});
  // The explicit ACK as ReliableChannel sends it (RFC 3931 section 6.15).
  ControlMessage ack;
  ack.avps.push_back(U16Avp(AvpType::kMessageType, static_cast<uint16_t>(MessageType::kAck)));
  Emit(tn + "ACK", t, "ACK", ack, {kL2tpV3, a_ccid, 0, 2, 7});
}

}  // namespace

int main() {
  // Golden frames: the type is the second word of the name ("v2 ZLB").
  for (const golden::Frame& f : golden::kFrames) {
    const Transport t = f.over_ip ? Transport::kIp : Transport::kUdp;
    auto m = DecodeControlMessage(f.bytes, t, "");
    if (!m.ok()) {
      std::fprintf(stderr, "golden %s: %s\n", f.name, std::string(m.status().message()).c_str());
      return 1;
    }
    std::string name = f.name;
    std::string type = name.substr(name.find(' ') + 1);
    type = type.substr(0, type.find(' '));
    Print(absl::StrCat("golden ", name), f.over_ip, type, m->avps.size(), {}, f.bytes);
  }
  Version2();
  Version3(Transport::kUdp);
  Version3(Transport::kIp);
  return 0;
}
