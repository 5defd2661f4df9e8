// What one call's pppd is doing, from the lines it logs (with `debug` and
// `logfd 1`: pppd_config.h). Pure: fed one line at a time by
// pppd_process.h, or by a test with a transcript.
//
// The lines read (pppd 2.4.9's formats):
//   phase AUTHENTICATING  LCP is open: "sent [LCP ConfAck ..." and
//                         "rcvd [LCP ConfAck ..." both seen
//   phase NETWORK         "local  IP address A" and "remote IP address B"
//   interface             "Using interface NAME"
//   peer user (LNS)       PAP: "PAP peer authentication succeeded for NAME";
//                         CHAP: pppd 2.4.9 logs no line of its own, so the
//                         name of "rcvd [CHAP Response id=0xN <...>, name =
//                         "NAME"]" once "sent [CHAP Success id=0xN" follows.
//                         Also "CHAP peer authentication succeeded for NAME"
//                         (pppd before 2.4.4) and "Peer NAME authenticated
//                         with CHAP" (2.5)
//   auth failure          the peer's: "PAP peer authentication failed for
//                         NAME", "Peer NAME failed CHAP authentication", "No
//                         CHAP secret found for authenticating NAME", "peer
//                         refused to authenticate"; ours: "PAP authentication
//                         failed", "CHAP authentication failed[: MESSAGE]",
//                         "No response to PAP authenticate-requests"
//   DNS (LAC)             "primary   DNS address A", "secondary DNS address B"
//   gave up negotiating   "LCP: timeout sending Config-Requests" (or IPCP:
//                         the peer never answered; pppd then exits 16,
//                         "hangup", like a link the L2TP side ended)
// Names are as pppd printed them, with \" and \\ unescaped: other bytes
// stay escaped (\n, \x01, \377), so a name is always printable.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace l2tp::ppp {

enum class PppPhase {
  kEstablishing,    // pppd runs; LCP is negotiating
  kAuthenticating,  // LCP is open; authentication (if any) is under way
  kNetwork,         // IPCP is up: both addresses are known
  kDead,            // pppd exited (set by pppd_process.h, never by the log)
};

std::string_view PppPhaseName(PppPhase phase);  // "ESTABLISHING", ...

// What the log said so far.
struct PppLinkInfo {
  PppPhase phase = PppPhase::kEstablishing;
  std::string interface;
  std::string peer_user;  // the name the peer authenticated as (LNS)
  std::string local_address;
  std::string remote_address;
  std::vector<std::string> dns;  // the peer's DNS servers (LAC, usepeerdns)
  std::string auth_failure;      // words, e.g. `the peer "bob" failed PAP authentication`; "" if none
  std::string gave_up;           // words, e.g. "LCP got no answer to its Configure-Requests"; "" if none
};

class PppdLogParser {
 public:
  // One line without its newline. True when the phase moved forward (it
  // never moves back; a line that proves a later phase skips the ones between).
  bool Feed(std::string_view line);

  // pppd exited: the phase is DEAD from here on (pppd_process.h).
  void MarkDead() { link_.phase = PppPhase::kDead; }

  const PppLinkInfo& link() const { return link_; }

 private:
  bool Advance(PppPhase phase);

  PppLinkInfo link_;
  bool sent_lcp_ack_ = false;
  bool received_lcp_ack_ = false;
  std::string chap_response_id_;  // the last CHAP Response we received, for its Success
  std::string chap_response_name_;
  std::string no_secret_for_;   // "No CHAP secret found for authenticating NAME"
  std::string remote_message_;  // the peer's words with its PAP AuthNak or CHAP Failure
};

}  // namespace l2tp::ppp
