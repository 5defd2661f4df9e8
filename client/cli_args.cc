#include "client/cli_args.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace l2tp::cli {
namespace {

const FlagSpec* FindLong(const std::vector<FlagSpec>& flags, const std::string& name) {
  for (const auto& f : flags)
    if (f.name == name) return &f;
  return nullptr;
}

const FlagSpec* FindShort(const std::vector<FlagSpec>& flags, char c) {
  for (const auto& f : flags)
    if (f.short_name != 0 && f.short_name == c) return &f;
  return nullptr;
}

absl::StatusOr<std::string> BoolValue(const std::string& shown, const std::string& text) {
  if (text == "true" || text == "1") return std::string("true");
  if (text == "false" || text == "0") return std::string("false");
  return absl::InvalidArgumentError(absl::StrCat(shown, ": want true or false, got \"", text, "\""));
}

}  // namespace

std::string ParsedArgs::Get(const std::string& name, const std::string& fallback) const {
  auto it = values.find(name);
  return it == values.end() ? fallback : it->second;
}

bool ParsedArgs::GetBool(const std::string& name) const { return Get(name) == "true"; }

absl::StatusOr<ParsedArgs> ParseArgs(const std::vector<std::string>& args, const std::vector<FlagSpec>& flags,
                                     bool stop_at_first_positional) {
  ParsedArgs out;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--") {
      auto& dest = stop_at_first_positional ? out.rest : out.positionals;
      dest.insert(dest.end(), args.begin() + i + 1, args.end());
      break;
    }
    // "-" alone means stdin and is an ordinary argument.
    if (arg.size() < 2 || arg[0] != '-') {
      if (stop_at_first_positional) {
        out.rest.assign(args.begin() + i, args.end());
        break;
      }
      out.positionals.push_back(arg);
      continue;
    }

    const FlagSpec* spec = nullptr;
    std::string shown;  // the flag as the user wrote it, for errors
    std::string inline_value;
    bool has_inline_value = false;
    if (arg[1] == '-') {
      std::string body = arg.substr(2);
      size_t eq = body.find('=');
      if (eq != std::string::npos) {
        inline_value = body.substr(eq + 1);
        has_inline_value = true;
        body.resize(eq);
      }
      shown = "--" + body;
      spec = FindLong(flags, body);
    } else {
      shown = arg.substr(0, 2);
      spec = FindShort(flags, arg[1]);
      if (arg.size() > 2) {  // -ojson or -o=json
        inline_value = arg.substr(arg[2] == '=' ? 3 : 2);
        has_inline_value = true;
      }
    }
    if (spec == nullptr) return absl::InvalidArgumentError(absl::StrCat("unknown flag ", shown));

    if (!spec->takes_value) {
      if (!has_inline_value) {
        out.values[spec->name] = "true";
        continue;
      }
      auto b = BoolValue(shown, inline_value);
      if (!b.ok()) return b.status();
      out.values[spec->name] = *b;
      continue;
    }
    if (has_inline_value) {
      out.values[spec->name] = inline_value;
      continue;
    }
    if (i + 1 >= args.size()) {
      return absl::InvalidArgumentError(
          absl::StrCat("flag ", shown, " needs a value (", spec->value_name, ")"));
    }
    out.values[spec->name] = args[++i];
  }
  return out;
}

}  // namespace l2tp::cli
