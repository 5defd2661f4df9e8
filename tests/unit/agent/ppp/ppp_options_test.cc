#include "agent/ppp/ppp_options.h"

#include <gtest/gtest.h>

namespace l2tp::ppp {
namespace {

PppOptions Lac() {
  PppOptions o;
  o.interface = "ppp-lac0";
  o.user = "alice";
  o.password = "pw";
  return o;
}

PppOptions Lns() {
  PppOptions o;
  o.side = PppSide::kLns;
  o.interface = "ppp-lns0";
  o.local_address = "10.0.0.1";
  o.remote_address = "10.0.0.2";
  o.authentication = PppAuthentication::kPap;
  o.secrets = "alice * pw *\n";
  return o;
}

TEST(PppOptions, ValidLacAndLns) {
  EXPECT_TRUE(ValidatePppOptions(Lac()).ok()) << ValidatePppOptions(Lac());
  EXPECT_TRUE(ValidatePppOptions(Lns()).ok()) << ValidatePppOptions(Lns());
}

TEST(PppOptions, CommonFields) {
  PppOptions o = Lac();
  o.interface = "";
  EXPECT_EQ(ValidatePppOptions(o).message(),
            "interface: \"\" is not a usable interface name (1 to 15 of A-Z a-z 0-9 _ . -)");
  o.interface = "a-very-long-name";  // 16
  EXPECT_EQ(ValidatePppOptions(o).message(),
            "interface: \"a-very-long-name\" is not a usable interface name (1 to 15 of A-Z a-z 0-9 _ . -)");
  o.interface = "..";
  EXPECT_FALSE(ValidatePppOptions(o).ok());
  o.interface = "ppp/0";
  EXPECT_FALSE(ValidatePppOptions(o).ok());

  o = Lac();
  o.pppol2tp_fd = 1;
  EXPECT_EQ(
      ValidatePppOptions(o).message(),
      "pppol2tp_fd: 1 is out of range 3..65535 (0, 1 and 2 are pppd's standard input, output and error)");

  o = Lac();
  o.lns_mode = true;
  o.session_id = 7;
  EXPECT_EQ(ValidatePppOptions(o).message(), "tunnel_id: lns_mode needs it (pppd refuses to start)");
  o.tunnel_id = 5;
  o.session_id = 0;
  EXPECT_EQ(ValidatePppOptions(o).message(), "session_id: lns_mode needs it (pppd refuses to start)");
}

TEST(PppOptions, LinkFieldsOnBothSides) {
  for (PppOptions o : {Lac(), Lns()}) {
    o.mtu = 1400;
    o.mru = 1400;
    o.lcp_echo_interval = 10;
    o.lcp_echo_failure = 3;
    EXPECT_TRUE(ValidatePppOptions(o).ok()) << ValidatePppOptions(o);
    o.mru = 100;
    EXPECT_EQ(ValidatePppOptions(o).message(), "mru: 100 is out of range 128..16384 (or 0: pppd's default)");
  }
}

TEST(PppOptions, LacFields) {
  PppOptions o = Lac();
  o.mtu = 64;
  EXPECT_EQ(ValidatePppOptions(o).message(), "mtu: 64 is out of range 128..16384 (or 0: pppd's default)");
  o = Lac();
  o.mru = 20000;
  EXPECT_EQ(ValidatePppOptions(o).message(), "mru: 20000 is out of range 128..16384 (or 0: pppd's default)");
  o = Lac();
  o.lcp_echo_interval = -1;
  EXPECT_EQ(ValidatePppOptions(o).message(), "lcp_echo_interval: -1 is out of range 0..3600");
  o = Lac();
  o.lcp_echo_failure = 101;
  EXPECT_EQ(ValidatePppOptions(o).message(), "lcp_echo_failure: 101 is out of range 0..100");
  o = Lac();
  o.password = "";
  EXPECT_EQ(ValidatePppOptions(o).message(), "password: must not be empty");
  o = Lac();
  o.password = std::string(257, 'p');
  EXPECT_EQ(ValidatePppOptions(o).message(), "password: is 257 bytes long; pppd takes at most 256");
}

TEST(PppOptions, LnsFields) {
  PppOptions o = Lns();
  o.local_address = "127.0.0.1";
  EXPECT_EQ(ValidatePppOptions(o).message(), "local_address: 127.0.0.1 is a loopback address");
  o = Lns();
  o.remote_address = "10.0.0.1";
  EXPECT_EQ(ValidatePppOptions(o).message(), "remote_address: 10.0.0.1 is local_address too");
  o = Lns();
  o.remote_address = "224.0.0.5";
  EXPECT_EQ(ValidatePppOptions(o).message(), "remote_address: 224.0.0.5 is a multicast address");
  o = Lns();
  o.authentication = PppAuthentication::kUnset;
  EXPECT_EQ(ValidatePppOptions(o).message(), "authentication: the LNS needs PAP, CHAP or NONE");
  o = Lns();
  o.authentication = PppAuthentication::kNone;
  EXPECT_EQ(ValidatePppOptions(o).message(), "secrets: authentication NONE takes none");
  o.secrets.clear();
  EXPECT_TRUE(ValidatePppOptions(o).ok()) << ValidatePppOptions(o);
  o.authentication = PppAuthentication::kChap;
  EXPECT_EQ(ValidatePppOptions(o).message(), "secrets: holds no secrets (every line is empty or a comment)");
  o = Lns();
  o.dns = {"10.0.0.53", "10.0.0.54", "10.0.0.55"};
  EXPECT_EQ(ValidatePppOptions(o).message(), "dns: 3 addresses; pppd offers at most 2");
  o = Lns();
  o.dns = {"10.0.0.53", "fd00::53"};
  EXPECT_EQ(ValidatePppOptions(o).message(), "dns[1]: want an IPv4 address like 10.0.0.1, got \"fd00::53\"");
  o = Lns();
  o.secrets = "alice * pw\n";
  EXPECT_EQ(
      ValidatePppOptions(o).message(),
      "secrets: line 1: no address list: pppd would let client \"alice\" use no IP address at all; add * "
      "(any) or the addresses it may use");
}

TEST(PppOptions, TheOtherSidesFieldsAreRefused) {
  PppOptions o = Lac();
  o.secrets = "alice * pw *\n";
  EXPECT_EQ(ValidatePppOptions(o).message(), "secrets: is an LNS field; this is a LAC call");
  o = Lac();
  o.dns = {"10.0.0.53"};
  EXPECT_EQ(ValidatePppOptions(o).message(), "dns: is an LNS field; this is a LAC call");
  o = Lns();
  o.user = "alice";
  EXPECT_EQ(ValidatePppOptions(o).message(), "user: is a LAC field; this is an LNS call");
  o = Lns();
  o.use_peer_dns = true;
  EXPECT_EQ(ValidatePppOptions(o).message(), "use_peer_dns: is a LAC field; this is an LNS call");
  o = Lac();
  o.authentication = PppAuthentication::kChap;
  EXPECT_EQ(ValidatePppOptions(o).message(), "authentication: is an LNS field; this is a LAC call");
  o = Lns();
  o.default_route = true;
  EXPECT_EQ(ValidatePppOptions(o).message(), "default_route: is a LAC field; this is an LNS call");
}

}  // namespace
}  // namespace l2tp::ppp
