// `l2tpctl apply -f FILE`: send a Config and print the agent's plan.
#include <filesystem>
#include <iostream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "client/commands.h"
#include "client/output_format.h"
#include "client/plan_lines.h"
#include "common/config_file.h"

namespace l2tp::cli {
namespace {

namespace v1 = ::l2tpagent::v1;

absl::Status ReadConfig(const std::string& file, std::istream* in, v1::Config* config) {
  if (file != "-") {
    // A directory opens as an empty stream and would read as an empty Config.
    std::error_code ec;
    if (!std::filesystem::exists(file, ec)) return absl::NotFoundError(absl::StrCat(file, ": no such file"));
    if (std::filesystem::is_directory(file, ec))
      return absl::InvalidArgumentError(absl::StrCat(file, ": is a directory, not a config file"));
    return LoadConfigFile(file, config);
  }
  auto text = ReadConfigStream(*in, "<stdin>");  // bounded, like a file
  if (!text.ok()) return text.status();
  absl::Status st = ParseConfigText(*text, config);
  if (!st.ok()) return absl::InvalidArgumentError(absl::StrCat("<stdin>: ", st.message()));
  return st;
}

int RunApply(const CommandContext& ctx) {
  if (!ctx.args.empty()) return ctx.UsageError("unexpected argument \"" + ctx.args[0] + "\"");
  if (!ctx.flags.Has("filename")) return ctx.UsageError("-f FILE is required (\"-\" for stdin)");
  auto format = ParseOutputFormat(ctx.flags.Get("output"),
                                  {OutputFormat::kTable, OutputFormat::kJson, OutputFormat::kYaml});
  if (!format.ok()) return ctx.UsageError(std::string(format.status().message()));

  v1::Config config;
  absl::Status read = ReadConfig(ctx.flags.Get("filename"), ctx.in, &config);
  if (!read.ok()) return ctx.Fail(std::string(read.message()));

  // An empty file with --prune would delete everything: almost certainly the
  // wrong file. `l2tpctl delete` says it on purpose.
  if (ctx.flags.GetBool("prune") && config.tunnels().empty() && config.sessions().empty()) {
    std::string file = ctx.flags.Get("filename");
    return ctx.Fail(absl::StrCat(file == "-" ? "<stdin>" : file,
                                 ": no tunnels or sessions; with --prune that would delete "
                                 "everything (use l2tpctl delete for that)"));
  }

  v1::ApplyRequest request;
  *request.mutable_tunnels() = config.tunnels();
  *request.mutable_sessions() = config.sessions();
  request.set_dry_run(ctx.flags.GetBool("dry-run"));
  request.set_prune(ctx.flags.GetBool("prune"));

  v1::ApplyResponse response;
  if (int rc = ctx.Call(&Stub::Apply, request, &response); rc != kExitOk) return rc;

  if (*format != OutputFormat::kTable) {
    *ctx.out << RenderMessage(response, *format);
  } else if (response.plan().actions().empty()) {
    *ctx.err << "nothing to apply\n";
  } else {
    *ctx.out << PlanLines(response.plan(), request.dry_run());
  }
  return kExitOk;
}

}  // namespace

CommandSpec ApplyCommand() {
  return {
      .name = "apply",
      .summary = "Create or update tunnels and sessions from a file",
      .usage = "apply -f FILE [--dry-run] [--prune] [-o json|yaml]",
      .description =
          "FILE holds a Config message (tunnels: [...], sessions: [...]) in JSON or YAML,\n"
          "as `l2tpctl get -o yaml` prints it; status fields are ignored. The agent\n"
          "answers with its plan, printed one line per resource: created, configured\n"
          "(changed in place), replaced (deleted and created again), deleted or unchanged.",
      .flags = {{"filename", 'f', true, "FILE", "config file, JSON or YAML; - reads stdin"},
                {"dry-run", 0, false, "", "validate and show the plan, change nothing"},
                {"prune", 0, false, "", "delete every tunnel and session FILE does not mention"},
                {"output", 'o', true, "FORMAT",
                 "json or yaml: print the whole ApplyResponse instead of the plan"}},
      .examples =
          "l2tpctl apply -f tunnels.yaml\n"
          "l2tpctl apply -f tunnels.yaml --prune --dry-run\n"
          "l2tpctl get -o yaml | l2tpctl apply -f -",
      .run = RunApply,
  };
}

}  // namespace l2tp::cli
