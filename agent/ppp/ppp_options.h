// What one PPP call's pppd needs to know (docs/ppp.md): the fields of the
// session's PppSpec for its side, and the call's own values (interface,
// PPPoL2TP socket, L2TP ids, the pool address). Plain data; the builders in
// pppd_config.h and pppd_secrets.h check it and turn it into pppd's
// command line, options file and secrets files.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"

namespace l2tp::ppp {

enum class PppSide {
  kLac,  // the tunnel is INITIATOR: we place the call and authenticate to the peer
  kLns,  // the tunnel is RESPONDER: we answer calls and authenticate the peer
};

// What an LNS requires of its peers. kNone: any peer may connect (pppd's
// noauth), with no secrets.
enum class PppAuthentication { kUnset, kPap, kChap, kNone };

struct PppOptions {
  PppSide side = PppSide::kLac;

  // Both sides.
  std::string interface;       // the ppp interface's name (pppd's ifname)
  int pppol2tp_fd = 3;         // the PPPoL2TP socket's descriptor number in pppd
  uint32_t tunnel_id = 0;      // pppol2tp_tunnel_id: our tunnel id (0: not given)
  uint32_t session_id = 0;     // pppol2tp_session_id: our session id (0: not given)
  bool lns_mode = false;       // pppol2tp_lns_mode (needs both ids)
  int mtu = 0;                 // 0: pppd's default
  int mru = 0;                 // 0: pppd's default
  int lcp_echo_interval = 30;  // seconds between LCP echo requests; 0: none
  int lcp_echo_failure = 4;    // unanswered echo requests before pppd gives up; 0: never

  // LAC.
  std::string user;
  std::string password;  // the secret's bytes, already read (common/secret_file.h)
  bool default_route = false;
  bool use_peer_dns = false;

  // LNS.
  std::string local_address;   // IPv4: our end of the link
  std::string remote_address;  // IPv4: the peer's, this call's address from the pool
  PppAuthentication authentication = PppAuthentication::kUnset;
  std::string secrets;           // the text of the user's secrets file; "" with kNone
  std::vector<std::string> dns;  // IPv4, up to 2, offered to the peer
};

// Limits of pppd 2.4.9 (pppd.h, lcp.h) and of our own.
inline constexpr size_t kMaxUserBytes = 255;      // MAXNAMELEN - 1
inline constexpr size_t kMaxPasswordBytes = 256;  // MAXSECRETLEN
inline constexpr int kMinMtu = 128;               // MINMRU
inline constexpr int kMaxMtu = 16384;             // MAXMRU
inline constexpr int kMaxLcpEchoInterval = 3600;
inline constexpr int kMaxLcpEchoFailure = 100;

// Checks every field the options' side uses, and that the other side's are
// left at their defaults (user, password, default_route, use_peer_dns are
// the LAC's; local_address, remote_address, authentication, secrets, dns the
// LNS's). Errors name the field (as in PppOptions) and say
// why, never quoting a password or the secrets text.
absl::Status ValidatePppOptions(const PppOptions& options);

}  // namespace l2tp::ppp
