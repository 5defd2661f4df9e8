#include "agent/ppp/pppd_log_parser.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>

namespace l2tp::ppp {
namespace {

using ::testing::ElementsAre;

// Feeds a transcript line by line; the phases reached, in order.
std::vector<PppPhase> Feed(PppdLogParser& parser, std::string_view transcript) {
  std::vector<PppPhase> phases;
  while (!transcript.empty()) {
    const size_t end = std::min(transcript.find('\n'), transcript.size());
    if (parser.Feed(transcript.substr(0, end))) phases.push_back(parser.link().phase);
    transcript.remove_prefix(std::min(end + 1, transcript.size()));
  }
  return phases;
}

// pppd 2.4.9 with `debug`, as a LAC: CHAP to the LNS, then IPCP with
// usepeerdns. (Formats: lcp.c/ipcp.c packet printers, chap-new.c, auth.c,
// ipcp.c ipcp_up.)
constexpr std::string_view kLacChapSuccess = R"(Plugin pppol2tp.so loaded.
pppd 2.4.9 started by root, uid 0
Using interface ppp-lac0
sent [LCP ConfReq id=0x1 <mru 1400> <asyncmap 0x0> <magic 0x5e0a8f1c>]
rcvd [LCP ConfReq id=0x1 <mru 1460> <asyncmap 0x0> <auth chap MD5> <magic 0x2b8c3d11>]
sent [LCP ConfAck id=0x1 <mru 1460> <asyncmap 0x0> <auth chap MD5> <magic 0x2b8c3d11>]
rcvd [LCP ConfAck id=0x1 <mru 1400> <asyncmap 0x0> <magic 0x5e0a8f1c>]
PPPoL2TP options: tid 5 sid 7 debugmask 0
sent [LCP EchoReq id=0x0 magic=0x5e0a8f1c]
rcvd [CHAP Challenge id=0x7 <6a1f0d3c9b2e4f5a8c7d6e5f4a3b2c1d>, name = "lns.example"]
sent [CHAP Response id=0x7 <0b3e9d2a7c4f6e8d1a5b9c3e7f2d4a6b>, name = "alice"]
rcvd [LCP EchoRep id=0x0 magic=0x2b8c3d11]
rcvd [CHAP Success id=0x7 "Access granted"]
CHAP authentication succeeded: Access granted
CHAP authentication succeeded
sent [IPCP ConfReq id=0x1 <addr 0.0.0.0> <ms-dns1 0.0.0.0> <ms-dns2 0.0.0.0>]
rcvd [IPCP ConfReq id=0x1 <addr 10.0.0.1>]
sent [IPCP ConfAck id=0x1 <addr 10.0.0.1>]
rcvd [IPCP ConfNak id=0x1 <addr 10.0.0.2> <ms-dns1 10.0.0.53> <ms-dns2 10.0.0.54>]
sent [IPCP ConfReq id=0x2 <addr 10.0.0.2> <ms-dns1 10.0.0.53> <ms-dns2 10.0.0.54>]
rcvd [IPCP ConfAck id=0x2 <addr 10.0.0.2> <ms-dns1 10.0.0.53> <ms-dns2 10.0.0.54>]
local  IP address 10.0.0.2
remote IP address 10.0.0.1
primary   DNS address 10.0.0.53
secondary DNS address 10.0.0.54)";

// pppd 2.4.9 as an LNS requiring CHAP: no "succeeded" line of its own for
// CHAP, the name comes from the Response it answered with Success.
constexpr std::string_view kLnsChapSuccess = R"(Plugin pppol2tp.so loaded.
pppd 2.4.9 started by root, uid 0
Using interface ppp-lns3
sent [LCP ConfReq id=0x1 <asyncmap 0x0> <auth chap MD5> <magic 0x1d2c3b4a>]
rcvd [LCP ConfReq id=0x1 <mru 1400> <asyncmap 0x0> <magic 0x5e0a8f1c>]
sent [LCP ConfAck id=0x1 <mru 1400> <asyncmap 0x0> <magic 0x5e0a8f1c>]
rcvd [LCP ConfAck id=0x1 <asyncmap 0x0> <auth chap MD5> <magic 0x1d2c3b4a>]
PPPoL2TP options: lnsmode tid 40000 sid 7 debugmask 0
sent [CHAP Challenge id=0x2c <1b6e94a7c03f52d8e61a0b4c7d9f3e25>, name = "lns.example"]
rcvd [CHAP Response id=0x2c <9f8e7d6c5b4a39281706f5e4d3c2b1a0>, name = "alice"]
sent [CHAP Success id=0x2c "Access granted"]
sent [IPCP ConfReq id=0x1 <addr 10.0.0.1>]
rcvd [IPCP ConfReq id=0x1 <addr 0.0.0.0> <ms-dns1 0.0.0.0> <ms-dns2 0.0.0.0>]
sent [IPCP ConfNak id=0x1 <addr 10.0.0.2> <ms-dns1 10.0.0.53> <ms-dns2 10.0.0.54>]
rcvd [IPCP ConfAck id=0x1 <addr 10.0.0.1>]
rcvd [IPCP ConfReq id=0x2 <addr 10.0.0.2> <ms-dns1 10.0.0.53> <ms-dns2 10.0.0.54>]
sent [IPCP ConfAck id=0x2 <addr 10.0.0.2> <ms-dns1 10.0.0.53> <ms-dns2 10.0.0.54>]
local  IP address 10.0.0.1
remote IP address 10.0.0.2)";

