#include "client/connection.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/unit/client/cli_test_support.h"

namespace v1 = ::l2tpagent::v1;

namespace l2tp::cli {
namespace {

using ::testing::HasSubstr;

ParsedArgs Flags(std::map<std::string, std::string> values) {
  ParsedArgs args;
  args.values = std::move(values);
  return args;
}

TEST(ConnectionOptionsTest, DefaultSocketAndEnvironmentOverride) {
  auto options = ConnectionOptionsFromFlags(Flags({}), nullptr);
  ASSERT_TRUE(options.ok());
  EXPECT_EQ(options->Target(), "unix:/run/l2tp-agent/agent.sock");
  EXPECT_EQ(options->timeout, absl::Seconds(30));
  EXPECT_FALSE(options->timeout_set);

  options = ConnectionOptionsFromFlags(Flags({}), "/tmp/env.sock");
  EXPECT_EQ(options->Target(), "unix:/tmp/env.sock");
  options = ConnectionOptionsFromFlags(Flags({{"socket", "/tmp/flag.sock"}}), "/tmp/env.sock");
  EXPECT_EQ(options->Target(), "unix:/tmp/flag.sock");
  EXPECT_EQ(options->Description(), "unix socket /tmp/flag.sock");
}

TEST(ConnectionOptionsTest, ServerAndTimeout) {
  auto options = ConnectionOptionsFromFlags(
      Flags({{"server", "10.0.0.1:50051"}, {"timeout", "2s"}, {"insecure", "true"}}), nullptr);
  ASSERT_TRUE(options.ok());
  EXPECT_TRUE(options->insecure);
  EXPECT_EQ(options->Target(), "10.0.0.1:50051");
  EXPECT_EQ(options->timeout, absl::Seconds(2));
  EXPECT_TRUE(options->timeout_set);
}

TEST(ConnectionOptionsTest, BadFlagsNameTheFlag) {
  auto both = ConnectionOptionsFromFlags(Flags({{"server", "a:1"}, {"socket", "/x"}}), nullptr);
  EXPECT_THAT(both.status().message(), HasSubstr("--socket and --server"));
  auto no_port = ConnectionOptionsFromFlags(Flags({{"server", "localhost"}}), nullptr);
  EXPECT_THAT(no_port.status().message(), HasSubstr("--server: want HOST:PORT"));
  auto bad_timeout = ConnectionOptionsFromFlags(Flags({{"timeout", "soon"}}), nullptr);
  EXPECT_THAT(bad_timeout.status().message(), HasSubstr("--timeout: \"soon\""));
}

TEST(ConnectionOptionsTest, TcpNeedsTlsOrInsecure) {
  auto plain = ConnectionOptionsFromFlags(Flags({{"server", "127.0.0.1:1"}}), nullptr);
  EXPECT_THAT(plain.status().message(), HasSubstr("give --tls-ca"));
  auto both = ConnectionOptionsFromFlags(
      Flags({{"server", "127.0.0.1:1"}, {"insecure", "true"}, {"tls-ca", "/x"}}), nullptr);
  EXPECT_THAT(both.status().message(), HasSubstr("--insecure: plaintext cannot be combined"));
  auto no_server = ConnectionOptionsFromFlags(Flags({{"tls-ca", "/x"}}), nullptr);
  EXPECT_THAT(no_server.status().message(), HasSubstr("apply to --server"));
  auto missing =
      ConnectionOptionsFromFlags(Flags({{"server", "127.0.0.1:1"}, {"tls-ca", "/nonexistent.pem"}}), nullptr);
  EXPECT_THAT(missing.status().message(), HasSubstr("--tls-ca: cannot read"));
  auto half = ConnectionOptionsFromFlags(
      Flags({{"server", "127.0.0.1:1"}, {"tls-ca", "/x"}, {"tls-cert", "/y"}}), nullptr);
  EXPECT_THAT(half.status().message(), HasSubstr("--tls-cert and --tls-key: give both"));

  char path[] = "/tmp/l2tpctl-ca-XXXXXX";
  int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  const std::string pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
  ASSERT_EQ(write(fd, pem.data(), pem.size()), static_cast<ssize_t>(pem.size()));
  close(fd);
  auto tls = ConnectionOptionsFromFlags(Flags({{"server", "127.0.0.1:1"}, {"tls-ca", path}}), nullptr);
  unlink(path);
  ASSERT_TRUE(tls.ok()) << tls.status();
  EXPECT_EQ(tls->tls_ca_pem, pem);
  EXPECT_FALSE(tls->insecure);
}

TEST(ParseTimeoutTest, Forms) {
  EXPECT_EQ(*ParseTimeout("10s"), absl::Seconds(10));
  EXPECT_EQ(*ParseTimeout("1m30s"), absl::Seconds(90));
  EXPECT_EQ(*ParseTimeout("500ms"), absl::Milliseconds(500));
  EXPECT_EQ(*ParseTimeout("7"), absl::Seconds(7));
  EXPECT_FALSE(ParseTimeout("0").ok());
  EXPECT_FALSE(ParseTimeout("-1s").ok());
  EXPECT_FALSE(ParseTimeout("inf").ok());
  EXPECT_FALSE(ParseTimeout("").ok());
}

TEST(ConnectionTest, MissingSocketIsExplained) {
  ConnectionOptions options;
  options.socket_path = "/tmp/l2tpctl-test-does-not-exist.sock";
  Connection connection(options);
  grpc::ClientContext call;
  connection.SetDeadline(&call);
  v1::GetInfoResponse response;
  grpc::Status status = connection.stub().GetInfo(&call, v1::GetInfoRequest(), &response);
  ASSERT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE);
  std::string message = connection.DescribeError(status);
  EXPECT_THAT(message, HasSubstr("unix socket /tmp/l2tpctl-test-does-not-exist.sock"));
  EXPECT_THAT(message, HasSubstr("does not exist"));
  EXPECT_THAT(message, HasSubstr("Is l2tp-agent running?"));
}

TEST(ConnectionTest, RefusingSocketIsExplained) {
  // A socket file with no listener behind it, as a crashed agent leaves.
  char dir[] = "/tmp/l2tpctl-test-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  std::string path = std::string(dir) + "/stale.sock";
  int fd = socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  close(fd);

  ConnectionOptions options;
  options.socket_path = path;
  Connection connection(options);
  grpc::Status unavailable(grpc::StatusCode::UNAVAILABLE, "connect failed");
  std::string message = connection.DescribeError(unavailable);
  EXPECT_THAT(message, HasSubstr("cannot connect to l2tp-agent at unix socket " + path));
  EXPECT_THAT(message, HasSubstr("Connection refused"));
  unlink(path.c_str());
  rmdir(dir);
}

TEST(ConnectionTest, ServerErrorsShowCodeAndMessage) {
  testing::FakeAgent agent;  // reachable, so UNAVAILABLE is the server's own answer
  ConnectionOptions options;
  options.socket_path = agent.socket_path();
  Connection connection(options);
  EXPECT_EQ(connection.DescribeError(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                                                  "sessions[2].spec.cookie: must be 0, 4 or 8 "
                                                  "bytes, got 3")),
            "INVALID_ARGUMENT: sessions[2].spec.cookie: must be 0, 4 or 8 bytes, got 3");
  EXPECT_EQ(connection.DescribeError(grpc::Status(grpc::StatusCode::UNAVAILABLE, "datapath is restarting")),
            "UNAVAILABLE: datapath is restarting");
}

}  // namespace
}  // namespace l2tp::cli
