// Builders first (one per message, AVPs in the order the RFCs list them),
// then what is read back from a peer's session messages, then the checks.
#include "control/messages.h"

#include <algorithm>
#include <cstring>
#include <initializer_list>

#include "absl/strings/cord.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace l2tp::control {
namespace {

constexpr uint32_t kFramingSyncAsync = 0x3;  // RFC 2661 section 4.4.3
constexpr uint16_t kProtocolVersion1_0 = 0x0100;
constexpr uint16_t kFirmwareRevision = 0x0100;
constexpr uint32_t kTxConnectSpeed = 100000000;  // reported, not enforced
constexpr uint32_t kFramingTypeSync = 0x1;
constexpr uint16_t kCircuitActiveNew = 0x0003;  // RFC 3931 section 5.4.5: A and N
constexpr char kVendorName[] = "l2tp-agent";

ControlMessage Message(MessageType type) {
  ControlMessage m;
  m.avps.push_back(U16Avp(AvpType::kMessageType, static_cast<uint16_t>(type)));
  return m;
}

void Add(ControlMessage& m, Avp avp) { m.avps.push_back(std::move(avp)); }

// The AVPs SCCRQ and SCCRP share.
void AddTunnelIdentity(ControlMessage& m, const LocalTunnel& local) {
  if (local.version == kL2tpV2) {
    Add(m, U16Avp(AvpType::kProtocolVersion, kProtocolVersion1_0));
    Add(m, U32Avp(AvpType::kFramingCapabilities, kFramingSyncAsync));
    Add(m, U32Avp(AvpType::kBearerCapabilities, 0));
    Add(m, U16Avp(AvpType::kFirmwareRevision, kFirmwareRevision, false));
    Add(m, TextAvp(AvpType::kHostName, local.host_name));
    Add(m, TextAvp(AvpType::kVendorName, kVendorName, false));
    Add(m, U16Avp(AvpType::kAssignedTunnelId, static_cast<uint16_t>(local.tunnel_id)));
    Add(m, U16Avp(AvpType::kReceiveWindowSize, local.receive_window));
    if (!local.challenge.empty()) Add(m, BytesAvp(AvpType::kChallenge, local.challenge));
    return;
  }
  Add(m, TextAvp(AvpType::kHostName, local.host_name));
  Add(m, TextAvp(AvpType::kVendorName, kVendorName, false));
  Add(m, U32Avp(AvpType::kRouterId, local.router_id));
  Add(m, U32Avp(AvpType::kAssignedControlConnectionId, local.tunnel_id));
  std::vector<uint8_t> caps;
  for (uint16_t t : local.pseudowire_types) {
    caps.push_back(static_cast<uint8_t>(t >> 8));
    caps.push_back(static_cast<uint8_t>(t));
  }
  Add(m, BytesAvp(AvpType::kPseudowireCapabilitiesList, caps));
  Add(m, U16Avp(AvpType::kReceiveWindowSize, local.receive_window));
  if (!local.nonce.empty()) Add(m, BytesAvp(AvpType::kControlMessageAuthenticationNonce, local.nonce));
}

// v2 names a session by the header's Session ID and one Assigned Session ID
// AVP; v3 by the Local and Remote Session ID AVPs.
void AddSessionIds(ControlMessage& m, uint8_t version, uint32_t local_id, uint32_t peer_id) {
  if (version == kL2tpV2) {
    m.header.session_id = static_cast<uint16_t>(peer_id);
    Add(m, U16Avp(AvpType::kAssignedSessionId, static_cast<uint16_t>(local_id)));
    return;
  }
  Add(m, U32Avp(AvpType::kLocalSessionId, local_id));
  Add(m, U32Avp(AvpType::kRemoteSessionId, peer_id));
}

// What a v3 session says about its data plane (cookie, sublayer, sequencing).
void AddDataPlane(ControlMessage& m, const LocalSession& local) {
  if (!local.receive_cookie.empty()) Add(m, BytesAvp(AvpType::kAssignedCookie, local.receive_cookie));
  Add(m, U16Avp(AvpType::kL2SpecificSublayer, local.l2_sublayer));
  Add(m, U16Avp(AvpType::kDataSequencing, local.data_sequencing));
}

}  // namespace

ControlMessage BuildSccrq(const LocalTunnel& local) {
  ControlMessage m = Message(MessageType::kSccrq);
  AddTunnelIdentity(m, local);
  // Not mandatory: a peer that does not break ties ignores it.
  if (!local.tie_breaker.empty()) Add(m, BytesAvp(AvpType::kTieBreaker, local.tie_breaker, false));
  return m;
}