TEST(PppdLogParser, LacChapSuccess) {
  PppdLogParser parser;
  EXPECT_EQ(parser.link().phase, PppPhase::kEstablishing);
  EXPECT_THAT(Feed(parser, kLacChapSuccess), ElementsAre(PppPhase::kAuthenticating, PppPhase::kNetwork));
  const PppLinkInfo& link = parser.link();
  EXPECT_EQ(link.interface, "ppp-lac0");
  EXPECT_EQ(link.local_address, "10.0.0.2");
  EXPECT_EQ(link.remote_address, "10.0.0.1");
  EXPECT_THAT(link.dns, ElementsAre("10.0.0.53", "10.0.0.54"));
  EXPECT_EQ(link.peer_user, "");  // we authenticated; the peer did not
  EXPECT_EQ(link.auth_failure, "");
}

TEST(PppdLogParser, LnsChapSuccessGivesTheUser) {
  PppdLogParser parser;
  EXPECT_THAT(Feed(parser, kLnsChapSuccess), ElementsAre(PppPhase::kAuthenticating, PppPhase::kNetwork));
  EXPECT_EQ(parser.link().peer_user, "alice");
  EXPECT_EQ(parser.link().interface, "ppp-lns3");
  EXPECT_EQ(parser.link().local_address, "10.0.0.1");
  EXPECT_EQ(parser.link().remote_address, "10.0.0.2");
  EXPECT_TRUE(parser.link().dns.empty());
}

TEST(PppdLogParser, LnsPapSuccessGivesTheUser) {
  PppdLogParser parser;
  Feed(parser, R"(sent [LCP ConfReq id=0x1 <asyncmap 0x0> <auth pap> <magic 0x1d2c3b4a>]
rcvd [LCP ConfReq id=0x1 <asyncmap 0x0> <magic 0x5e0a8f1c>]
sent [LCP ConfAck id=0x1 <asyncmap 0x0> <magic 0x5e0a8f1c>]
rcvd [LCP ConfAck id=0x1 <asyncmap 0x0> <auth pap> <magic 0x1d2c3b4a>]
rcvd [PAP AuthReq id=0x1 user="bob \"b\" smith" password=<hidden>]
sent [PAP AuthAck id=0x1 "Login ok"]
PAP peer authentication succeeded for bob \"b\" smith)");
  EXPECT_EQ(parser.link().peer_user, "bob \"b\" smith");
  EXPECT_EQ(parser.link().phase, PppPhase::kAuthenticating);
}

TEST(PppdLogParser, ChapNamesAreUnescapedOnlyForQuoteAndBackslash) {
  PppdLogParser parser;
  Feed(parser, R"(rcvd [CHAP Response id=0x3 <00>, name = "c\\d \"e\" \n\001"]
sent [CHAP Success id=0x3 "Access granted"])");
  EXPECT_EQ(parser.link().peer_user, R"(c\d "e" \n\001)");
}

