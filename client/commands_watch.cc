// `l2tpctl watch`: stream resource events until interrupted.
#include <ostream>

#include "client/commands.h"
#include "client/output_format.h"
#include "client/watch_lines.h"
#include "common/config_file.h"

namespace l2tp::cli {
namespace {

namespace v1 = ::l2tpagent::v1;

// Each event is flushed at once: readers follow the output through a pipe.
void PrintEvent(const v1::WatchEvent& event, OutputFormat format, std::ostream& out) {
  switch (format) {
    case OutputFormat::kJson: out << ToJson(event, /*pretty=*/false) << "\n"; break;
    case OutputFormat::kYaml: out << "---\n" << ToYaml(event); break;
    default: out << WatchEventLine(event) << "\n";
  }
  out.flush();
}

int RunWatch(const CommandContext& ctx) {
  if (!ctx.args.empty()) return ctx.UsageError("unexpected argument \"" + ctx.args[0] + "\"");
  auto format = ParseOutputFormat(ctx.flags.Get("output"),
                                  {OutputFormat::kTable, OutputFormat::kJson, OutputFormat::kYaml});
  if (!format.ok()) return ctx.UsageError(std::string(format.status().message()));

  Connection connection(ctx.connection);
  grpc::ClientContext call;
  // Unbounded unless --timeout was given; then it is how long to watch.
  if (ctx.connection.timeout_set) connection.SetDeadline(&call);
  auto reader = connection.stub().Watch(&call, v1::WatchRequest());
  v1::WatchEvent event;
  bool received = false;
  while (reader->Read(&event)) {
    received = true;
    PrintEvent(event, *format, *ctx.out);
  }
  grpc::Status status = reader->Finish();
  if (status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED && ctx.connection.timeout_set)
    return kExitOk;
  if (status.ok()) return kExitOk;
  // Once events arrived we were connected: the agent went away (e.g. it was
  // stopped), which "cannot connect" would misdescribe.
  if (received) return ctx.Fail("the watch ended: " + Connection::StatusText(status));
  return ctx.RpcFailed(connection, status);
}

}  // namespace

CommandSpec WatchCommand() {
  return {
      .name = "watch",
      .summary = "Stream tunnel and session events",
      .usage = "watch [-o table|json|yaml]",
      .description =
          "Prints the current resources as ADDED events, then \"--- synced ---\", then\n"
          "every change as it happens, until interrupted (or until --timeout, which\n"
          "ends the watch successfully). Lines read:\n"
          "  MODIFIED tunnel/t1 phase=READY gen=2 <status message>\n"
          "DYNAMIC tunnels and their sessions add the control state:\n"
          "  MODIFIED tunnel/t2 phase=READY control=ESTABLISHED gen=1 <status message>\n"
          "json prints one compact JSON WatchEvent per line; yaml one document per event.",
      .flags = {{"output", 'o', true, "FORMAT", "table (one line per event, default), json or yaml"}},
      .examples =
          "l2tpctl watch\n"
          "l2tpctl --timeout 30s watch -o json",
      .run = RunWatch,
  };
}

}  // namespace l2tp::cli
