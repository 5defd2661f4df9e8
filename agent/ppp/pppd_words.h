// pppd's word syntax, shared by its options files and its secrets files
// (pppd 2.4.9 options.c, getword): words are split at whitespace; "..." and
// '...' quote; a backslash escapes the next character (\n, \t, \ooo, \xhh
// and friends as in C, any other character stands for itself), also inside
// quotes; # starts a comment to the end of the line, outside quotes. A word
// is at most 1023 bytes (pppd cuts longer ones).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace l2tp::ppp {

inline constexpr size_t kMaxPppdWordBytes = 1023;

// Refuses a value that cannot be written as one pppd word and read back
// unchanged: a NUL (pppd's strings end there), a newline or a carriage return
// (a secrets file is read line by line), an empty value, or one longer than
// `max_bytes`. The error names `field` and says why, without the value
// (it may be a secret).
absl::Status CheckPppdValue(std::string_view field, std::string_view value, size_t max_bytes);

// `value` as one word pppd reads back as exactly `value`: in double quotes,
// with \ and " escaped. Whitespace, # and ' need nothing inside the quotes.
// Only for values CheckPppdValue accepted.
std::string QuotePppdWord(std::string_view value);

// One word as pppd's getword returns it.
struct PppdWord {
  std::string text;          // after quotes and escapes
  int line = 0;              // where the word starts, from 1
  bool starts_line = false;  // a newline came before it (or it is the first word)
};

// The words of `text`, read as pppd reads a file. Refused (pppd would warn
// and go on with something else): a quote or an escape running past the
// end, a word longer than kMaxPppdWordBytes.
absl::StatusOr<std::vector<PppdWord>> SplitPppdWords(std::string_view text);

}  // namespace l2tp::ppp
