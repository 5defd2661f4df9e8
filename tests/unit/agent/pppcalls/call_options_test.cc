// BuildCallOptions: the PppSpec's fields for the call's side, the defaults,
// the session's ids and interface, and the secrets read from their files.
#include "agent/pppcalls/call_options.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "agent/ppp/ppp_options.h"

namespace l2tp {
namespace {

namespace fs = std::filesystem;
namespace v1 = ::l2tpagent::v1;
using ppp::PppAuthentication;
using ppp::PppSide;

class CallOptionsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/call_options_test.XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string File(const std::string& name, const std::string& content) {
    const std::string path = dir_ + "/" + name;
    std::ofstream(path, std::ios::trunc) << content;
    return path;
  }

  static PppCallStart Call(bool lns) {
    PppCallStart c;
    c.call_id = 9;
    c.session = "s";
    c.lns = lns;
    c.session_config.tunnel_id = 40000;
    c.session_config.session_id = 7;
    c.session_config.lns_mode = lns;
    c.session_config.interface_name = lns ? "ppp-in3" : "ppp-out";
    return c;
  }

  std::string dir_;
};

TEST_F(CallOptionsTest, LacWithDefaults) {
  PppCallStart c = Call(false);
  c.ppp.set_user("alice");
  c.ppp.set_password_file(File("pw", "the password\n"));
  c.ppp.set_use_peer_dns(true);
  auto o = BuildCallOptions(c, "");
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->side, PppSide::kLac);
  EXPECT_EQ(o->interface, "ppp-out");
  EXPECT_EQ(o->tunnel_id, 40000u);
  EXPECT_EQ(o->session_id, 7u);
  EXPECT_FALSE(o->lns_mode);
  EXPECT_EQ(o->user, "alice");
  EXPECT_EQ(o->password, "the password");  // one trailing newline dropped
  EXPECT_TRUE(o->use_peer_dns);
  EXPECT_FALSE(o->default_route);
  EXPECT_EQ(o->lcp_echo_interval, 30);  // unset: 30 s
  EXPECT_EQ(o->lcp_echo_failure, 4);    // 0: 4
  EXPECT_EQ(o->mtu, 0);
  EXPECT_TRUE(ppp::ValidatePppOptions(*o).ok());
  WipePppSecrets(*o);
  EXPECT_EQ(o->password, "");
}

TEST_F(CallOptionsTest, EchoAndSizesAsGiven) {
  PppCallStart c = Call(false);
  c.ppp.set_user("alice");
  c.ppp.mutable_lcp_echo_interval()->set_seconds(0);  // set to 0: off
  c.ppp.set_lcp_echo_failure(9);
  c.ppp.set_mtu(1400);
  c.ppp.set_mru(1410);
  c.ppp.set_default_route(true);
  auto o = BuildCallOptions(c, "");
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->lcp_echo_interval, 0);
  EXPECT_EQ(o->lcp_echo_failure, 9);
  EXPECT_EQ(o->mtu, 1400);
  EXPECT_EQ(o->mru, 1410);
  EXPECT_TRUE(o->default_route);
  EXPECT_EQ(o->password, "") << "no password_file";

  c.ppp.mutable_lcp_echo_interval()->set_seconds(10);
  EXPECT_EQ(BuildCallOptions(c, "")->lcp_echo_interval, 10);
}

TEST_F(CallOptionsTest, Lns) {
  PppCallStart c = Call(true);
  c.ppp.set_local_address("10.8.0.1");
  c.ppp.set_remote_address_pool("10.8.1.0/24");
  c.ppp.set_secrets_file(File("secrets", "alice * \"pw\" *\n"));
  c.ppp.add_dns("10.8.0.53");
  auto o = BuildCallOptions(c, "10.8.1.7");
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->side, PppSide::kLns);
  EXPECT_TRUE(o->lns_mode);
  EXPECT_EQ(o->interface, "ppp-in3");
  EXPECT_EQ(o->local_address, "10.8.0.1");
  EXPECT_EQ(o->remote_address, "10.8.1.7");
  EXPECT_EQ(o->authentication, PppAuthentication::kChap) << "unset means CHAP";
  EXPECT_EQ(o->secrets, "alice * \"pw\" *\n");
  EXPECT_THAT(o->dns, ::testing::ElementsAre("10.8.0.53"));
  EXPECT_EQ(o->user, "");
  EXPECT_TRUE(ppp::ValidatePppOptions(*o).ok());

  c.ppp.set_authentication(v1::PPP_AUTHENTICATION_PAP);
  EXPECT_EQ(BuildCallOptions(c, "10.8.1.7")->authentication, PppAuthentication::kPap);

  // NONE reads no file.
  c.ppp.set_authentication(v1::PPP_AUTHENTICATION_NONE);
  c.ppp.set_secrets_file(dir_ + "/missing");
  o = BuildCallOptions(c, "10.8.1.7");
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->authentication, PppAuthentication::kNone);
  EXPECT_EQ(o->secrets, "");
}

TEST_F(CallOptionsTest, FilesThatCannotBeUsedAreNamed) {
  PppCallStart lac = Call(false);
  lac.ppp.set_user("alice");
  lac.ppp.set_password_file(dir_ + "/missing");
  EXPECT_EQ(BuildCallOptions(lac, "").status().message(),
            "ppp.password_file: cannot read the secret file: No such file or directory");
  lac.ppp.set_password_file(File("empty", "\n"));
  EXPECT_EQ(BuildCallOptions(lac, "").status().message(), "ppp.password_file: the secret file is empty");

  PppCallStart lns = Call(true);
  lns.ppp.set_local_address("10.8.0.1");
  lns.ppp.set_secrets_file(dir_ + "/missing");
  EXPECT_EQ(BuildCallOptions(lns, "10.8.1.1").status().message(),
            "ppp.secrets_file: cannot read the secrets file: No such file or directory");
  lns.ppp.set_secrets_file(File("empty-secrets", ""));
  EXPECT_EQ(BuildCallOptions(lns, "10.8.1.1").status().message(),
            "ppp.secrets_file: the secrets file is empty");
  lns.ppp.set_secrets_file(dir_);
  EXPECT_EQ(BuildCallOptions(lns, "10.8.1.1").status().message(),
            "ppp.secrets_file: the secrets file is not a regular file");
  lns.ppp.clear_secrets_file();
  EXPECT_EQ(BuildCallOptions(lns, "10.8.1.1").status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(CallOptionsTest, SecretsTextUpToOneMebibyte) {
  const std::string line = "alice * pw *\n";
  std::string text;
  while (text.size() + line.size() <= kMaxPppSecretsTextBytes) text += line;
  text.append(kMaxPppSecretsTextBytes - text.size(), '#');
  auto read = ReadPppSecretsText(File("full", text));
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(read->size(), kMaxPppSecretsTextBytes);
  EXPECT_EQ(ReadPppSecretsText(File("over", text + "#")).status().message(),
            "the secrets file is longer than 1048576 bytes (1 MiB)");
}

}  // namespace
}  // namespace l2tp
