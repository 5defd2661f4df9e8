#include "client/cli_args.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace l2tp::cli {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

const std::vector<FlagSpec> kFlags = {
    {"output", 'o', true, "FORMAT", ""},
    {"filename", 'f', true, "FILE", ""},
    {"dry-run", 0, false, "", ""},
    {"help", 'h', false, "", ""},
};

TEST(CliArgsTest, LongFlagWithSeparateValue) {
  auto parsed = ParseArgs({"--output", "json", "tunnels"}, kFlags);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->Get("output"), "json");
  EXPECT_THAT(parsed->positionals, ElementsAre("tunnels"));
}

TEST(CliArgsTest, LongFlagWithEquals) {
  auto parsed = ParseArgs({"--output=yaml"}, kFlags);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->Get("output"), "yaml");
}

TEST(CliArgsTest, EmptyValueAfterEqualsIsKept) {
  auto parsed = ParseArgs({"--output="}, kFlags);
  ASSERT_TRUE(parsed.ok());
  EXPECT_TRUE(parsed->Has("output"));
  EXPECT_EQ(parsed->Get("output", "x"), "");
}

TEST(CliArgsTest, ShortFlagForms) {
  for (const auto& args : std::vector<std::vector<std::string>>{{"-o", "wide"}, {"-owide"}, {"-o=wide"}}) {
    auto parsed = ParseArgs(args, kFlags);
    ASSERT_TRUE(parsed.ok()) << args[0];
    EXPECT_EQ(parsed->Get("output"), "wide") << args[0];
  }
}

TEST(CliArgsTest, DashAloneIsAValue) {
  auto parsed = ParseArgs({"-f", "-"}, kFlags);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->Get("filename"), "-");
  parsed = ParseArgs({"-"}, kFlags);
  ASSERT_TRUE(parsed.ok());
  EXPECT_THAT(parsed->positionals, ElementsAre("-"));
}

TEST(CliArgsTest, BooleanFlags) {
  auto parsed = ParseArgs({"--dry-run"}, kFlags);
  ASSERT_TRUE(parsed.ok());
  EXPECT_TRUE(parsed->GetBool("dry-run"));
  parsed = ParseArgs({"--dry-run=false"}, kFlags);
  ASSERT_TRUE(parsed.ok());
  EXPECT_FALSE(parsed->GetBool("dry-run"));
  EXPECT_FALSE(ParseArgs({}, kFlags)->GetBool("dry-run"));
}

TEST(CliArgsTest, BadBooleanNamesTheFlag) {
  auto parsed = ParseArgs({"--dry-run=maybe"}, kFlags);
  ASSERT_FALSE(parsed.ok());
  EXPECT_THAT(parsed.status().message(), HasSubstr("--dry-run"));
  EXPECT_THAT(parsed.status().message(), HasSubstr("maybe"));
}

TEST(CliArgsTest, BooleanDoesNotSwallowNextArgument) {
  auto parsed = ParseArgs({"--dry-run", "file"}, kFlags);
  ASSERT_TRUE(parsed.ok());
  EXPECT_THAT(parsed->positionals, ElementsAre("file"));
}

TEST(CliArgsTest, UnknownFlagsAreErrors) {
  auto parsed = ParseArgs({"--bogus"}, kFlags);
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.status().message(), "unknown flag --bogus");
  parsed = ParseArgs({"-x"}, kFlags);
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.status().message(), "unknown flag -x");
  EXPECT_FALSE(ParseArgs({"--bogus=1"}, kFlags).ok());
}

TEST(CliArgsTest, MissingValueNamesTheFlag) {
  auto parsed = ParseArgs({"get", "-o"}, kFlags);
  ASSERT_FALSE(parsed.ok());
  EXPECT_THAT(parsed.status().message(), HasSubstr("-o needs a value (FORMAT)"));
}

TEST(CliArgsTest, DoubleDashEndsFlags) {
  auto parsed = ParseArgs({"--", "-o", "--bogus"}, kFlags);
  ASSERT_TRUE(parsed.ok());
  EXPECT_THAT(parsed->positionals, ElementsAre("-o", "--bogus"));
  EXPECT_FALSE(parsed->Has("output"));
}

TEST(CliArgsTest, LastRepeatWins) {
  auto parsed = ParseArgs({"-o", "json", "--output", "yaml"}, kFlags);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->Get("output"), "yaml");
}

TEST(CliArgsTest, StopsAtFirstPositionalLeavingTheRestUnparsed) {
  auto parsed = ParseArgs({"-o", "json", "get", "--bogus", "x"}, kFlags,
                          /*stop_at_first_positional=*/true);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->Get("output"), "json");
  EXPECT_TRUE(parsed->positionals.empty());
  EXPECT_THAT(parsed->rest, ElementsAre("get", "--bogus", "x"));
}

}  // namespace
}  // namespace l2tp::cli
