#include "agent/ppp/pppd_secrets.h"

#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "agent/ppp/absl_view.h"
#include "agent/ppp/ipv4.h"
#include "agent/ppp/pppd_words.h"

namespace l2tp::ppp {
namespace {

// *, -, or [!]a.b.c.d[/n[+]] (man pppd, AUTHENTICATION). pppd also takes
// host names; we do not, so that nothing is looked up.
bool IsAddressWord(std::string_view word) {
  if (word == "*" || word == "-") return true;
  if (!word.empty() && word.front() == '!') word.remove_prefix(1);
  bool plus = false;
  if (!word.empty() && word.back() == '+') {
    plus = true;
    word.remove_suffix(1);
  }
  const size_t slash = word.find('/');
  if (!ParseIpv4(word.substr(0, slash))) return false;
  if (slash == std::string_view::npos) return !plus;  // + only follows /n
  const std::string_view bits = word.substr(slash + 1);
  int n = 0;
  return !bits.empty() && bits.size() <= 2 &&
         bits.find_first_not_of("0123456789") == std::string_view::npos && absl::SimpleAtoi(Av(bits), &n) &&
         n <= 32;
}

std::string Quoted(std::string_view word) { return absl::StrCat("\"", absl::CHexEscape(Av(word)), "\""); }

// One entry: the words from one that starts a line to the next such.
absl::Status CheckEntry(std::string_view field, const std::vector<PppdWord>& words, size_t begin,
                        size_t end) {
  const int line = words[begin].line;
  auto error = [&](std::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat(Av(field), ": line ", line, ": ", Av(why)));
  };
  for (size_t i = begin; i < end; ++i) {
    if (words[i].text.find('\0') != std::string::npos) return error("a word holds a NUL byte");
  }
  if (end - begin < 3) {
    return error(absl::StrCat("want client server secret address..., got ", end - begin,
                              end - begin == 1 ? " word" : " words", " (pppd skips such a line)"));
  }
  const std::string& client = words[begin].text;
  const std::string& server = words[begin + 1].text;
  const std::string& secret = words[begin + 2].text;
  if (client.size() > kMaxUserBytes) {
    return error(absl::StrCat("the client name is longer than ", kMaxUserBytes, " bytes"));
  }
  if (server.size() > kMaxUserBytes) {
    return error(absl::StrCat("the server name is longer than ", kMaxUserBytes, " bytes"));
  }
  if (secret.size() > kMaxPasswordBytes) {
    return error(absl::StrCat("the secret is longer than ", kMaxPasswordBytes, " bytes (pppd would cut it)"));
  }
  if (secret.rfind("@/", 0) == 0) {
    return error(
        "the secret names a file (@/...), which pppd would read as root; put the secret itself in the file");
  }
  if (end - begin == 3) {
    return error(absl::StrCat("no address list: pppd would let client ", Quoted(client),
                              " use no IP address at all; add * (any) or the addresses it may use"));
  }
  for (size_t i = begin + 3; i < end; ++i) {
    const std::string& word = words[i].text;
    if (word == "--") {
      return error("\"--\" starts pppd options, which a secrets file may not give here");
    }
    if (!IsAddressWord(word)) {
      return error(absl::StrCat("address ", Quoted(word),
                                ": want *, -, or an IPv4 address or subnet (a.b.c.d, a.b.c.d/n, "
                                "a.b.c.d/n+; ! before one excludes it)"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status CheckSecretsText(std::string_view field, std::string_view text) {
  absl::StatusOr<std::vector<PppdWord>> words = SplitPppdWords(text);
  if (!words.ok()) return absl::InvalidArgumentError(absl::StrCat(Av(field), ": ", words.status().message()));
  if (words->empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(Av(field), ": holds no secrets (every line is empty or a comment)"));
  }
  size_t begin = 0;
  for (size_t i = 1; i <= words->size(); ++i) {
    if (i < words->size() && !(*words)[i].starts_line) continue;
    if (absl::Status s = CheckEntry(field, *words, begin, i); !s.ok()) return s;
    begin = i;
  }
  return absl::OkStatus();
}

absl::StatusOr<PppdSecretsFiles> BuildSecretsFiles(const PppOptions& options) {
  if (absl::Status s = ValidatePppOptions(options); !s.ok()) return s;
  PppdSecretsFiles files;
  if (options.side == PppSide::kLns && options.authentication == PppAuthentication::kNone) {
    files.chap_secrets = "# Written by l2tp-agent for one call: authentication NONE, no secrets.\n";
  } else if (options.side == PppSide::kLns) {
    files.chap_secrets = options.secrets;
  } else {
    files.chap_secrets = absl::StrCat("# Written by l2tp-agent for one call; removed when the call ends.\n",
                                      QuotePppdWord(options.user), " * ", QuotePppdWord(options.password),
                                      " *\n");
  }
  files.pap_secrets = files.chap_secrets;
  return files;
}

}  // namespace l2tp::ppp
