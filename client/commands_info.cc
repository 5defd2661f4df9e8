// `l2tpctl info`: what the agent runs with.
#include <ostream>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "client/commands.h"
#include "client/version.h"
#include "client/output_format.h"

namespace l2tp::cli {
namespace {

namespace v1 = ::l2tpagent::v1;

std::string RenderInfo(const v1::GetInfoResponse& info) {
  std::vector<std::pair<std::string, std::string>> fields = {
      {"Agent version", info.version().empty() ? "<unknown>" : info.version()},
      {"Client version", kClientVersion},
      {"Datapath", info.datapath().empty() ? "<none>" : info.datapath()},
      {"Datapath message", info.datapath_message()},
      {"Kernel L2TP", info.kernel_l2tp_available() ? "available" : "not available"},
      {"Capabilities", info.capabilities().empty() ? "<none>" : absl::StrJoin(info.capabilities(), ", ")},
      {"Tunnels", absl::StrCat(info.tunnels())},
      {"Sessions", absl::StrCat(info.sessions())},
  };
  size_t width = 0;
  for (const auto& [label, value] : fields) width = std::max(width, label.size() + 1);
  std::string out;
  for (const auto& [label, value] : fields) {
    std::string line = absl::StrCat(label, ":", std::string(width - label.size() + 1, ' '), value);
    line.erase(line.find_last_not_of(' ') + 1);
    absl::StrAppend(&out, line, "\n");
  }
  return out;
}

int RunInfo(const CommandContext& ctx) {
  if (!ctx.args.empty()) return ctx.UsageError("unexpected argument \"" + ctx.args[0] + "\"");
  auto format = ParseOutputFormat(ctx.flags.Get("output"),
                                  {OutputFormat::kTable, OutputFormat::kJson, OutputFormat::kYaml});
  if (!format.ok()) return ctx.UsageError(std::string(format.status().message()));

  v1::GetInfoResponse response;
  if (int rc = ctx.Call(&Stub::GetInfo, v1::GetInfoRequest(), &response); rc != kExitOk) return rc;
  *ctx.out << (*format == OutputFormat::kTable ? RenderInfo(response) : RenderMessage(response, *format));
  return kExitOk;
}

}  // namespace

CommandSpec InfoCommand() {
  return {
      .name = "info",
      .summary = "Show the agent's version, datapath and capabilities",
      .usage = "info [-o table|json|yaml]",
      .description =
          "Datapath is the backend in use (kernel, userspace, memory or none); the\n"
          "datapath message says why it was chosen. Kernel L2TP tells whether the\n"
          "kernel's l2tp generic-netlink family is available on this node.",
      .flags = {{"output", 'o', true, "FORMAT", "table (default), json or yaml"}},
      .examples =
          "l2tpctl info\n"
          "l2tpctl --socket /tmp/agent.sock info -o json",
      .run = RunInfo,
  };
}

}  // namespace l2tp::cli