TieBreak BreakTie(std::span<const uint8_t> ours, const ControlMessage& their_sccrq) {
  const Avp* avp = their_sccrq.Find(AvpType::kTieBreaker);
  if (avp == nullptr || avp->value.size() != kTieBreakerBytes) return TieBreak::kOursStands;
  if (ours.size() != kTieBreakerBytes) return TieBreak::kTheirsWins;
  const int order = std::memcmp(avp->value.data(), ours.data(), kTieBreakerBytes);
  if (order == 0) return TieBreak::kBothLose;
  return order < 0 ? TieBreak::kTheirsWins : TieBreak::kOursStands;
}

ControlMessage BuildSccrp(const LocalTunnel& local, const std::optional<ChallengeResponseBytes>& response) {
  ControlMessage m = Message(MessageType::kSccrp);
  AddTunnelIdentity(m, local);
  if (response) Add(m, BytesAvp(AvpType::kChallengeResponse, *response));
  return m;
}

ControlMessage BuildScccn(const std::optional<ChallengeResponseBytes>& response) {
  ControlMessage m = Message(MessageType::kScccn);
  if (response) Add(m, BytesAvp(AvpType::kChallengeResponse, *response));
  return m;
}

ControlMessage BuildStopccn(uint8_t version, uint32_t local_tunnel_id, const ResultCode& result) {
  ControlMessage m = Message(MessageType::kStopccn);
  if (version == kL2tpV2) {
    Add(m, U16Avp(AvpType::kAssignedTunnelId, static_cast<uint16_t>(local_tunnel_id)));
  } else {
    Add(m, U32Avp(AvpType::kAssignedControlConnectionId, local_tunnel_id));
  }
  Add(m, ResultCodeAvp(result));
  return m;
}

ControlMessage BuildHello() { return Message(MessageType::kHello); }

ControlMessage BuildIcrq(uint8_t version, const LocalSession& local) {
  ControlMessage m = Message(MessageType::kIcrq);
  AddSessionIds(m, version, local.session_id, 0);
  Add(m, U32Avp(AvpType::kCallSerialNumber, local.call_serial));
  if (version == kL2tpV3) {
    Add(m, U16Avp(AvpType::kPseudowireType, local.pseudowire_type));
    Add(m, TextAvp(AvpType::kRemoteEndId, local.remote_end_id));
    Add(m, U16Avp(AvpType::kCircuitStatus, kCircuitActiveNew));
    AddDataPlane(m, local);
  }
  return m;
}

ControlMessage BuildIcrp(uint8_t version, const LocalSession& local, uint32_t peer_session_id) {
  ControlMessage m = Message(MessageType::kIcrp);
  AddSessionIds(m, version, local.session_id, peer_session_id);
  if (version == kL2tpV3) {
    Add(m, U16Avp(AvpType::kCircuitStatus, kCircuitActiveNew));
    AddDataPlane(m, local);
  }
  return m;
}

ControlMessage BuildIccn(uint8_t version, const LocalSession& local, uint32_t peer_session_id) {
  ControlMessage m = Message(MessageType::kIccn);
  if (version == kL2tpV2) {
    m.header.session_id = static_cast<uint16_t>(peer_session_id);
    Add(m, U32Avp(AvpType::kTxConnectSpeed, kTxConnectSpeed));
    Add(m, U32Avp(AvpType::kFramingType, kFramingTypeSync));
    return m;
  }
  AddSessionIds(m, version, local.session_id, peer_session_id);
  AddDataPlane(m, local);
  return m;
}

ControlMessage BuildCdn(uint8_t version, uint32_t local_session_id, uint32_t peer_session_id,
                        const ResultCode& result) {
  ControlMessage m = Message(MessageType::kCdn);
  Add(m, ResultCodeAvp(result));
  AddSessionIds(m, version, local_session_id, peer_session_id);
  return m;
}

PeerSession ReadPeerSession(uint8_t version, const ControlMessage& m) {
  PeerSession p;
  if (version == kL2tpV2) {
    p.session_id = U16(m, AvpType::kAssignedSessionId).value_or(0);
    return p;
  }
  p.session_id = U32(m, AvpType::kLocalSessionId).value_or(0);
  p.cookie = Bytes(m, AvpType::kAssignedCookie).value_or(std::vector<uint8_t>{});
  p.pseudowire_type = U16(m, AvpType::kPseudowireType).value_or(0);
  p.remote_end_id = Text(m, AvpType::kRemoteEndId).value_or("");
  p.l2_sublayer = U16(m, AvpType::kL2SpecificSublayer);
  p.data_sequencing = U16(m, AvpType::kDataSequencing);
  return p;
}

