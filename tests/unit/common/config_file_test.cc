#include "common/config_file.h"

#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <streambuf>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "l2tpagent/v1/l2tpagent.pb.h"

namespace l2tp {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

absl::Status Parse(std::string_view text) {
  l2tpagent::v1::Config c;
  return ParseConfigText(text, &c);
}

TEST(ConfigFileTest, YamlScalarsKeepTheirTypes) {
  auto json = YamlToJson("a: 1\nb: true\nc: \"1\"\nd: hello\ne: ~\nf: [1, x]\ng: 0x10\n");
  ASSERT_TRUE(json.ok());
  EXPECT_EQ(*json, R"({"a":1,"b":true,"c":"1","d":"hello","e":null,"f":[1,"x"],"g":"0x10"})");
}

TEST(ConfigFileTest, PlainScalarsAreNumbersExactlyWhenJsonSaysSo) {
  for (const char* number : {"0", "-0", "7", "-12", "3.25", "1e5", "1E+5", "-2.5e-3", "1701"}) {
    auto json = YamlToJson(std::string("n: ") + number);
    ASSERT_TRUE(json.ok());
    EXPECT_EQ(*json, std::string(R"({"n":)") + number + "}") << number;
  }
  for (const char* text : {"01", "1.", ".5", "+1", "1e", "1e+", "1.5.2", "12a", "0x1f", "a1b2c3d4", "-x"}) {
    auto json = YamlToJson(std::string("n: \"") + text + "\"\nm: " + text);
    ASSERT_TRUE(json.ok()) << text;
    EXPECT_THAT(*json, HasSubstr(std::string(R"("m":)"))) << text;
    EXPECT_THAT(*json, ::testing::Not(HasSubstr(std::string(R"("m":)") + text + "}"))) << text;
  }
}

TEST(ConfigFileTest, ParsesYamlAndJsonConfigs) {
  l2tpagent::v1::Config yaml, json;
  ASSERT_TRUE(
      ParseConfigText("tunnels:\n  - name: t1\n    spec: {tunnelId: 5, encap: ENCAPSULATION_IP}\n", &yaml)
          .ok());
  ASSERT_TRUE(
      ParseConfigText(R"({"tunnels":[{"name":"t1","spec":{"tunnel_id":5,"encap":"ENCAPSULATION_IP"}}]})",
                      &json)
          .ok());
  EXPECT_EQ(yaml.DebugString(), json.DebugString());
  EXPECT_EQ(yaml.tunnels(0).spec().tunnel_id(), 5u);
}

TEST(ConfigFileTest, UnknownFieldsAreErrors) {
  l2tpagent::v1::Config c;
  auto st = ParseConfigText("tunnels:\n  - name: t1\n    spec: {tunnelID: 5}\n", &c);
  ASSERT_FALSE(st.ok());
  EXPECT_THAT(st.message(), HasSubstr("tunnelID"));
}

TEST(ConfigFileTest, YamlSyntaxErrorsNameTheLine) {
  l2tpagent::v1::Config c;
  auto st = ParseConfigText("tunnels:\n  - name: [unclosed\n", &c);
  ASSERT_FALSE(st.ok());
  EXPECT_THAT(st.message(), HasSubstr("YAML line"));
}

TEST(ConfigFileTest, RoundTripsThroughYaml) {
  l2tpagent::v1::Config c;
  auto* t = c.add_tunnels();
  t->set_name("t1");
  t->mutable_spec()->set_local("192.0.2.1");
  t->mutable_spec()->set_tunnel_id(7);
  auto* s = c.add_sessions();
  s->set_name("s1");
  s->mutable_spec()->set_cookie("00112233");
  s->mutable_spec()->mutable_reorder_timeout()->set_nanos(100000000);
  l2tpagent::v1::Config back;
  ASSERT_TRUE(ParseConfigText(ToYaml(c), &back).ok()) << ToYaml(c);
  EXPECT_EQ(back.DebugString(), c.DebugString());
}

TEST(ConfigFileTest, TheShippedExampleParses) {
  l2tpagent::v1::Config c;
  auto st = LoadConfigFile(std::string(L2TP_SOURCE_DIR) + "/examples/pseudowires.yaml", &c);
  ASSERT_TRUE(st.ok()) << st;
  EXPECT_EQ(c.tunnels_size(), 2);
  EXPECT_EQ(c.sessions(0).spec().cookie(), "0x8a7b6c5d");
  EXPECT_EQ(c.tunnels(1).spec().encap(), l2tpagent::v1::ENCAPSULATION_IP) << "a short enum name";
  EXPECT_EQ(c.sessions(1).spec().pseudowire(), l2tpagent::v1::PSEUDOWIRE_ETH) << "a short name in lower case";
}

TEST(ConfigFileTest, MissingFileIsNamed) {
  l2tpagent::v1::Config c;
  auto st = LoadConfigFile("/nonexistent/x.yaml", &c);
  EXPECT_THAT(st.message(), HasSubstr("/nonexistent/x.yaml: No such file or directory"));
}

TEST(ConfigFileTest, DirectoryIsNotAConfig) {
  l2tpagent::v1::Config c;
  auto st = LoadConfigFile("/tmp", &c);
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(st.message(), HasSubstr("is a directory"));
}

TEST(ConfigFileTest, TheDemoExamplesParse) {
  for (const char* file : {"/examples/demo/site-a.yaml", "/examples/demo/site-b.yaml"}) {
    l2tpagent::v1::Config c;
    auto st = LoadConfigFile(std::string(L2TP_SOURCE_DIR) + file, &c);
    ASSERT_TRUE(st.ok()) << st;
    EXPECT_EQ(c.tunnels_size(), 2) << file;  // a STATIC and a DYNAMIC tunnel
    EXPECT_EQ(c.sessions_size(), 2) << file;
    EXPECT_EQ(c.tunnels(1).spec().control().mode(), l2tpagent::v1::TunnelControl::MODE_DYNAMIC) << file;
  }
}

// --- Limits (issue 11, item 5) ---

// 463 bytes that stand for 9^9 (387 million) strings.
constexpr char kAliasBomb[] =
    "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n"
    "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
    "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
    "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
    "e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n"
    "f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n"
    "g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\n"
    "h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]\n"
    "i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]\n"
    "tunnels: *i\n";

TEST(ConfigFileTest, AliasBombIsRefusedBeforeItExpands) {
  auto start = std::chrono::steady_clock::now();
  auto st = Parse(kAliasBomb);
  auto yaml = YamlToJson(kAliasBomb);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(st.message(), HasSubstr("more than 1000000 nodes"));
  EXPECT_THAT(st.message(), HasSubstr("config files are limited to 1000000 nodes"));
  EXPECT_THAT(st.message(), HasSubstr("line 7, column 8: "));  // where the count passes the limit
  EXPECT_EQ(yaml.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(ConfigFileTest, AliasesWithinTheLimitsWork) {
  l2tpagent::v1::Config c;
  auto st = ParseConfigText(
      "tunnels:\n"
      "  - {name: t1, spec: &spec {peerTunnelId: 2, local: 192.0.2.1, remote: 192.0.2.2}}\n"
      "  - {name: t2, spec: *spec}\n",
      &c);
  ASSERT_TRUE(st.ok()) << st;
  EXPECT_EQ(c.tunnels(1).spec().remote(), "192.0.2.2");
}

TEST(ConfigFileTest, AnAliasedLongScalarCountsEachUse) {
  std::string yaml = "a: &a \"" + std::string(1 << 20, 'x') + "\"\nb: [";
  for (int i = 0; i < 70; ++i) yaml += "*a,";
  yaml += "*a]\n";
  auto json = YamlToJson(yaml);
  ASSERT_FALSE(json.ok());
  EXPECT_THAT(json.status().message(), HasSubstr("line 2, column "));
  EXPECT_THAT(json.status().message(), HasSubstr("limited to 64 MiB (67108864 bytes)"));
}

std::string Nested(int levels) { return std::string(levels, '[') + std::string(levels, ']'); }

TEST(ConfigFileTest, NestingIsLimited) {
  EXPECT_TRUE(YamlToJson(Nested(kMaxConfigDepth)).ok());
  auto json = YamlToJson(Nested(kMaxConfigDepth + 1));
  ASSERT_FALSE(json.ok());
  EXPECT_THAT(json.status().message(), HasSubstr("line 1, column 65: "));
  EXPECT_THAT(json.status().message(), HasSubstr("config files are limited to 64 levels"));
  // Far deeper than yaml-cpp's own recursion guard: still a clean error.
  EXPECT_FALSE(YamlToJson(Nested(100000)).ok());
}

TEST(ConfigFileTest, NestingThroughAnAliasCounts) {
  std::string deep = "a: &a " + Nested(40) + "\n";
  EXPECT_TRUE(YamlToJson(deep + "b: *a\n").ok());
  auto json = YamlToJson(deep + "b: " + std::string(30, '[') + "*a" + std::string(30, ']') + "\n");
  ASSERT_FALSE(json.ok());
  EXPECT_THAT(json.status().message(), HasSubstr("line 2, column 34: "));
  EXPECT_THAT(json.status().message(), HasSubstr("64 levels"));
}

TEST(ConfigFileTest, AnAliasInsideItsOwnAnchorIsRefused) {
  auto json = YamlToJson("a: &a [1, *a]\n");
  ASSERT_FALSE(json.ok());
  EXPECT_THAT(json.status().message(), HasSubstr("(a cycle)"));
  EXPECT_FALSE(Parse("tunnels: &t [{name: x, spec: *t}]\n").ok());
}

TEST(ConfigFileTest, OversizedFileIsRefusedWithoutReadingIt) {
  std::string path = ::testing::TempDir() + "/config_file_test_big.yaml";
  { std::ofstream(path) << "tunnels: []\n"; }
  ASSERT_EQ(truncate(path.c_str(), kMaxConfigFileBytes + 1), 0);  // sparse: no disk used
  l2tpagent::v1::Config c;
  auto st = LoadConfigFile(path, &c);
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(st.message(), HasSubstr(path + ": 16777217 bytes, larger than 16 MiB (16777216 bytes), "
                                             "the limit for config files"));
  ASSERT_EQ(truncate(path.c_str(), kMaxConfigFileBytes), 0);  // at the limit: read
  EXPECT_TRUE(ReadConfigText(path).ok());
  unlink(path.c_str());
}

// An endless stream, as /dev/zero or a runaway pipe on stdin would be.
class Endless : public std::streambuf {
 public:
  Endless() { setg(buf_, buf_, buf_ + sizeof buf_); }

 private:
  int_type underflow() override {
    setg(buf_, buf_, buf_ + sizeof buf_);
    return 'x';
  }
  char buf_[4096] = {};
};

TEST(ConfigFileTest, ReadingAStreamStopsAtTheLimit) {
  Endless endless;
  std::istream in(&endless);
  auto text = ReadConfigStream(in, "<stdin>");
  ASSERT_FALSE(text.ok());
  EXPECT_THAT(text.status().message(), HasSubstr("<stdin>: is larger than 16 MiB"));
  EXPECT_FALSE(ReadConfigText("/dev/zero").ok());

  std::istringstream small("tunnels: []\n");
  EXPECT_EQ(*ReadConfigStream(small, "<stdin>"), "tunnels: []\n");
}

TEST(ConfigFileTest, OversizedTextIsRefused) {
  auto st = Parse(std::string(kMaxConfigFileBytes + 1, ' '));
  EXPECT_THAT(st.message(), HasSubstr("the text is 16777217 bytes, larger than 16 MiB"));
}

// --- Strict parsing (issue 11, item 6) ---

TEST(ConfigFileTest, ASecondDocumentIsAnError) {
  auto st = Parse("tunnels: []\n---\nsessions: []\n");
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(st.message(), HasSubstr("line 2, column 1: a second YAML document"));
  EXPECT_FALSE(Parse("tunnels: []\n---\n").ok());
  EXPECT_FALSE(YamlToJson("a: 1\n---\nb: 2\n").ok());
  // One document with its optional start and end markers is fine.
  EXPECT_TRUE(Parse("---\ntunnels: []\n...\n").ok());
}

TEST(ConfigFileTest, AKeyGivenTwiceIsAnError) {
  auto st = Parse("tunnels:\n  - name: t1\n    spec:\n      tunnelId: 1\n      tunnelId: 2\n");
  EXPECT_THAT(st.message(), HasSubstr("line 5, column 7: tunnels[0].spec: \"tunnelId\" given twice "
                                      "(first at line 4, column 7)"));
  st = Parse("tunnels: []\nsessions: []\ntunnels: []\n");
  EXPECT_THAT(st.message(), HasSubstr("line 3, column 1: \"tunnels\" given twice"));
  auto json = YamlToJson("a: 1\nb: {c: 1, c: 2}\n");
  ASSERT_FALSE(json.ok());
  EXPECT_THAT(json.status().message(), HasSubstr("line 2, column 11: b: \"c\" given twice"));
}

TEST(ConfigFileTest, AFieldInTwoSpellingsIsAnError) {
  auto st = Parse(R"({"tunnels": [{"name": "t1", "spec": {"tunnel_id": 1, "tunnelId": 2}}]})");
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(st.message(), HasSubstr("line 1, column 54: tunnels[0].spec: \"tunnelId\" and \"tunnel_id\" "
                                      "(at line 1, column 38) are both the field tunnel_id"));
  EXPECT_FALSE(Parse("sessions:\n  - name: s\n    spec: {send_sequence: true, sendSequence: false}\n").ok());
}

TEST(ConfigFileTest, AListInsideAListIsAnError) {
  auto st = Parse(R"({"tunnels": [[{"name": "t1"}], {"name": "t2"}]})");
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(st.message(), HasSubstr("line 1, column 14: tunnels[0]: a list inside a list"));
  st = Parse("tunnels:\n  - name: t1\n  - - name: t2\n");
  EXPECT_THAT(st.message(), HasSubstr("line 3, column 5: tunnels[1]: a list inside a list"));
}

TEST(ConfigFileTest, ARepeatedFieldTakesAList) {
  auto st = Parse("tunnels:\n  name: t1\n");
  EXPECT_THAT(st.message(), HasSubstr("line 2, column 3: tunnels: expected a list"));
  st = Parse("sessions:\n  -\n  - name: s\n");
  EXPECT_THAT(st.message(), HasSubstr("sessions[0]: an empty list item"));
}

TEST(ConfigFileTest, JsonTrailingCommasAreErrors) {
  auto st = Parse(R"({"tunnels": [{"name": "t1",}]})");
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(st.message(),
              HasSubstr("line 1, column 27: a comma before '}'; JSON does not allow trailing commas"));
  st = Parse("{\n  \"tunnels\": [\n    {\"name\": \"t1\"},\n  ]\n}\n");
  EXPECT_THAT(st.message(), HasSubstr("line 3, column 19: a comma before ']'"));
  // Commas inside strings are text.
  l2tpagent::v1::Config c;
  ASSERT_TRUE(ParseConfigText(R"({"tunnels": [{"name": "a,]", "spec": {"local": "x,}"}}]})", &c).ok());
  EXPECT_EQ(c.tunnels(0).name(), "a,]");
  // YAML flow collections allow a trailing comma, and YAML files keep it.
  EXPECT_TRUE(Parse("tunnels: [{name: t1},]\n").ok());
}

TEST(ConfigFileTest, BooleansAreTrueOrFalse) {
  for (const char* yes : {"true", "false", "True", "FALSE"}) {
    EXPECT_TRUE(Parse(std::string("sessions:\n  - name: s\n    spec: {sendSequence: ") + yes + "}\n").ok())
        << yes;
  }
  for (const char* word : {"yes", "no", "on", "off", "y", "n", "Y", "1", "0", "t"}) {
    auto st = Parse(std::string("sessions:\n  - name: s\n    spec:\n      sendSequence: ") + word + "\n");
    EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument) << word;
    EXPECT_THAT(st.message(), HasSubstr(std::string("line 4, column 21: sessions[0].spec.send_sequence: ") +
                                        word + " is not a boolean; write true or false"));
  }
  for (const char* quoted : {"\"1\"", "\"0\"", "\"true\"", "\"yes\""}) {
    auto st = Parse(std::string(R"({"sessions": [{"name": "s", "spec": {"lnsMode": )") + quoted + "}}]}");
    EXPECT_THAT(st.message(), HasSubstr(std::string("line 1, column 49: sessions[0].spec.lns_mode: ") +
                                        quoted + " is a quoted string, not a boolean"))
        << quoted;
  }
}

