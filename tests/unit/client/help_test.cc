// Every command has help, reachable three ways; bad command lines exit 2.
#include "client/help.h"

#include "client/commands.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/unit/client/cli_test_support.h"

namespace l2tp::cli {
namespace {

using ::testing::HasSubstr;
using testing::RunCliForTest;

TEST(HelpTest, TopLevelListsEveryCommand) {
  for (const auto& args : std::vector<std::vector<std::string>>{{"--help"}, {"-h"}, {"help"}}) {
    auto r = RunCliForTest(args);
    EXPECT_EQ(r.code, 0) << args[0];
    EXPECT_EQ(r.err, "");
    EXPECT_THAT(r.out, HasSubstr("Usage: l2tpctl"));
    for (const auto& c : AllCommands()) EXPECT_THAT(r.out, HasSubstr("  " + c.name + " "));
    EXPECT_THAT(r.out, HasSubstr("--socket PATH"));
  }
}

TEST(HelpTest, EveryCommandHasHelpThreeWays) {
  ASSERT_EQ(AllCommands().size(), 7u);
  for (const auto& c : AllCommands()) {
    EXPECT_FALSE(c.summary.empty()) << c.name;
    EXPECT_FALSE(c.description.empty()) << c.name;
    EXPECT_FALSE(c.examples.empty()) << c.name;
    std::string expected = CommandHelp(c);
    EXPECT_THAT(expected, HasSubstr("Usage: l2tpctl " + c.name));
    for (const auto& f : c.flags) EXPECT_THAT(expected, HasSubstr("--" + f.name)) << c.name;
    for (const auto& args : std::vector<std::vector<std::string>>{
             {c.name, "--help"}, {c.name, "-h"}, {"help", c.name}, {"--help", c.name}}) {
      auto r = RunCliForTest(args);
      EXPECT_EQ(r.code, 0) << c.name;
      EXPECT_EQ(r.out, expected) << c.name;
      EXPECT_EQ(r.err, "");
    }
  }
}

TEST(HelpTest, HelpWinsOverMissingArguments) {
  auto r = RunCliForTest({"delete", "--help"});
  EXPECT_EQ(r.code, 0);
  EXPECT_THAT(r.out, HasSubstr("--cascade"));
}

TEST(HelpTest, UnknownCommandExits2WithHint) {
  auto r = RunCliForTest({"frobnicate"});
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err, "error: unknown command \"frobnicate\"\nRun 'l2tpctl --help' for usage.\n");
  EXPECT_EQ(RunCliForTest({"help", "frobnicate"}).code, 2);
}

TEST(HelpTest, NoCommandExits2) {
  auto r = RunCliForTest({});
  EXPECT_EQ(r.code, 2);
  EXPECT_THAT(r.err, HasSubstr("no command given"));
}

TEST(HelpTest, UnknownFlagsExit2WithCommandHint) {
  auto r = RunCliForTest({"get", "tunnels", "--bogus"});
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err, "error: unknown flag --bogus\nRun 'l2tpctl get --help' for usage.\n");
  r = RunCliForTest({"--bogus", "get"});
  EXPECT_EQ(r.code, 2);
  EXPECT_THAT(r.err, HasSubstr("unknown flag --bogus"));
}

TEST(HelpTest, BadGlobalFlagValueExits2) {
  auto r = RunCliForTest({"--timeout", "soon", "info"});
  EXPECT_EQ(r.code, 2);
  EXPECT_THAT(r.err, HasSubstr("--timeout"));
}

TEST(HelpTest, Version) {
  auto r = RunCliForTest({"--version"});
  EXPECT_EQ(r.code, 0);
  EXPECT_THAT(r.out, HasSubstr("l2tpctl "));
}

}  // namespace
}  // namespace l2tp::cli
