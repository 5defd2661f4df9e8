// `l2tpctl delete tunnel|session NAME`
#include <ostream>

#include "client/commands.h"
#include "client/display_names.h"
#include "client/kind_arg.h"
#include "client/output_format.h"
#include "client/plan_lines.h"

namespace l2tp::cli {
namespace {

namespace v1 = ::l2tpagent::v1;

int RunDelete(const CommandContext& ctx) {
  if (ctx.args.size() < 2) return ctx.UsageError("want KIND and NAME, e.g. delete tunnel t1");
  if (ctx.args.size() > 2) return ctx.UsageError("unexpected argument \"" + ctx.args[2] + "\"");
  auto kind = ParseKindArg(ctx.args[0], /*allow_all=*/false);
  if (!kind.ok()) return ctx.UsageError(std::string(kind.status().message()));
  auto format = ParseOutputFormat(ctx.flags.Get("output"),
                                  {OutputFormat::kTable, OutputFormat::kJson, OutputFormat::kYaml});
  if (!format.ok()) return ctx.UsageError(std::string(format.status().message()));
  if (ctx.flags.GetBool("cascade") && *kind != v1::RESOURCE_KIND_TUNNEL)
    return ctx.UsageError("--cascade applies to tunnels only");

  v1::DeleteRequest request;
  request.set_kind(*kind);
  request.set_name(ctx.args[1]);
  request.set_resource_version(ctx.flags.Get("resource-version"));
  request.set_cascade(ctx.flags.GetBool("cascade"));

  v1::DeleteResponse response;
  if (int rc = ctx.Call(&Stub::Delete, request, &response); rc != kExitOk) return rc;

  if (*format != OutputFormat::kTable) {
    *ctx.out << RenderMessage(response, *format);
  } else if (response.plan().actions().empty()) {
    *ctx.out << ResourceRef(*kind, request.name()) << " deleted\n";
  } else {
    // With --cascade the plan also lists the tunnel's sessions.
    *ctx.out << PlanLines(response.plan(), /*dry_run=*/false);
  }
  return kExitOk;
}

}  // namespace

CommandSpec DeleteCommand() {
  return {
      .name = "delete",
      .summary = "Delete a tunnel or a session",
      .usage = "delete tunnel|session NAME [--cascade] [--resource-version V]",
      .description =
          "A tunnel that still has sessions is only deleted with --cascade, which deletes\n"
          "its sessions too. --resource-version makes the delete fail (ABORTED) if the\n"
          "resource changed since you read it.",
      .flags = {{"cascade", 0, false, "", "deleting a tunnel also deletes its sessions"},
                {"resource-version", 0, true, "V", "only delete if the stored resource version is V"},
                {"output", 'o', true, "FORMAT", "json or yaml: print the DeleteResponse"}},
      .examples =
          "l2tpctl delete session s1\n"
          "l2tpctl delete tunnel t1 --cascade",
      .run = RunDelete,
  };
}

}  // namespace l2tp::cli
