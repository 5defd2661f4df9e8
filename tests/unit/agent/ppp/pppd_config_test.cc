#include "agent/ppp/pppd_config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_join.h"
#include "agent/ppp/pppd_words.h"

namespace l2tp::ppp {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

PppOptions Lac() {
  PppOptions o;
  o.side = PppSide::kLac;
  o.interface = "ppp-lac0";
  o.pppol2tp_fd = 3;
  o.tunnel_id = 5;
  o.session_id = 7;
  o.user = "alice";
  o.password = "s3cret-password";
  o.mtu = 1400;
  o.mru = 1400;
  o.use_peer_dns = true;
  return o;
}

PppOptions Lns() {
  PppOptions o;
  o.side = PppSide::kLns;
  o.interface = "ppp-lns3";
  o.pppol2tp_fd = 3;
  o.tunnel_id = 40000;
  o.session_id = 4000000000u;
  o.lns_mode = true;
  o.local_address = "10.0.0.1";
  o.remote_address = "10.0.0.2";
  o.authentication = PppAuthentication::kChap;
  o.secrets = "alice * \"s3cret-password\" *\n";
  o.dns = {"10.0.0.53", "10.0.0.54"};
  return o;
}

TEST(PppdConfig, LacArgumentsGolden) {
  absl::StatusOr<std::vector<std::string>> argv =
      BuildPppdArguments(Lac(), "/usr/sbin/pppd", "/var/lib/l2tp-agent/ppp/call-1/options");
  ASSERT_TRUE(argv.ok()) << argv.status();
  EXPECT_EQ(absl::StrJoin(*argv, " "),
            "/usr/sbin/pppd plugin pppol2tp.so pppol2tp 3 pppol2tp_tunnel_id 5 pppol2tp_session_id 7 "
            "nodetach ifname ppp-lac0 file /var/lib/l2tp-agent/ppp/call-1/options");
}

TEST(PppdConfig, LnsArgumentsGolden) {
  absl::StatusOr<std::vector<std::string>> argv = BuildPppdArguments(Lns(), "/usr/sbin/pppd",
                                                                     "/run/x/options");
  ASSERT_TRUE(argv.ok()) << argv.status();
  EXPECT_EQ(absl::StrJoin(*argv, " "),
            "/usr/sbin/pppd plugin pppol2tp.so pppol2tp 3 pppol2tp_lns_mode pppol2tp_tunnel_id 40000 "
            "pppol2tp_session_id 4000000000 nodetach ifname ppp-lns3 file /run/x/options");
}

TEST(PppdConfig, ArgumentsLeaveOutZeroIds) {
  PppOptions o = Lac();
  o.tunnel_id = 0;
  o.session_id = 0;
  absl::StatusOr<std::vector<std::string>> argv = BuildPppdArguments(o, "/usr/sbin/pppd", "/o");
  ASSERT_TRUE(argv.ok()) << argv.status();
  EXPECT_THAT(*argv, ElementsAre("/usr/sbin/pppd", "plugin", "pppol2tp.so", "pppol2tp", "3", "nodetach",
                                 "ifname", "ppp-lac0", "file", "/o"));
}

TEST(PppdConfig, LacOptionsGolden) {
  absl::StatusOr<std::string> text = BuildPppdOptionsFile(Lac());
  ASSERT_TRUE(text.ok()) << text.status();
  EXPECT_EQ(*text,
            "# pppd options for one L2TP call (LAC), written by l2tp-agent; removed when the call ends.\n"
            "debug\n"
            "logfd 1\n"
            "hide-password\n"
            "noauth\n"
            "user \"alice\"\n"
            "refuse-eap\n"
            "refuse-mschap\n"
            "refuse-mschap-v2\n"
            "noipdefault\n"
            "nodefaultroute\n"
            "usepeerdns\n"
            "mtu 1400\n"
            "mru 1400\n"
            "lcp-echo-interval 30\n"
            "lcp-echo-failure 4\n"
            "noccp\n"
            "nodeflate\n"
            "nobsdcomp\n"
            "novj\n");
}

TEST(PppdConfig, LacOptionsDefaultRouteNoDnsNoMtu) {
  PppOptions o = Lac();
  o.default_route = true;
  o.use_peer_dns = false;
  o.mtu = 0;
  o.mru = 0;
  o.lcp_echo_interval = 0;
  o.lcp_echo_failure = 0;
  absl::StatusOr<std::string> text = BuildPppdOptionsFile(o);
  ASSERT_TRUE(text.ok()) << text.status();
  EXPECT_THAT(*text,
              HasSubstr("\nnoipdefault\ndefaultroute\nlcp-echo-interval 0\nlcp-echo-failure 0\nnoccp\n"));
  EXPECT_THAT(*text, Not(HasSubstr("usepeerdns")));
  EXPECT_THAT(*text, Not(HasSubstr("mtu")));
}

TEST(PppdConfig, LnsOptionsGolden) {
  absl::StatusOr<std::string> text = BuildPppdOptionsFile(Lns());
  ASSERT_TRUE(text.ok()) << text.status();
  EXPECT_EQ(*text,
            "# pppd options for one L2TP call (LNS), written by l2tp-agent; removed when the call ends.\n"
            "debug\n"
            "logfd 1\n"
            "hide-password\n"
            "auth\n"
            "require-chap\n"
            "refuse-pap\n"
            "refuse-chap\n"
            "refuse-eap\n"
            "refuse-mschap\n"
            "refuse-mschap-v2\n"
            "10.0.0.1:10.0.0.2\n"
            "nodefaultroute\n"
            "ms-dns 10.0.0.53\n"
            "ms-dns 10.0.0.54\n"
            "lcp-echo-interval 30\n"
            "lcp-echo-failure 4\n"
            "noccp\n"
            "nodeflate\n"
            "nobsdcomp\n"
            "novj\n");
}

TEST(PppdConfig, LnsPapRequiresPap) {
  PppOptions o = Lns();
  o.authentication = PppAuthentication::kPap;
  o.dns.clear();
  absl::StatusOr<std::string> text = BuildPppdOptionsFile(o);
  ASSERT_TRUE(text.ok()) << text.status();
  EXPECT_THAT(*text, HasSubstr("\nauth\nrequire-pap\nrefuse-pap\n"));
  EXPECT_THAT(*text, Not(HasSubstr("require-chap")));
  EXPECT_THAT(*text, Not(HasSubstr("ms-dns")));
}

TEST(PppdConfig, LnsWithoutAuthentication) {
  PppOptions o = Lns();
  o.authentication = PppAuthentication::kNone;
  o.secrets.clear();
  o.mtu = 1400;
  o.lcp_echo_interval = 10;
  absl::StatusOr<std::string> text = BuildPppdOptionsFile(o);
  ASSERT_TRUE(text.ok()) << text.status();
  EXPECT_THAT(*text, HasSubstr("hide-password\nnoauth\nrefuse-pap\n"));
  EXPECT_THAT(*text, Not(HasSubstr("\nauth\n")));
  EXPECT_THAT(*text, Not(HasSubstr("require-")));
  EXPECT_THAT(*text, HasSubstr("\nmtu 1400\nlcp-echo-interval 10\nlcp-echo-failure 4\n"));
}

TEST(PppdConfig, NoSecretOnTheCommandLineOrInTheOptions) {
  for (const PppOptions& o : {Lac(), Lns()}) {
    absl::StatusOr<std::vector<std::string>> argv = BuildPppdArguments(o, "/usr/sbin/pppd", "/o");
    absl::StatusOr<std::string> text = BuildPppdOptionsFile(o);
    ASSERT_TRUE(argv.ok() && text.ok());
    EXPECT_THAT(absl::StrJoin(*argv, " "), Not(HasSubstr("s3cret")));
    EXPECT_THAT(*text, Not(HasSubstr("s3cret")));
  }
}

TEST(PppdConfig, UserWithSpacesAndQuotesIsOneWord) {
  PppOptions o = Lac();
  o.user = "alice \"the\" user # not a comment";
  absl::StatusOr<std::string> text = BuildPppdOptionsFile(o);
  ASSERT_TRUE(text.ok()) << text.status();
  EXPECT_THAT(*text, HasSubstr("\nuser \"alice \\\"the\\\" user # not a comment\"\n"));
  absl::StatusOr<std::vector<PppdWord>> words = SplitPppdWords(*text);
  ASSERT_TRUE(words.ok()) << words.status();
  std::vector<std::string> texts;
  for (const PppdWord& w : *words) texts.push_back(w.text);
  auto user = std::find(texts.begin(), texts.end(), "user");
  ASSERT_NE(user, texts.end());
  EXPECT_EQ(*(user + 1), o.user);
  EXPECT_EQ(*(user + 2), "refuse-eap");
}

TEST(PppdConfig, HostileValuesAreRefusedNeverWritten) {
  PppOptions o = Lac();
  o.user = "x\nplugin evil.so";
  EXPECT_EQ(BuildPppdOptionsFile(o).status().message(),
            "user: holds a line break, which pppd's files cannot carry in a value");
  EXPECT_EQ(BuildPppdArguments(o, "/usr/sbin/pppd", "/o").status().message(),
            "user: holds a line break, which pppd's files cannot carry in a value");

  o = Lac();
  o.interface = "ppp0 plugin";
  EXPECT_EQ(BuildPppdArguments(o, "/usr/sbin/pppd", "/o").status().message(),
            "interface: \"ppp0 plugin\" is not a usable interface name (1 to 15 of A-Z a-z 0-9 _ . -)");

  o = Lns();
  o.local_address = "10.0.0.1\nplugin evil.so";
  EXPECT_EQ(BuildPppdOptionsFile(o).status().message(),
            "local_address: want an IPv4 address like 10.0.0.1, got \"10.0.0.1\\nplugin evil.so\"");

  o = Lns();
  o.dns = {"10.0.0.53 plugin"};
  EXPECT_EQ(BuildPppdOptionsFile(o).status().message(),
            "dns[0]: want an IPv4 address like 10.0.0.1, got \"10.0.0.53 plugin\"");
}

TEST(PppdConfig, PathsMustBeAbsolute) {
  EXPECT_EQ(BuildPppdArguments(Lac(), "pppd", "/o").status().message(),
            "pppd_path: must be an absolute path");
  EXPECT_EQ(BuildPppdArguments(Lac(), "/usr/sbin/pppd", "options").status().message(),
            "options_path: must be an absolute path");
  EXPECT_EQ(BuildPppdArguments(Lac(), "/usr/sbin/pppd", "/o\nx").status().message(),
            "options_path: holds a line break, which pppd's files cannot carry in a value");
}

}  // namespace
}  // namespace l2tp::ppp