TEST(PppdLogParser, ChapSuccessForAnotherResponseIsIgnored) {
  PppdLogParser parser;
  Feed(parser, R"(rcvd [CHAP Response id=0x3 <00>, name = "alice"]
sent [CHAP Success id=0x4 "Access granted"])");
  EXPECT_EQ(parser.link().peer_user, "");
}

TEST(PppdLogParser, OtherPppdVersionsNameTheUserInWords) {
  PppdLogParser old_pppd;
  old_pppd.Feed("CHAP peer authentication succeeded for carol");
  EXPECT_EQ(old_pppd.link().peer_user, "carol");
  PppdLogParser new_pppd;
  new_pppd.Feed("Peer dave authenticated with CHAP");
  EXPECT_EQ(new_pppd.link().peer_user, "dave");
}

TEST(PppdLogParser, LnsPeerFailsChap) {
  PppdLogParser parser;
  const std::vector<PppPhase> phases = Feed(parser, R"(Using interface ppp-lns3
sent [LCP ConfReq id=0x1 <asyncmap 0x0> <auth chap MD5> <magic 0x1d2c3b4a>]
rcvd [LCP ConfReq id=0x1 <mru 1400> <asyncmap 0x0> <magic 0x5e0a8f1c>]
sent [LCP ConfAck id=0x1 <mru 1400> <asyncmap 0x0> <magic 0x5e0a8f1c>]
rcvd [LCP ConfAck id=0x1 <asyncmap 0x0> <auth chap MD5> <magic 0x1d2c3b4a>]
sent [CHAP Challenge id=0x1 <1b6e94a7c03f52d8e61a0b4c7d9f3e25>, name = "lns.example"]
rcvd [CHAP Response id=0x1 <9f8e7d6c5b4a39281706f5e4d3c2b1a0>, name = "mallory"]
No CHAP secret found for authenticating mallory
Peer mallory failed CHAP authentication
sent [CHAP Failure id=0x1 "Access denied"]
sent [LCP TermReq id=0x2 "Authentication failed"]
rcvd [LCP TermAck id=0x2]
Connection terminated.)");
  EXPECT_THAT(phases, ElementsAre(PppPhase::kAuthenticating));
  EXPECT_EQ(parser.link().auth_failure,
            "the peer \"mallory\" failed CHAP authentication (no secret for that name)");
  EXPECT_EQ(parser.link().peer_user, "");
}

TEST(PppdLogParser, LnsPeerFailsPap) {
  PppdLogParser parser;
  Feed(parser, R"(rcvd [PAP AuthReq id=0x1 user="bob" password=<hidden>]
sent [PAP AuthNak id=0x1 "Login incorrect"]
PAP peer authentication failed for bob
sent [LCP TermReq id=0x2 "Authentication failed"])");
  EXPECT_EQ(parser.link().auth_failure, "the peer \"bob\" failed PAP authentication");
}

TEST(PppdLogParser, LnsPeerRefusesToAuthenticate) {
  PppdLogParser parser;
  parser.Feed("peer refused to authenticate: terminating link");
  EXPECT_EQ(parser.link().auth_failure, "the peer refused to authenticate");
}

TEST(PppdLogParser, LacFailsChap) {
  PppdLogParser parser;
  Feed(parser, R"(rcvd [CHAP Challenge id=0x7 <6a1f0d3c9b2e4f5a8c7d6e5f4a3b2c1d>, name = "lns.example"]
sent [CHAP Response id=0x7 <0b3e9d2a7c4f6e8d1a5b9c3e7f2d4a6b>, name = "alice"]
rcvd [CHAP Failure id=0x7 "Access denied"]
CHAP authentication failed: Access denied
CHAP authentication failed
sent [LCP TermReq id=0x2 "Failed to authenticate ourselves to peer"]
rcvd [LCP TermAck id=0x2]
Connection terminated.)");
  EXPECT_EQ(parser.link().auth_failure, "we failed to authenticate to the peer with CHAP: \"Access denied\"");
}

