#include "agent/ppp/pppd_words.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <random>

namespace l2tp::ppp {
namespace {

using ::testing::HasSubstr;

std::vector<std::string> Texts(std::string_view file) {
  absl::StatusOr<std::vector<PppdWord>> words = SplitPppdWords(file);
  EXPECT_TRUE(words.ok()) << words.status();
  std::vector<std::string> out;
  if (words.ok()) {
    for (const PppdWord& w : *words) out.push_back(w.text);
  }
  return out;
}

TEST(PppdWords, QuoteEscapesOnlyBackslashAndDoubleQuote) {
  EXPECT_EQ(QuotePppdWord("alice"), "\"alice\"");
  EXPECT_EQ(QuotePppdWord("pa ss\"w\\ord#x'y\tz"), "\"pa ss\\\"w\\\\ord#x'y\tz\"");
}

TEST(PppdWords, QuotedValuesReadBackUnchanged) {
  const std::string values[] = {
      "alice",
      "with space",
      "tab\there",
      "quote\"inside",
      "back\\slash",
      "\\n is not a newline",
      "# not a comment",
      "it's",
      "\\",
      "\"",
      "\xff\x80 bytes",
      "trailing\\",
      "--",
      "*",
      "@not/a/file",
  };
  for (const std::string& v : values) {
    ASSERT_TRUE(CheckPppdValue("v", v, 1023).ok()) << v;
    EXPECT_THAT(Texts(QuotePppdWord(v) + "\n"), ::testing::ElementsAre(v)) << v;
  }
}

TEST(PppdWords, RandomValuesReadBackUnchanged) {
  std::mt19937 random(14);
  std::uniform_int_distribution<int> byte(1, 255);
  std::uniform_int_distribution<int> length(1, 64);
  for (int i = 0; i < 2000; ++i) {
    std::string v;
    for (int n = length(random); n > 0; --n) {
      const char c = static_cast<char>(byte(random));
      if (c != '\n' && c != '\r') v.push_back(c);
    }
    if (v.empty()) continue;
    // Two words on a line, as in a secrets file.
    EXPECT_THAT(Texts(QuotePppdWord(v) + " " + QuotePppdWord(v) + "\n"), ::testing::ElementsAre(v, v));
  }
}

TEST(PppdWords, CheckRefusesWhatCannotBeWrittenAndNamesTheField) {
  EXPECT_THAT(CheckPppdValue("user", "x\nplugin evil.so", 255).message(),
              "user: holds a line break, which pppd's files cannot carry in a value");
  EXPECT_THAT(CheckPppdValue("user", "x\rplugin", 255).message(), HasSubstr("user: holds a line break"));
  EXPECT_EQ(CheckPppdValue("password", std::string("a\0b", 3), 256).message(), "password: holds a NUL byte");
  EXPECT_EQ(CheckPppdValue("user", "", 255).message(), "user: must not be empty");
  EXPECT_EQ(CheckPppdValue("user", std::string(256, 'a'), 255).message(),
            "user: is 256 bytes long; pppd takes at most 255");
  EXPECT_TRUE(CheckPppdValue("user", std::string(255, 'a'), 255).ok());
}

TEST(PppdWords, SplitsLikeGetword) {
  EXPECT_THAT(Texts("a b\t c # comment \"x\ny"), ::testing::ElementsAre("a", "b", "c", "y"));
  EXPECT_THAT(Texts("\"two words\" 'single \"q\"' mi\"x\"ed"),
              ::testing::ElementsAre("two words", "single \"q\"", "mixed"));
  EXPECT_THAT(Texts("\\s\\t\\101\\x41\\q\\\\"), ::testing::ElementsAre(" \tAAq\\"));
  EXPECT_THAT(Texts("word#comment\nnext"), ::testing::ElementsAre("word", "next"));
  EXPECT_THAT(Texts("\"#in quotes\""), ::testing::ElementsAre("#in quotes"));
  EXPECT_THAT(Texts("joined\\\nword"), ::testing::ElementsAre("joinedword"));
  EXPECT_THAT(Texts("\"\" x\n"), ::testing::ElementsAre("", "x"));
  EXPECT_THAT(Texts("x \"\""), ::testing::ElementsAre("x"));  // pppd: no word before the end
}

TEST(PppdWords, LinesAndLineStarts) {
  absl::StatusOr<std::vector<PppdWord>> words = SplitPppdWords("a b\n# c\n\n  d \\\n e\n\"f\ng\" h\n");
  ASSERT_TRUE(words.ok()) << words.status();
  ASSERT_EQ(words->size(), 6u);
  const std::pair<int, bool> where[] = {{1, true}, {1, false}, {4, true}, {5, false}, {6, true}, {7, false}};
  for (size_t i = 0; i < words->size(); ++i) {
    EXPECT_EQ((*words)[i].line, where[i].first) << i;
    EXPECT_EQ((*words)[i].starts_line, where[i].second) << i;
  }
  EXPECT_EQ((*words)[4].text, "f\ng");
}

TEST(PppdWords, RefusesUnclosedQuotesTrailingEscapesAndLongWords) {
  EXPECT_EQ(SplitPppdWords("a\n\"open\nstill").status().message(),
            "line 2: the quote (\") opened here is never closed");
  EXPECT_EQ(SplitPppdWords("a \\").status().message(), "line 1: a backslash at the end escapes nothing");
  EXPECT_EQ(SplitPppdWords(std::string(1024, 'w')).status().message(),
            "line 1: a word is 1024 bytes long; pppd cuts words at 1023");
  EXPECT_TRUE(SplitPppdWords(std::string(1023, 'w')).ok());
}

}  // namespace
}  // namespace l2tp::ppp
