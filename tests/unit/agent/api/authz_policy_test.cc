#include "agent/api/authz_policy.h"

#include <fstream>
#include <string>

#include "agent/api/call_gate.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace l2tp {
namespace {

using ::testing::HasSubstr;

PeerIdentity Unix(uint32_t uid, uint32_t gid, std::vector<uint32_t> groups = {}) {
  PeerIdentity p;
  p.kind = PeerIdentity::Kind::kUnix;
  p.unix_peer.uid = uid;
  p.unix_peer.gid = gid;
  p.unix_peer.groups = std::move(groups);
  p.address = "fd:7";
  return p;
}

PeerIdentity Cert(std::string subject, std::vector<std::string> sans = {}) {
  PeerIdentity p;
  p.kind = PeerIdentity::Kind::kCertificate;
  p.subject = std::move(subject);
  p.sans = std::move(sans);
  p.address = "ipv4:127.0.0.1:40000";
  return p;
}

PeerIdentity Anonymous() {
  PeerIdentity p;
  p.address = "ipv4:127.0.0.1:40001";
  return p;
}

const char kPolicy[] = R"(
rules:
  - role: admin
    uids: [0]
  - role: reader
    uids: [65534]
    gids: [4242]
  - role: admin
    subjects: ["CN=admin,O=l2tp-test"]
  - role: reader
    sans: ["DNS:reader.example", "URI:spiffe://example.org/reader"]
  - role: admin
    gids: [4343]
)";

TEST(RequiredRoleTest, WritesNeedAdmin) {
  EXPECT_EQ(RequiredRole("Apply"), Role::kAdmin);
  EXPECT_EQ(RequiredRole("Delete"), Role::kAdmin);
  for (const char* m : {"Get", "List", "Watch", "GetInfo", "ListEvents"})
    EXPECT_EQ(RequiredRole(m), Role::kReader) << m;
  for (const char* m : {"grpc.health.v1.Health/Check", "grpc.health.v1.Health/Watch",
                        "grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo"}) {
    EXPECT_EQ(RequiredRole(m), Role::kNone) << m;
  }
}

TEST(AuthzPolicyTest, DefaultPolicy) {
  AuthzPolicy p = AuthzPolicy::Default(Role::kNone);
  EXPECT_TRUE(p.is_default());
  EXPECT_EQ(p.RoleOf(Unix(1000, 1000)), Role::kAdmin);
  EXPECT_EQ(p.RoleOf(Cert("CN=anyone")), Role::kAdmin);
  EXPECT_EQ(p.RoleOf(Anonymous()), Role::kNone);
  EXPECT_EQ(AuthzPolicy::Default(Role::kAdmin).RoleOf(Anonymous()), Role::kAdmin);
}

TEST(AuthzPolicyTest, RulesMapIdentitiesToRoles) {
  auto p = AuthzPolicy::Parse(kPolicy);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->rules().size(), 5u);
  EXPECT_EQ(p->default_role(), Role::kNone);
  EXPECT_EQ(p->RoleOf(Unix(0, 0)), Role::kAdmin);
  EXPECT_EQ(p->RoleOf(Unix(65534, 65534)), Role::kReader);
  EXPECT_EQ(p->RoleOf(Unix(1000, 4242)), Role::kReader);           // primary group
  EXPECT_EQ(p->RoleOf(Unix(1000, 1000, {4242})), Role::kReader);   // supplementary group
  EXPECT_EQ(p->RoleOf(Unix(65534, 65534, {4343})), Role::kAdmin);  // the highest matching role wins
  EXPECT_EQ(p->RoleOf(Unix(1000, 1000)), Role::kNone);
  EXPECT_EQ(p->RoleOf(Cert("CN=admin,O=l2tp-test")), Role::kAdmin);
  EXPECT_EQ(p->RoleOf(Cert("CN=admin,O=other")), Role::kNone);
  EXPECT_EQ(p->RoleOf(Cert("CN=x", {"DNS:reader.example"})), Role::kReader);
  EXPECT_EQ(p->RoleOf(Cert("CN=x", {"URI:spiffe://example.org/reader"})), Role::kReader);
  EXPECT_EQ(p->RoleOf(Anonymous()), Role::kNone);
  // A certificate whose subject is a number is not uid 0.
  EXPECT_EQ(p->RoleOf(Cert("0")), Role::kNone);
}

TEST(AuthzPolicyTest, DefaultRoleAndJson) {
  auto p = AuthzPolicy::Parse(
      R"({"rules": [{"role": "admin", "uids": ["root"]}], "default_role": "reader"})");
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->RoleOf(Unix(0, 0)), Role::kAdmin);
  EXPECT_EQ(p->RoleOf(Unix(1000, 1000)), Role::kReader);
  EXPECT_EQ(p->RoleOf(Anonymous()), Role::kReader);
  auto empty = AuthzPolicy::Parse("rules: []\n");
  ASSERT_TRUE(empty.ok()) << empty.status();
  EXPECT_EQ(empty->RoleOf(Unix(0, 0)), Role::kNone);  // root is not special
}

struct BadCase {
  const char* text;
  const char* message;
};