uint32_t OurSessionId(uint8_t version, const ControlMessage& m) {
  if (version == kL2tpV2) return m.header.session_id;
  return U32(m, AvpType::kRemoteSessionId).value_or(0);
}

namespace {

struct Mandatory {
  MessageType type;
  uint8_t version;
  std::initializer_list<AvpType> avps;
};

// RFC 2661 section 6 and RFC 3931 section 6: the AVPs each message MUST
// carry (Message Type aside, which the codec already requires).
const Mandatory kMandatory[] = {
    {MessageType::kSccrq,
     kL2tpV2,
     {AvpType::kProtocolVersion, AvpType::kHostName, AvpType::kFramingCapabilities,
      AvpType::kAssignedTunnelId}},
    {MessageType::kSccrp,
     kL2tpV2,
     {AvpType::kProtocolVersion, AvpType::kFramingCapabilities, AvpType::kHostName,
      AvpType::kAssignedTunnelId}},
    {MessageType::kStopccn, kL2tpV2, {AvpType::kAssignedTunnelId, AvpType::kResultCode}},
    {MessageType::kIcrq, kL2tpV2, {AvpType::kAssignedSessionId, AvpType::kCallSerialNumber}},
    {MessageType::kIcrp, kL2tpV2, {AvpType::kAssignedSessionId}},
    {MessageType::kIccn, kL2tpV2, {AvpType::kTxConnectSpeed, AvpType::kFramingType}},
    {MessageType::kCdn, kL2tpV2, {AvpType::kResultCode, AvpType::kAssignedSessionId}},
    {MessageType::kSccrq,
     kL2tpV3,
     {AvpType::kHostName, AvpType::kRouterId, AvpType::kAssignedControlConnectionId,
      AvpType::kPseudowireCapabilitiesList}},
    {MessageType::kSccrp,
     kL2tpV3,
     {AvpType::kHostName, AvpType::kRouterId, AvpType::kAssignedControlConnectionId,
      AvpType::kPseudowireCapabilitiesList}},
    {MessageType::kStopccn, kL2tpV3, {AvpType::kResultCode}},
    {MessageType::kIcrq,
     kL2tpV3,
     {AvpType::kLocalSessionId, AvpType::kRemoteSessionId, AvpType::kCallSerialNumber,
      AvpType::kPseudowireType, AvpType::kRemoteEndId, AvpType::kCircuitStatus}},
    {MessageType::kIcrp,
     kL2tpV3,
     {AvpType::kLocalSessionId, AvpType::kRemoteSessionId, AvpType::kCircuitStatus}},
    {MessageType::kIccn, kL2tpV3, {AvpType::kLocalSessionId, AvpType::kRemoteSessionId}},
    {MessageType::kCdn, kL2tpV3, {AvpType::kResultCode, AvpType::kLocalSessionId, AvpType::kRemoteSessionId}},
};

}  // namespace

namespace {
constexpr char kErrorCodePayload[] = "l2tp.control/error-code";

absl::Status Refused(std::string why, uint16_t error_code) {
  absl::Status st = absl::InvalidArgumentError(std::move(why));
  st.SetPayload(kErrorCodePayload, absl::Cord(std::to_string(error_code)));
  return st;
}
}  // namespace

uint16_t ErrorCodeOf(const absl::Status& refused) {
  const auto code = refused.GetPayload(kErrorCodePayload);  // absl::optional in this Abseil
  uint32_t value = 0;
  if (!code || !absl::SimpleAtoi(std::string(*code), &value)) return kErrorGeneric;
  return static_cast<uint16_t>(value);
}

absl::Status CheckMessage(uint8_t version, const ControlMessage& m) {
  const std::optional<uint16_t> type = m.Type();
  if (!type) return absl::OkStatus();  // a ZLB: nothing to check
  const std::string name = MessageTypeName(*type);
  for (const Avp& avp : m.avps) {
    if (avp.mandatory && !IsKnownAvp(version, avp.vendor_id, avp.type)) {
      return Refused(absl::StrCat(name, ": unknown mandatory ", AvpName(avp.vendor_id, avp.type)),
                     kErrorUnknownMandatoryAvp);
    }
  }
  for (const Mandatory& rule : kMandatory) {
    if (static_cast<uint16_t>(rule.type) != *type || rule.version != version) continue;
    for (AvpType need : rule.avps) {
      if (m.Find(need) == nullptr) {
        return Refused(absl::StrCat(name, ": missing ", AvpName(0, static_cast<uint16_t>(need))),
                       kErrorOutOfRange);
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace l2tp::control
