#include "agent/tls_options.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace l2tp {
namespace {

using ::testing::HasSubstr;

TEST(TlsOptionsTest, Loopback) {
  for (const char* ok : {"127.0.0.1:1", "127.1.2.3:50051", "[::1]:1", "localhost:9"}) EXPECT_TRUE(IsLoopbackHostPort(ok)) << ok;
  for (const char* no : {"0.0.0.0:1", "10.0.0.1:1", "[::]:1", "128.0.0.1:1", "127.0.0.1", "localhost.evil.org:1",
                         "127.0.0.1.evil.org:1", "[::ffff:127.0.0.1]:1", "::1:1"}) {
    EXPECT_FALSE(IsLoopbackHostPort(no)) << no;
  }
}

TEST(TlsOptionsTest, FlagCombinations) {
  auto none = MakeTcpListenConfig({});
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->credentials, nullptr);

  auto plaintext = MakeTcpListenConfig({.listen = "127.0.0.1:1"});
  EXPECT_THAT(std::string(plaintext.status().message()), HasSubstr("TCP needs TLS"));
  auto insecure = MakeTcpListenConfig({.listen = "127.0.0.1:1", .insecure = true});
  ASSERT_TRUE(insecure.ok());
  EXPECT_TRUE(insecure->plaintext);
  auto wide = MakeTcpListenConfig({.listen = "0.0.0.0:1", .insecure = true});
  EXPECT_THAT(std::string(wide.status().message()), HasSubstr("only allowed on a loopback address"));
  auto mixed = MakeTcpListenConfig({.listen = "127.0.0.1:1", .tls_cert = "c", .insecure = true});
  EXPECT_THAT(std::string(mixed.status().message()), HasSubstr("--insecure: plaintext cannot be combined"));
  auto orphan = MakeTcpListenConfig({.tls_cert = "c"});
  EXPECT_THAT(std::string(orphan.status().message()), HasSubstr("apply to --listen"));
  auto unreadable = MakeTcpListenConfig({.listen = "0.0.0.0:1", .tls_cert = "/nonexistent.pem", .tls_key = "/k"});
  EXPECT_THAT(std::string(unreadable.status().message()), HasSubstr("--tls-cert: cannot read /nonexistent.pem"));
}

}  // namespace
}  // namespace l2tp
