#include "agent/api/tls_options.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace l2tp {
namespace {

using ::testing::HasSubstr;

// A self-signed P-256 certificate, its key, and an unrelated key.
constexpr char kCert[] = R"(-----BEGIN CERTIFICATE-----
MIIBdTCCARugAwIBAgIUOtnYmNHb0CJ46YfhuKHhfD+67UQwCgYIKoZIzj0EAwIw
DzENMAsGA1UEAwwEdGVzdDAgFw0yNjEyMDUxMjA1MDJaGA8yMTI2MTExMTEyMDUw
MlowDzENMAsGA1UEAwwEdGVzdDBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABK78
Ki+KKjAKmk0MEkadUKQUe+Jz7QeIdHQ/fbWWTkPJ1yYhCtJaezWnf3uFR+h46B87
njrLLw5dgbCDmeG4cSajUzBRMB0GA1UdDgQWBBQqBlnXo7d32RQ+1Dq3mr4eee6s
vDAfBgNVHSMEGDAWgBQqBlnXo7d32RQ+1Dq3mr4eee6svDAPBgNVHRMBAf8EBTAD
AQH/MAoGCCqGSM49BAMCA0gAMEUCIE98CLkfbYpe5T8AnrfjBewt6YDzvSw4F1ls
nnTFXYihAiEA4WDeOhDfSN7d1r+PqUtdxbQ7sONKoyHuwLNZZognCXE=
-----END CERTIFICATE-----
)";
constexpr char kCertKey[] = R"(-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgTYWTNeR1N3MG1vPw
Nn9Jv9q6LqkuG2IgBzdNenrRVPahRANCAASu/CoviiowCppNDBJGnVCkFHvic+0H
iHR0P321lk5DydcmIQrSWns1p397hUfoeOgfO546yy8OXYGwg5nhuHEm
-----END PRIVATE KEY-----
)";
constexpr char kOtherKey[] = R"(-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgBGsdYGLZrX8hG+JH
mFbRogFUVWS+DYqEPvmOoKohIsehRANCAAR/Y0tr78gw/84VAoccpbQVLePuQlu7
vVBTPhw386MYgSf6TcqvJvJ/UPRCzrfV7Uf1R4t6dWb4M81jj/RWOfrk
-----END PRIVATE KEY-----
)";

class TlsFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/l2tp-tls-test-XXXXXX";
    dir_ = mkdtemp(tmpl);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string Write(const std::string& name, const std::string& text) {
    const std::string path = dir_ + "/" + name;
    std::ofstream(path) << text;
    return path;
  }
  // --listen with TLS from these two files.
  static TcpListenFlags Tls(const std::string& cert, const std::string& key) {
    TcpListenFlags flags;
    flags.listen = "127.0.0.1:1";
    flags.tls_cert = cert;
    flags.tls_key = key;
    return flags;
  }
  std::string dir_;
};

TEST(TlsOptionsTest, Loopback) {
  for (const char* ok : {"127.0.0.1:1", "127.1.2.3:50051", "[::1]:1", "localhost:9"})
    EXPECT_TRUE(IsLoopbackHostPort(ok)) << ok;
  for (const char* no : {"0.0.0.0:1", "10.0.0.1:1", "[::]:1", "128.0.0.1:1", "127.0.0.1",
                         "localhost.evil.org:1", "127.0.0.1.evil.org:1", "[::ffff:127.0.0.1]:1", "::1:1"}) {
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
  auto unreadable = MakeTcpListenConfig(
      {.listen = "0.0.0.0:1", .tls_cert = "/nonexistent.pem", .tls_key = "/k"});
  EXPECT_THAT(std::string(unreadable.status().message()),
              HasSubstr("--tls-cert: cannot read /nonexistent.pem"));
}

TEST_F(TlsFilesTest, MatchingKeyAndCertificate) {
  auto config = MakeTcpListenConfig(Tls(Write("c.pem", kCert), Write("c.key", kCertKey)));
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_NE(config->credentials, nullptr);
  EXPECT_FALSE(config->plaintext);
}

TEST_F(TlsFilesTest, KeyOfAnotherCertificateNamesBothFlagsAndFiles) {
  const std::string cert = Write("c.pem", kCert), key = Write("other.key", kOtherKey);
  auto config = MakeTcpListenConfig(Tls(cert, key));
  ASSERT_FALSE(config.ok());
  const std::string message(config.status().message());
  EXPECT_THAT(message, HasSubstr("--tls-key and --tls-cert do not match"));
  EXPECT_THAT(message, HasSubstr(key));
  EXPECT_THAT(message, HasSubstr(cert));
}

TEST_F(TlsFilesTest, UnparsableKeyIsNamed) {
  const std::string key = Write("bad.key",
                                "-----BEGIN PRIVATE KEY-----\nnot base64 !\n-----END PRIVATE KEY-----\n");
  auto config = MakeTcpListenConfig(Tls(Write("c.pem", kCert), key));
  ASSERT_FALSE(config.ok());
  EXPECT_THAT(std::string(config.status().message()),
              HasSubstr("--tls-key: " + key + ": cannot parse the private key"));
}

}  // namespace
}  // namespace l2tp