TEST(ConfigFileTest, ShapeErrorsNameThePlace) {
  auto st = Parse("tunnels:\n  - name: {first: t1}\n");
  EXPECT_THAT(st.message(), HasSubstr("line 2, column 11: tunnels[0].name: expected a single value"));
  st = Parse("tunnels:\n  - t1\n");
  EXPECT_THAT(st.message(),
              HasSubstr("line 2, column 5: tunnels[0]: expected a map of l2tpagent.v1.Tunnel fields"));
  st = Parse("tunnels:\n  - name: t1\n    spec: {tunnelID: 5}\n");
  EXPECT_THAT(st.message(), HasSubstr("line 3, column 12: tunnels[0].spec: unknown field \"tunnelID\" in "
                                      "l2tpagent.v1.TunnelSpec"));
}

// Issue 12: the short enum names people write, in any case; the full proto
// names stay what output prints.
TEST(ConfigFileTest, EnumsTakeShortAndFullNamesInAnyCase) {
  namespace v1 = ::l2tpagent::v1;
  for (const char* udp : {"UDP", "udp", "Udp", "ENCAPSULATION_UDP", "encapsulation_udp", "\"UDP\"", "1"}) {
    l2tpagent::v1::Config c;
    auto st = ParseConfigText(std::string("tunnels:\n  - name: t1\n    spec: {encap: ") + udp + "}\n", &c);
    ASSERT_TRUE(st.ok()) << udp << ": " << st;
    EXPECT_EQ(c.tunnels(0).spec().encap(), v1::ENCAPSULATION_UDP) << udp;
  }
  l2tpagent::v1::Config c;
  auto st = ParseConfigText(
      "tunnels:\n  - name: t1\n    spec: {encap: IP}\n"
      "sessions:\n  - name: s1\n    spec: {pseudowire: ETH, l2_specific_sublayer: NONE}\n"
      "  - name: s2\n    spec: {pseudowire: eth, l2SpecificSublayer: default}\n"
      "  - name: s3\n    spec: {l2SpecificSublayer: L2_SPECIFIC_SUBLAYER_NONE}\n"
      "    status: {phase: ready}\n",
      &c);
  ASSERT_TRUE(st.ok()) << st;
  EXPECT_EQ(c.tunnels(0).spec().encap(), v1::ENCAPSULATION_IP);
  EXPECT_EQ(c.sessions(0).spec().pseudowire(), v1::PSEUDOWIRE_ETH);
  EXPECT_EQ(c.sessions(0).spec().l2_specific_sublayer(), v1::L2_SPECIFIC_SUBLAYER_NONE);
  EXPECT_EQ(c.sessions(1).spec().l2_specific_sublayer(), v1::L2_SPECIFIC_SUBLAYER_DEFAULT);
  EXPECT_EQ(c.sessions(2).spec().l2_specific_sublayer(), v1::L2_SPECIFIC_SUBLAYER_NONE);
  EXPECT_EQ(c.sessions(2).status().phase(), v1::PHASE_READY);
  // JSON takes the same names.
  l2tpagent::v1::Config json;
  ASSERT_TRUE(ParseConfigText(R"({"tunnels": [{"name": "t1", "spec": {"encap": "ip"}}]})", &json).ok());
  EXPECT_EQ(json.tunnels(0).spec().encap(), v1::ENCAPSULATION_IP);
  // Output keeps the full names, and reads back.
  EXPECT_THAT(ToYaml(c), HasSubstr("encap: ENCAPSULATION_IP"));
  EXPECT_THAT(ToYaml(c), HasSubstr("l2SpecificSublayer: L2_SPECIFIC_SUBLAYER_NONE"));
  l2tpagent::v1::Config back;
  ASSERT_TRUE(ParseConfigText(ToYaml(c), &back).ok());
  EXPECT_EQ(back.DebugString(), c.DebugString());
  // The unset zero value stays accepted (it is the default), as does null.
  ASSERT_TRUE(
      ParseConfigText("tunnels:\n  - name: t1\n    spec: {encap: ENCAPSULATION_UNSPECIFIED}\n", &c).ok());
  EXPECT_EQ(c.tunnels(0).spec().encap(), v1::ENCAPSULATION_UNSPECIFIED);
  ASSERT_TRUE(ParseConfigText("tunnels:\n  - name: t1\n    spec: {encap: null}\n", &c).ok());
  EXPECT_EQ(c.tunnels(0).spec().encap(), v1::ENCAPSULATION_UNSPECIFIED);
}

