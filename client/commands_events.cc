// `l2tpctl events`: what the agent recently did or saw (created, adopted,
// repaired, failed with the reason, control connections and sessions going
// up or down, ...), newest first.
#include <ostream>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/time/clock.h"
#include "client/age.h"
#include "client/commands.h"
#include "client/display_names.h"
#include "client/output_format.h"
#include "client/table.h"

namespace l2tp::cli {

namespace v1 = ::l2tpagent::v1;

std::string RenderEvents(const v1::ListEventsResponse& events, absl::Time now) {
  Table table({"AGE", "REASON", "RESOURCE", "MESSAGE"});
  for (const auto& e : events.events()) {
    table.AddRow({FormatAgeSince(e.time(), now), EventReasonName(e.reason()), ResourceRef(e.kind(), e.name()),
                  e.message()});
  }
  return table.Render();
}

namespace {

int RunEvents(const CommandContext& ctx) {
  if (!ctx.args.empty()) return ctx.UsageError("unexpected argument \"" + ctx.args[0] + "\"");
  auto format = ParseOutputFormat(ctx.flags.Get("output"),
                                  {OutputFormat::kTable, OutputFormat::kJson, OutputFormat::kYaml});
  if (!format.ok()) return ctx.UsageError(std::string(format.status().message()));
  v1::ListEventsRequest request;
  if (const std::string limit = ctx.flags.Get("limit"); !limit.empty()) {
    uint32_t n = 0;
    if (!absl::SimpleAtoi(limit, &n))
      return ctx.UsageError("--limit: must be a whole number, got \"" + limit + "\"");
    request.set_limit(n);
  }
  v1::ListEventsResponse response;
  if (int rc = ctx.Call(&Stub::ListEvents, request, &response); rc != kExitOk) return rc;
  if (*format != OutputFormat::kTable) {
    *ctx.out << RenderMessage(response, *format);
  } else if (response.events().empty()) {
    *ctx.err << "No events.\n";
  } else {
    *ctx.out << RenderEvents(response, ctx.now);
  }
  return kExitOk;
}

}  // namespace

CommandSpec EventsCommand() {
  return {
      .name = "events",
      .summary = "Show what the agent recently did: created, adopted, repaired, failed",
      .usage = "events [--limit N] [-o table|json|yaml]",
      .description =
          "Lists the agent's most recent events, newest first: resources created,\n"
          "changed in place, deleted, adopted from the datapath without changes,\n"
          "repaired after drifting, and datapath operations that failed, with the\n"
          "reason. CONTROL events are DYNAMIC tunnels' control connections and\n"
          "sessions changing state (established, stopped by the peer, ...); PPP\n"
          "events are PPP calls' links changing phase and calls ending, with why.\n"
          "The agent keeps the last --event-history events (default 1000).",
      .flags = {{"output", 'o', true, "FORMAT", "table (default), json or yaml"},
                {"limit", 0, true, "N", "at most N events (default: all kept)"}},
      .examples =
          "l2tpctl events\n"
          "l2tpctl events --limit 20 -o json",
      .run = RunEvents,
  };
}

}  // namespace l2tp::cli
