// A small command-line flag parser: `--flag value`, `--flag=value`, `-o x`,
// `-ox`, `-o=x`, boolean `--flag` / `--flag=false`, positional arguments and
// `--` to end flags. Subcommands are handled by parsing in two passes (global
// flags up to the command name, then the command's own flags).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace l2tp::cli {

struct FlagSpec {
  std::string name;     // long name without dashes, e.g. "output"
  char short_name = 0;  // e.g. 'o'; 0 for none
  bool takes_value = false;
  std::string value_name;  // shown in help, e.g. "FORMAT"
  std::string help;
};

struct ParsedArgs {
  std::map<std::string, std::string> values;  // by long name; booleans hold "true"/"false"
  std::vector<std::string> positionals;
  std::vector<std::string> rest;  // unparsed tail when stopping at the first positional

  bool Has(const std::string& name) const { return values.count(name) > 0; }
  std::string Get(const std::string& name, const std::string& fallback = "") const;
  bool GetBool(const std::string& name) const;  // absent or "false" -> false
};

// Parses `args` against `flags`. With `stop_at_first_positional`, the first
// positional argument and everything after it land in `rest` unparsed.
// Errors (unknown flag, missing value, bad boolean) name the flag.
absl::StatusOr<ParsedArgs> ParseArgs(const std::vector<std::string>& args, const std::vector<FlagSpec>& flags,
                                     bool stop_at_first_positional = false);

}  // namespace l2tp::cli
