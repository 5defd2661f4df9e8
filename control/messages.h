// The messages the protocol sends, built as values (pure: no I/O, no
// randomness; challenges and ids come in as arguments), and the checks a
// received message must pass before the state machines see it: the
// mandatory AVPs per message type (RFC 2661 section 6, RFC 3931 section 6)
// and no unknown AVP with the M bit set (RFC 2661 section 4.1, RFC 3931
// section 5.2).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "control/message.h"

namespace l2tp::control {

// Pseudowire types (RFC 4446, and the kernel's L2TP_PWTYPE_*).
inline constexpr uint16_t kPseudowireEth = 0x0005;
inline constexpr uint16_t kPseudowirePpp = 0x0007;

using ChallengeResponseBytes = std::array<uint8_t, 16>;

// What this end says about itself when it sets up a control connection.
struct LocalTunnel {
  uint8_t version = kL2tpV3;
  uint32_t tunnel_id = 0;  // v2: 16 bits
  std::string host_name;
  uint16_t receive_window = 4;
  uint32_t router_id = 0;                  // v3
  std::vector<uint16_t> pseudowire_types;  // v3: the capabilities list
  std::vector<uint8_t> challenge;          // v2: empty when no secret
  std::vector<uint8_t> nonce;              // v3: Control Message Authentication Nonce; empty when no secret
  std::vector<uint8_t> tie_breaker;        // SCCRQ: kTieBreakerBytes; empty: none
};

ControlMessage BuildSccrq(const LocalTunnel& local);

// Both ends sent an SCCRQ (RFC 3931 section 5.4.3, RFC 2661 section 4.4.3,
// the same rule): the lower tie breaker wins, one beats none, equal ones
// both lose and start again. Neither: no tie to break (kOursStands).
constexpr size_t kTieBreakerBytes = 8;
enum class TieBreak : uint8_t { kOursStands, kTheirsWins, kBothLose };
TieBreak BreakTie(std::span<const uint8_t> ours, const ControlMessage& their_sccrq);
ControlMessage BuildSccrp(const LocalTunnel& local, const std::optional<ChallengeResponseBytes>& response);
ControlMessage BuildScccn(const std::optional<ChallengeResponseBytes>& response);
ControlMessage BuildStopccn(uint8_t version, uint32_t local_tunnel_id, const ResultCode& result);
ControlMessage BuildHello();

// What this end says about one of its sessions.
struct LocalSession {
  uint32_t session_id = 0;  // v2: 16 bits
  uint32_t call_serial = 0;
  // v3
  uint16_t pseudowire_type = kPseudowireEth;
  std::string remote_end_id;
  std::vector<uint8_t> receive_cookie;  // Assigned Cookie: what the peer must send
  uint16_t l2_sublayer = 1;             // 0 none, 1 default
  uint16_t data_sequencing = 0;         // 0 none, 1 non-IP, 2 all
};

// What the peer said about the same session.
struct PeerSession {
  uint32_t session_id = 0;
  std::vector<uint8_t> cookie;  // what we must send
  uint16_t pseudowire_type = 0;
  std::string remote_end_id;
  std::optional<uint16_t> l2_sublayer;
  std::optional<uint16_t> data_sequencing;
};

// `peer_session_id`: 0 in an ICRQ (the peer has none yet).
ControlMessage BuildIcrq(uint8_t version, const LocalSession& local);
ControlMessage BuildIcrp(uint8_t version, const LocalSession& local, uint32_t peer_session_id);
ControlMessage BuildIccn(uint8_t version, const LocalSession& local, uint32_t peer_session_id);
ControlMessage BuildCdn(uint8_t version, uint32_t local_session_id, uint32_t peer_session_id,
                        const ResultCode& result);

// The session AVPs of an ICRQ, ICRP or ICCN as the peer sent them.
PeerSession ReadPeerSession(uint8_t version, const ControlMessage& m);
// The session a received session message is for: v2 the header's Session
// ID, v3 the Remote Session ID AVP (our id; 0 in an ICRQ).
uint32_t OurSessionId(uint8_t version, const ControlMessage& m);

// INVALID_ARGUMENT naming what is wrong: "SCCRQ: missing Assigned Tunnel ID",
// "ICRQ: unknown mandatory AVP 250".
absl::Status CheckMessage(uint8_t version, const ControlMessage& m);
// The error code (RFC 2661 section 4.4.2) a StopCCN or CDN gives for what
// CheckMessage refused: unknown mandatory AVP (8) or missing AVP (3).
uint16_t ErrorCodeOf(const absl::Status& refused);

// Result codes used here (RFC 2661 section 4.4.2, RFC 3931 section 5.4.2).
inline constexpr uint16_t kStopGeneralRequest = 1;        // StopCCN: general request to clear
inline constexpr uint16_t kStopGeneralError = 2;          // StopCCN: general error, see error code
inline constexpr uint16_t kStopNotAuthorized = 4;         // StopCCN: requester not authorized
inline constexpr uint16_t kStopBadProtocol = 5;           // StopCCN: protocol version not supported
inline constexpr uint16_t kCdnAdminDisconnect = 3;        // CDN: administrative reasons
inline constexpr uint16_t kCdnGeneralError = 2;           // CDN: general error, see error code
inline constexpr uint16_t kCdnNoResources = 4;            // CDN: facilities unavailable, temporary
inline constexpr uint16_t kErrorOutOfRange = 3;           // error: a field out of range or missing
inline constexpr uint16_t kErrorGeneric = 6;              // error: generic vendor-specific error
inline constexpr uint16_t kErrorUnknownMandatoryAvp = 8;  // error: unknown AVP with the M bit set

}  // namespace l2tp::control
