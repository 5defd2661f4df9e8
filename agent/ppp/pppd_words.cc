#include "agent/ppp/pppd_words.h"

#include "absl/strings/str_cat.h"
#include "agent/ppp/absl_view.h"

namespace l2tp::ppp {
namespace {

constexpr int kEnd = -1;

// isspace() in the C locale, as pppd runs.
bool IsSpace(int c) { return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'; }
bool IsOctal(int c) { return c >= '0' && c <= '7'; }
int HexDigit(int c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// The text as a stream of bytes with the line of the last one read.
class Reader {
 public:
  explicit Reader(std::string_view text) : text_(text) {}
  int Next() {
    if (pos_ >= text_.size()) return kEnd;
    const int c = static_cast<unsigned char>(text_[pos_++]);
    if (c == '\n') ++line_;
    return c;
  }
  void Unget() {
    --pos_;
    if (text_[pos_] == '\n') --line_;
  }
  int line() const { return line_; }

 private:
  std::string_view text_;
  size_t pos_ = 0;
  int line_ = 1;
};

// The value of the escape that starts at `c` (the byte after the backslash);
// reads on as pppd does for \ooo and \xhh, leaving `c` at the next byte.
char Unescape(Reader& in, int& c) {
  int value = 0;
  switch (c) {
    case 'a': value = '\a'; break;
    case 'b': value = '\b'; break;
    case 'f': value = '\f'; break;
    case 'n': value = '\n'; break;
    case 'r': value = '\r'; break;
    case 's': value = ' '; break;
    case 't': value = '\t'; break;
    default:
      if (IsOctal(c)) {
        for (int n = 0; n < 3 && IsOctal(c); ++n) {
          value = (value << 3) + (c - '0');
          c = in.Next();
        }
        return static_cast<char>(value);
      }
      if (c == 'x') {
        c = in.Next();
        for (int n = 0; n < 2 && HexDigit(c) >= 0; ++n) {
          value = (value << 4) + HexDigit(c);
          c = in.Next();
        }
        return static_cast<char>(value);
      }
      value = c;
  }
  c = in.Next();
  return static_cast<char>(value);
}

}  // namespace

absl::Status CheckPppdValue(std::string_view field, std::string_view value, size_t max_bytes) {
  if (value.empty()) return absl::InvalidArgumentError(absl::StrCat(Av(field), ": must not be empty"));
  if (value.size() > max_bytes) {
    return absl::InvalidArgumentError(
        absl::StrCat(Av(field), ": is ", value.size(), " bytes long; pppd takes at most ", max_bytes));
  }
  for (char c : value) {
    if (c == '\0') return absl::InvalidArgumentError(absl::StrCat(Av(field), ": holds a NUL byte"));
    if (c == '\n' || c == '\r') {
      return absl::InvalidArgumentError(
          absl::StrCat(Av(field), ": holds a line break, which pppd's files cannot carry in a value"));
    }
  }
  return absl::OkStatus();
}

std::string QuotePppdWord(std::string_view value) {
  std::string out = "\"";
  for (char c : value) {
    if (c == '\\' || c == '"') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

absl::StatusOr<std::vector<PppdWord>> SplitPppdWords(std::string_view text) {
  std::vector<PppdWord> words;
  Reader in(text);
  for (bool first = true;; first = false) {
    // Whitespace and comments before the word; backslash-newline joins lines.
    bool newline = false;
    bool escape = false;
    bool comment = false;
    int c;
    for (;;) {
      c = in.Next();
      if (c == kEnd) break;
      if (c == '\n') {
        if (escape) {
          escape = false;
        } else {
          newline = true;
          comment = false;
        }
        continue;
      }
      if (comment) continue;
      if (escape) break;  // an escaped byte starts a word
      if (c == '\\') {
        escape = true;
        continue;
      }
      if (c == '#') {
        comment = true;
        continue;
      }
      if (!IsSpace(c)) break;
    }
    if (c == kEnd) {
      if (escape) {
        return absl::InvalidArgumentError(
            absl::StrCat("line ", in.line(), ": a backslash at the end escapes nothing"));
      }
      return words;
    }

    PppdWord word;
    word.line = in.line();
    word.starts_line = newline || first;
    int quoted = 0;
    int quote_line = 0;
    while (c != kEnd) {
      if (escape) {
        escape = false;
        if (c == '\n') {  // backslash-newline inside a word: nothing
          c = in.Next();
          continue;
        }
        word.text.push_back(Unescape(in, c));
        continue;
      }
      if (c == '\\') {
        escape = true;
        c = in.Next();
        continue;
      }
      if (quoted != 0) {
        if (c == quoted) {
          quoted = 0;
          c = in.Next();
          continue;
        }
      } else if (c == '"' || c == '\'') {
        quoted = c;
        quote_line = in.line();
        c = in.Next();
        continue;
      } else if (IsSpace(c) || c == '#') {
        in.Unget();
        break;
      }
      word.text.push_back(static_cast<char>(c));
      c = in.Next();
    }
    if (c == kEnd) {
      if (escape) {
        return absl::InvalidArgumentError(
            absl::StrCat("line ", in.line(), ": a backslash at the end escapes nothing"));
      }
      if (quoted != 0) {
        return absl::InvalidArgumentError(absl::StrCat("line ", quote_line, ": the quote (",
                                                       std::string(1, static_cast<char>(quoted)),
                                                       ") opened here is never closed"));
      }
      if (word.text.empty()) return words;  // pppd: no word before the end ("" included)
    }
    if (word.text.size() > kMaxPppdWordBytes) {
      return absl::InvalidArgumentError(absl::StrCat("line ", word.line, ": a word is ", word.text.size(),
                                                     " bytes long; pppd cuts words at ", kMaxPppdWordBytes));
    }
    words.push_back(std::move(word));
  }
}

}  // namespace l2tp::ppp