TEST(PppdLogParser, LacFailsPap) {
  PppdLogParser parser;
  Feed(parser, R"(sent [PAP AuthReq id=0x1 user="alice" password=<hidden>]
rcvd [PAP AuthNak id=0x1 "Login incorrect"]
Remote message: Login incorrect
PAP authentication failed
sent [LCP TermReq id=0x2 "Failed to authenticate ourselves to peer"])");
  EXPECT_EQ(parser.link().auth_failure,
            "we failed to authenticate to the peer with PAP: \"Login incorrect\"");

  PppdLogParser silent;
  silent.Feed("No response to PAP authenticate-requests");
  EXPECT_EQ(silent.link().auth_failure,
            "we failed to authenticate to the peer: it did not answer our PAP requests");
}

TEST(PppdLogParser, LcpTimeoutStaysEstablishing) {
  PppdLogParser parser;
  std::string transcript =
      "Plugin pppol2tp.so loaded.\npppd 2.4.9 started by root, uid 0\n"
      "Using interface ppp-lac0\n";
  for (int i = 0; i < 10; ++i) {
    transcript += "sent [LCP ConfReq id=0x1 <mru 1400> <asyncmap 0x0> <magic 0x5e0a8f1c>]\n";
  }
  transcript += "LCP: timeout sending Config-Requests\nConnection terminated.\n";
  EXPECT_TRUE(Feed(parser, transcript).empty());
  EXPECT_EQ(parser.link().phase, PppPhase::kEstablishing);
  EXPECT_EQ(parser.link().interface, "ppp-lac0");
  EXPECT_EQ(parser.link().gave_up, "LCP got no answer to its Configure-Requests");
  parser.Feed("IPCP: timeout sending Config-Requests");
  EXPECT_EQ(parser.link().gave_up, "LCP got no answer to its Configure-Requests") << "the first one told";
}

TEST(PppdLogParser, OneConfAckIsNotEnough) {
  PppdLogParser parser;
  EXPECT_FALSE(parser.Feed("sent [LCP ConfAck id=0x1 <mru 1400>]"));
  EXPECT_FALSE(parser.Feed("sent [LCP ConfAck id=0x2 <mru 1400>]"));
  EXPECT_FALSE(parser.Feed("rcvd [LCP ConfNak id=0x1 <mru 1400>]"));
  EXPECT_EQ(parser.link().phase, PppPhase::kEstablishing);
  EXPECT_TRUE(parser.Feed("rcvd [LCP ConfAck id=0x1 <magic 0x1>]\r"));
  EXPECT_EQ(parser.link().phase, PppPhase::kAuthenticating);
}

TEST(PppdLogParser, PhasesNeverGoBackAndAddressesFollowRenegotiation) {
  PppdLogParser parser;
  EXPECT_FALSE(parser.Feed("local  IP address 10.0.0.2"));
  EXPECT_TRUE(parser.Feed("remote IP address 10.0.0.1"));  // without debug: straight to NETWORK
  EXPECT_EQ(parser.link().phase, PppPhase::kNetwork);
  EXPECT_FALSE(parser.Feed("sent [LCP ConfAck id=0x3 <mru 1400>]"));
  EXPECT_FALSE(parser.Feed("rcvd [LCP ConfAck id=0x3 <mru 1400>]"));
  EXPECT_EQ(parser.link().phase, PppPhase::kNetwork);
  EXPECT_FALSE(parser.Feed("Local IP address changed to 10.0.0.7"));
  EXPECT_EQ(parser.link().local_address, "10.0.0.7");
  parser.MarkDead();
  EXPECT_EQ(parser.link().phase, PppPhase::kDead);
  EXPECT_EQ(PppPhaseName(parser.link().phase), "DEAD");
}

TEST(PppdLogParser, EchoTimeoutAfterNetwork) {
  PppdLogParser parser;
  Feed(parser, kLacChapSuccess);
  EXPECT_TRUE(Feed(parser, R"(No response to 4 echo-requests
Serial link appears to be disconnected.
Connect time 2.1 minutes.
Sent 1284 bytes, received 1530 bytes.
sent [LCP TermReq id=0x3 "Peer not responding"]
Connection terminated.)")
                  .empty());
  EXPECT_EQ(parser.link().phase, PppPhase::kNetwork);
  EXPECT_EQ(parser.link().auth_failure, "");
  EXPECT_EQ(parser.link().gave_up, "");
}

}  // namespace
}  // namespace l2tp::ppp
