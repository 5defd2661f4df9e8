#include "agent/ppp/pppd_secrets.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "agent/ppp/pppd_words.h"

namespace l2tp::ppp {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

PppOptions Lac() {
  PppOptions o;
  o.side = PppSide::kLac;
  o.interface = "ppp-lac0";
  o.user = "alice";
  o.password = "s3cret";
  return o;
}

PppOptions Lns(std::string secrets) {
  PppOptions o;
  o.side = PppSide::kLns;
  o.interface = "ppp-lns0";
  o.local_address = "10.0.0.1";
  o.remote_address = "10.0.0.2";
  o.authentication = PppAuthentication::kChap;
  o.secrets = std::move(secrets);
  return o;
}

TEST(PppdSecrets, LacGolden) {
  absl::StatusOr<PppdSecretsFiles> files = BuildSecretsFiles(Lac());
  ASSERT_TRUE(files.ok()) << files.status();
  EXPECT_EQ(files->chap_secrets,
            "# Written by l2tp-agent for one call; removed when the call ends.\n"
            "\"alice\" * \"s3cret\" *\n");
  EXPECT_EQ(files->pap_secrets, files->chap_secrets);
}

TEST(PppdSecrets, LacQuotesSpacesQuotesAndBackslashes) {
  PppOptions o = Lac();
  o.user = "alice smith";
  o.password = "pa ss\"wo\\rd #1 'x'";
  absl::StatusOr<PppdSecretsFiles> files = BuildSecretsFiles(o);
  ASSERT_TRUE(files.ok()) << files.status();
  EXPECT_EQ(files->chap_secrets,
            "# Written by l2tp-agent for one call; removed when the call ends.\n"
            "\"alice smith\" * \"pa ss\\\"wo\\\\rd #1 'x'\" *\n");
  // pppd reads back exactly the four words.
  absl::StatusOr<std::vector<PppdWord>> words = SplitPppdWords(files->chap_secrets);
  ASSERT_TRUE(words.ok()) << words.status();
  ASSERT_EQ(words->size(), 4u);
  EXPECT_EQ((*words)[0].text, o.user);
  EXPECT_EQ((*words)[1].text, "*");
  EXPECT_EQ((*words)[2].text, o.password);
  EXPECT_EQ((*words)[3].text, "*");
}

TEST(PppdSecrets, LacRefusesHostileValuesNamingTheFieldNotTheSecret) {
  PppOptions o = Lac();
  o.user = "x\nplugin evil.so";
  EXPECT_EQ(BuildSecretsFiles(o).status().message(),
            "user: holds a line break, which pppd's files cannot carry in a value");

  o = Lac();
  o.password = "hunter2\n* * other";
  absl::Status s = BuildSecretsFiles(o).status();
  EXPECT_EQ(s.message(), "password: holds a line break, which pppd's files cannot carry in a value");
  EXPECT_THAT(s.message(), Not(HasSubstr("hunter2")));

  o.password = std::string("hunter2\0x", 9);
  EXPECT_EQ(BuildSecretsFiles(o).status().message(), "password: holds a NUL byte");

  o.password = "@/etc/shadow";
  EXPECT_EQ(BuildSecretsFiles(o).status().message(),
            "password: starts with \"@/\", which pppd reads as the name of a file holding the secret");

  o = Lac();
  o.user = "*";
  EXPECT_EQ(BuildSecretsFiles(o).status().message(),
            "user: \"*\" is the secrets files' wildcard, not a name");
}

TEST(PppdSecrets, LnsWritesTheUsersTextAsGiven) {
  const std::string text =
      "# client  server  secret           addresses\n"
      "alice     *       \"correct horse\"  *\n"
      "\"bob smith\" lns   'x#y'            10.0.0.0/24 !10.0.0.9\n"
      "carol     *       \\\"quoted\\\"       10.0.0.2 10.1.0.0/16+\n"
      "dave      *       nopass           -\n";
  absl::StatusOr<PppdSecretsFiles> files = BuildSecretsFiles(Lns(text));
  ASSERT_TRUE(files.ok()) << files.status();
  EXPECT_EQ(files->chap_secrets, text);
  EXPECT_EQ(files->pap_secrets, text);
}

TEST(PppdSecrets, LnsWithoutAuthenticationHasNoSecrets) {
  PppOptions o = Lns("");
  o.authentication = PppAuthentication::kNone;
  absl::StatusOr<PppdSecretsFiles> files = BuildSecretsFiles(o);
  ASSERT_TRUE(files.ok()) << files.status();
  EXPECT_EQ(files->chap_secrets, "# Written by l2tp-agent for one call: authentication NONE, no secrets.\n");
  EXPECT_EQ(files->pap_secrets, files->chap_secrets);
  absl::StatusOr<std::vector<PppdWord>> words = SplitPppdWords(files->chap_secrets);
  ASSERT_TRUE(words.ok());
  EXPECT_TRUE(words->empty());
}

TEST(PppdSecrets, CheckRefusesWhatPppdWouldMisuseNamingTheLine) {
  struct Case {
    std::string text;
    std::string error;
  };
  const Case cases[] = {
      {"alice * pw * -- plugin evil.so\n",
       "secrets: line 1: \"--\" starts pppd options, which a secrets file may not give here"},
      {"ok * pw *\nalice * @/etc/shadow *\n",
       "secrets: line 2: the secret names a file (@/...), which pppd would read as root; put the secret "
       "itself in the file"},
      {"alice * pw\n",
       "secrets: line 1: no address list: pppd would let client \"alice\" use no IP address at all; add * "
       "(any) or the addresses it may use"},
      {"\n\nalice *\n",
       "secrets: line 3: want client server secret address..., got 2 words (pppd skips such a line)"},
      {"alice * pw somehost\n",
       "secrets: line 1: address \"somehost\": want *, -, or an IPv4 address or subnet (a.b.c.d, a.b.c.d/n, "
       "a.b.c.d/n+; ! before one excludes it)"},
      {"alice * pw 10.0.0.1+\n",
       "secrets: line 1: address \"10.0.0.1+\": want *, -, or an IPv4 address or "
       "subnet (a.b.c.d, a.b.c.d/n, a.b.c.d/n+; ! before one excludes it)"},
      {"alice * pw 10.0.0.0/33\n",
       "secrets: line 1: address \"10.0.0.0/33\": want *, -, or an IPv4 address "
       "or subnet (a.b.c.d, a.b.c.d/n, a.b.c.d/n+; ! before one excludes it)"},
      {"alice * \"pw *\n", "secrets: line 1: the quote (\") opened here is never closed"},
      {"alice * pw\\000x *\n", "secrets: line 1: a word holds a NUL byte"},
      {"# nothing\n\n   # at all\n", "secrets: holds no secrets (every line is empty or a comment)"},
      {"", "secrets: holds no secrets (every line is empty or a comment)"},
      {"alice * " + std::string(257, 'p') + " *\n",
       "secrets: line 1: the secret is longer than 256 bytes (pppd would cut it)"},
      {std::string(256, 'c') + " * pw *\n", "secrets: line 1: the client name is longer than 255 bytes"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(CheckSecretsText("secrets", c.text).message(), c.error) << c.text;
    EXPECT_EQ(BuildSecretsFiles(Lns(c.text)).status().message(), c.error) << c.text;
  }
}

TEST(PppdSecrets, CheckAcceptsContinuedLinesAndQuotedNewlinesAsPppdReadsThem) {
  // A backslash-newline continues the line: still one entry of four words.
  EXPECT_TRUE(CheckSecretsText("secrets", "alice * pw \\\n *\n").ok());
  EXPECT_TRUE(CheckSecretsText("secrets", "alice * pw *").ok());  // no final newline
}

}  // namespace
}  // namespace l2tp::ppp
