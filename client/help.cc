#include "client/help.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "client/commands.h"

namespace l2tp::cli {
namespace {

std::string FlagLabel(const FlagSpec& f) {
  std::string label = f.short_name ? absl::StrCat("-", std::string(1, f.short_name), ", ")
                                   : std::string("    ");
  absl::StrAppend(&label, "--", f.name);
  if (f.takes_value) absl::StrAppend(&label, " ", f.value_name);
  return label;
}

std::string FlagList(const std::vector<FlagSpec>& flags) {
  size_t width = 0;
  for (const auto& f : flags) width = std::max(width, FlagLabel(f).size());
  std::string out;
  for (const auto& f : flags) {
    std::string label = FlagLabel(f);
    absl::StrAppend(&out, "  ", label, std::string(width - label.size() + 3, ' '), f.help, "\n");
  }
  return out;
}

std::string Indented(const std::string& text) {
  std::string out;
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipEmpty()))
    absl::StrAppend(&out, "  ", line, "\n");
  return out;
}

}  // namespace

std::string TopLevelHelp() {
  std::string out =
      "l2tpctl controls l2tp-agent, the node's L2TPv3 tunnel and session manager.\n\n"
      "Usage: l2tpctl [global flags] COMMAND [args] [flags]\n\nCommands:\n";
  size_t width = 4;  // "help"
  for (const auto& c : AllCommands()) width = std::max(width, c.name.size());
  for (const auto& c : AllCommands())
    absl::StrAppend(&out, "  ", c.name, std::string(width - c.name.size() + 3, ' '), c.summary, "\n");
  absl::StrAppend(&out, "  help", std::string(width - 4 + 3, ' '), "Show help for a command\n");
  absl::StrAppend(&out, "\nGlobal flags:\n", FlagList(TopLevelFlags()),
                  "\nRun 'l2tpctl COMMAND --help' (or 'l2tpctl help COMMAND') for a command's "
                  "arguments and flags.\n");
  return out;
}

std::string CommandHelp(const CommandSpec& command) {
  std::string out = absl::StrCat(command.summary, "\n\nUsage: l2tpctl ", command.usage, "\n");
  if (!command.description.empty()) absl::StrAppend(&out, "\n", command.description, "\n");
  std::vector<FlagSpec> flags = command.flags;
  flags.push_back({"help", 'h', false, "", "show this help"});
  absl::StrAppend(&out, "\nFlags:\n", FlagList(flags));
  std::vector<FlagSpec> global;
  for (const auto& f : GlobalFlags())
    if (f.name != "help") global.push_back(f);
  absl::StrAppend(&out, "\nGlobal flags:\n", FlagList(global));
  if (!command.examples.empty()) absl::StrAppend(&out, "\nExamples:\n", Indented(command.examples));
  return out;
}

}  // namespace l2tp::cli