TEST(AuthzPolicyTest, ErrorsNameTheField) {
  const BadCase cases[] = {
      {"rules:\n  - role: root\n    uids: [0]\n", "rules[0].role: must be reader or admin, got \"root\""},
      {"rules:\n  - uids: [0]\n", "rules[0].role: missing"},
      {"rules:\n  - role: admin\n", "rules[0]: matches nobody"},
      {"rules:\n  - role: admin\n    uids: [0]\n  - role: reader\n    uids: [no-such-user-xyz]\n",
       "rules[1].uids[0]: \"no-such-user-xyz\" is neither a uid nor a known user name"},
      {"rules:\n  - role: admin\n    gids: [no-such-group-xyz]\n",
       "rules[0].gids[0]: \"no-such-group-xyz\" is neither a gid"},
      {"rules:\n  - role: admin\n    uids: 0\n", "rules[0].uids: must be a list"},
      {"rules:\n  - role: admin\n    sans: [\"example.org\"]\n", "rules[0].sans[0]: want DNS:NAME"},
      {"rules:\n  - role: admin\n    users: [0]\n", "rules[0].users: unknown field"},
      {"rules:\n  - role: admin\n    subjects: [\"\"]\n", "rules[0].subjects[0]: must be a non-empty string"},
      {"rule: []\n", "rule: unknown field"},
      {"default_role: reader\n", "rules: missing"},
      {"rules: []\ndefault_role: superuser\n", "default_role: must be none, reader or admin"},
      {"rules: {role: admin}\n", "rules: must be a list"},
      {"- role: admin\n", "must be a mapping"},
      {"rules: [\n", "not valid YAML or JSON"},
  };
  for (const auto& c : cases) {
    auto p = AuthzPolicy::Parse(c.text);
    EXPECT_FALSE(p.ok()) << c.text;
    EXPECT_THAT(std::string(p.status().message()), HasSubstr(c.message)) << c.text;
  }
}

TEST(AuthzPolicyTest, LoadNamesTheFile) {
  auto missing = AuthzPolicy::Load("/nonexistent/policy.yaml");
  EXPECT_THAT(std::string(missing.status().message()), HasSubstr("/nonexistent/policy.yaml: cannot read"));
}

// examples/authz-policy.yaml is documentation: it must parse.
TEST(AuthzPolicyTest, ExampleParses) {
  const std::string path = std::string(L2TP_SOURCE_DIR) + "/examples/authz-policy.yaml";
  auto p = AuthzPolicy::Load(path);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_FALSE(p->rules().empty());
  EXPECT_EQ(p->RoleOf(Unix(0, 0)), Role::kAdmin);
}

TEST(CallGateTest, DeniesWithIdentityAndRole) {
  auto p = AuthzPolicy::Parse(kPolicy);
  ASSERT_TRUE(p.ok());
  std::vector<std::string> denied;
  CallGate::Options options;
  options.policy = *p;
  options.on_denied = [&](const std::string& method, const char* role) {
    denied.push_back(method + "/" + role);
  };
  CallGate gate(options);
  CallGate::Ticket t;
  EXPECT_TRUE(gate.Admit(Unix(65534, 65534), "Get", &t).ok());
  grpc::Status st = gate.Admit(Unix(65534, 65534), "Apply", &t);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(st.error_message(),
            "uid 65534 (gid 65534) may not call Apply: it needs the admin role and has the reader role");
  st = gate.Admit(Cert("CN=stranger"), "Get", &t);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(
      st.error_message(),
      HasSubstr(
          "client certificate \"CN=stranger\" may not call Get: it needs the reader role and has none"));
  EXPECT_THAT(denied, ::testing::ElementsAre("Apply/admin", "Get/reader"));
  EXPECT_TRUE(gate.Admit(Unix(0, 0), "Apply", &t).ok());
}

TEST(CallGateTest, PerClientConcurrency) {
  CallGate::Options options;
  options.policy = AuthzPolicy::Default(Role::kNone);
  options.max_concurrent_per_client = 2;
  CallGate gate(options);
  {
    CallGate::Ticket a, b, c;
    ASSERT_TRUE(gate.Admit(Unix(0, 0), "Watch", &a).ok());
    ASSERT_TRUE(gate.Admit(Unix(0, 0), "Get", &b).ok());
    EXPECT_EQ(gate.in_flight("uid:0"), 2u);
    grpc::Status st = gate.Admit(Unix(0, 0), "Get", &c);
    EXPECT_EQ(st.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
    EXPECT_THAT(st.error_message(),
                HasSubstr("--max-concurrent-rpcs-per-client=2: uid 0 (gid 0) already has 2 calls in flight"));
    CallGate::Ticket other;
    EXPECT_TRUE(gate.Admit(Unix(1000, 1000), "Get", &other).ok());  // another identity
    EXPECT_TRUE(gate.Admit(Cert("CN=a"), "Get", &c).ok());
    // A refused call holds no slot; a denied one neither.
    EXPECT_EQ(gate.in_flight("uid:0"), 2u);
  }
  EXPECT_EQ(gate.in_flight("uid:0"), 0u);
  EXPECT_EQ(gate.in_flight("uid:1000"), 0u);
}

TEST(PeerIdentityTest, DescribeKeyAndFd) {
  EXPECT_EQ(Unix(5, 6).Describe(), "uid 5 (gid 6)");
  EXPECT_EQ(Unix(5, 6).Key(), "uid:5");
  EXPECT_EQ(Cert("CN=a", {"DNS:a"}).Describe(), "client certificate \"CN=a\" (DNS:a)");
  EXPECT_EQ(Anonymous().Describe(), "anonymous client ipv4:127.0.0.1:40001");
  EXPECT_EQ(Anonymous().Key(), "anonymous:ipv4:127.0.0.1");
  EXPECT_EQ(FdOfPeer("fd:12"), 12);
  EXPECT_EQ(FdOfPeer("fd:x"), std::nullopt);
  EXPECT_EQ(FdOfPeer("unix:/run/x"), std::nullopt);
}

}  // namespace
}  // namespace l2tp