TEST(ConfigFileTest, AnUnknownEnumValueListsTheValidNames) {
  auto st = Parse("tunnels:\n  - name: t1\n    spec:\n      encap: UPD\n");
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(std::string(st.message()),
            "line 4, column 14: tunnels[0].spec.encap: \"UPD\" is not an encapsulation; "
            "use UDP or IP (or ENCAPSULATION_UDP, ENCAPSULATION_IP)");
  st = Parse("sessions:\n  - name: s1\n    spec: {l2SpecificSublayer: NO}\n");
  EXPECT_EQ(std::string(st.message()),
            "line 3, column 32: sessions[0].spec.l2_specific_sublayer: \"NO\" is not an L2 specific "
            "sublayer; use NONE or DEFAULT (or L2_SPECIFIC_SUBLAYER_NONE, L2_SPECIFIC_SUBLAYER_DEFAULT)");
  st = Parse(R"({"sessions": [{"name": "s1", "spec": {"pseudowire": "ETHERNET"}}]})");
  EXPECT_EQ(std::string(st.message()),
            "line 1, column 53: sessions[0].spec.pseudowire: \"ETHERNET\" is not a pseudowire; "
            "use ETH or PPP (or PSEUDOWIRE_ETH, PSEUDOWIRE_PPP)");
  st = Parse("tunnels:\n  - name: t1\n    status: {phase: up}\n");
  EXPECT_THAT(st.message(),
              HasSubstr("tunnels[0].status.phase: \"up\" is not a phase; use PENDING, READY, FAILED or "
                        "DELETING (or PHASE_PENDING, PHASE_READY, PHASE_FAILED, PHASE_DELETING)"));
  // A number names a value only if the enum defines it; a prefix alone is no value.
  for (const char* bad : {"7", "-1", "true", "1.5", "ENCAPSULATION_", "ENCAPSULATION_UDPX", "\"\""}) {
    st = Parse(std::string("tunnels:\n  - name: t1\n    spec: {encap: ") + bad + "}\n");
    EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_THAT(st.message(), HasSubstr("is not an encapsulation; use UDP or IP")) << bad;
    EXPECT_THAT(st.message(), Not(HasSubstr("type.googleapis.com"))) << bad;
    EXPECT_THAT(st.message(), Not(HasSubstr("UNSPECIFIED"))) << bad;
  }
  st = Parse("tunnels:\n  - name: t1\n    spec: {encap: [UDP]}\n");
  EXPECT_THAT(st.message(), HasSubstr("tunnels[0].spec.encap: expected a single value, not a map or list"));
  // A huge value is cut in the message.
  st = Parse("tunnels:\n  - name: t1\n    spec: {encap: " + std::string(5000, 'x') + "}\n");
  EXPECT_THAT(st.message(), HasSubstr("... (5000 bytes)\" is not an encapsulation"));
  EXPECT_LT(st.message().size(), 300u);
}

TEST(ConfigFileTest, WellKnownTypesKeepTheirJsonForms) {
  l2tpagent::v1::Config c;
  auto st = ParseConfigText(
      "sessions:\n  - name: s\n    spec: {reorderTimeout: 0.25s, mtu: 1400}\n"
      "    status: {lastTransitionTime: \"2024-01-02T03:04:05Z\"}\n",
      &c);
  ASSERT_TRUE(st.ok()) << st;
  EXPECT_EQ(c.sessions(0).spec().reorder_timeout().nanos(), 250000000);
  EXPECT_EQ(c.sessions(0).status().last_transition_time().seconds(), 1704164645);
}

}  // namespace
}  // namespace l2tp
