// `l2tpctl get KIND [NAME]`: list or show tunnels and sessions.
#include <ostream>

#include "client/commands.h"
#include "client/kind_arg.h"
#include "client/output_format.h"
#include "client/resource_tables.h"

namespace l2tp::cli {
namespace {

namespace v1 = ::l2tpagent::v1;

int GetOne(const CommandContext& ctx, v1::ResourceKind kind, const std::string& name, OutputFormat format) {
  v1::GetRequest request;
  request.set_kind(kind);
  request.set_name(name);
  v1::GetResponse response;
  if (int rc = ctx.Call(&Stub::Get, request, &response); rc != kExitOk) return rc;

  bool wide = format == OutputFormat::kWide;
  if (response.has_tunnel()) {
    if (format == OutputFormat::kJson || format == OutputFormat::kYaml) {
      *ctx.out << RenderMessage(response.tunnel(), format);
    } else {
      google::protobuf::RepeatedPtrField<v1::Tunnel> one;
      *one.Add() = response.tunnel();
      *ctx.out << TunnelTable(one, wide, ctx.now).Render();
    }
  } else if (response.has_session()) {
    if (format == OutputFormat::kJson || format == OutputFormat::kYaml) {
      *ctx.out << RenderMessage(response.session(), format);
    } else {
      google::protobuf::RepeatedPtrField<v1::Session> one;
      *one.Add() = response.session();
      *ctx.out << SessionTable(one, wide, ctx.now).Render();
    }
  } else {
    return ctx.Fail("the agent returned no resource for " + name);
  }
  return kExitOk;
}

int List(const CommandContext& ctx, v1::ResourceKind kind, OutputFormat format) {
  v1::ListRequest request;
  request.set_kind(kind);
  request.set_tunnel(ctx.flags.Get("tunnel"));
  v1::ListResponse response;
  if (int rc = ctx.Call(&Stub::List, request, &response); rc != kExitOk) return rc;

  if (format == OutputFormat::kJson || format == OutputFormat::kYaml) {
    // A Config, so the output can be fed back to `apply -f`.
    // Only the kind asked for, whatever else the agent sent along.
    v1::Config config;
    if (kind != v1::RESOURCE_KIND_SESSION) *config.mutable_tunnels() = response.tunnels();
    if (kind != v1::RESOURCE_KIND_TUNNEL) *config.mutable_sessions() = response.sessions();
    *ctx.out << RenderMessage(config, format);
    return kExitOk;
  }
  bool wide = format == OutputFormat::kWide;
  bool want_tunnels = kind != v1::RESOURCE_KIND_SESSION;
  bool want_sessions = kind != v1::RESOURCE_KIND_TUNNEL;
  bool printed = false;
  if (want_tunnels && !response.tunnels().empty()) {
    *ctx.out << TunnelTable(response.tunnels(), wide, ctx.now).Render();
    printed = true;
  }
  if (want_sessions && !response.sessions().empty()) {
    if (printed) *ctx.out << "\n";
    *ctx.out << SessionTable(response.sessions(), wide, ctx.now).Render();
    printed = true;
  }
  if (!printed) {
    // On stderr, like kubectl, so scripts reading stdout see nothing.
    *ctx.err << (kind == v1::RESOURCE_KIND_TUNNEL    ? "No tunnels found.\n"
                 : kind == v1::RESOURCE_KIND_SESSION ? "No sessions found.\n"
                                                     : "No resources found.\n");
  }
  return kExitOk;
}

int RunGet(const CommandContext& ctx) {
  if (ctx.args.empty()) return ctx.UsageError("missing KIND (tunnels, sessions or all)");
  if (ctx.args.size() > 2) return ctx.UsageError("unexpected argument \"" + ctx.args[2] + "\"");
  auto kind = ParseKindArg(ctx.args[0], /*allow_all=*/true);
  if (!kind.ok()) return ctx.UsageError(std::string(kind.status().message()));
  auto format = ParseOutputFormat(ctx.flags.Get("output"), {OutputFormat::kTable, OutputFormat::kWide,
                                                            OutputFormat::kJson, OutputFormat::kYaml});
  if (!format.ok()) return ctx.UsageError(std::string(format.status().message()));
  if (ctx.flags.Has("tunnel") && *kind == v1::RESOURCE_KIND_TUNNEL)
    return ctx.UsageError("--tunnel filters sessions; it does not apply to tunnels");

  if (ctx.args.size() == 2) {
    if (*kind == v1::RESOURCE_KIND_UNSPECIFIED)
      return ctx.UsageError("a NAME needs a kind: tunnel or session");
    if (ctx.flags.Has("tunnel")) return ctx.UsageError("--tunnel cannot be combined with NAME");
    return GetOne(ctx, *kind, ctx.args[1], *format);
  }
  return List(ctx, *kind, *format);
}

}  // namespace

CommandSpec GetCommand() {
  return {
      .name = "get",
      .summary = "List tunnels and sessions, or show one",
      .usage = "get tunnels|sessions|all [NAME] [-o table|wide|json|yaml] [--tunnel NAME]",
      .description =
          "Without NAME, lists every resource of the kind; with NAME, shows that one.\n"
          "KIND may be singular or plural. PHASE and AGE come from the resource's status:\n"
          "AGE is the time since the phase last changed.\n"
          "DYNAMIC tunnels and their sessions add CONTROL (\"static\", or the control\n"
          "state: ESTABLISHED, DOWN, ...); tunnels also PEER (host name/tunnel id), and\n"
          "-o wide ROLE, HELLO-RTT, RETRANS (sessions: REMOTE-END-ID). Ids the spec\n"
          "leaves 0 show as the agent picked or learned them.\n"
          "PPP sessions add PPP-PHASE, USER and ADDRESSES (local->peer) from their\n"
          "first call, and a row NAME#2, NAME#3, ... for each further call of an LNS.\n"
          "json and yaml print the proto3 JSON mapping; a listing prints a Config\n"
          "(tunnels: [...], sessions: [...]) that `l2tpctl apply -f` accepts back.",
      .flags = {{"output", 'o', true, "FORMAT", "table (default), wide (more columns), json or yaml"},
                {"tunnel", 0, true, "NAME", "only the sessions of this tunnel"}},
      .examples =
          "l2tpctl get tunnels\n"
          "l2tpctl get sessions --tunnel t1 -o wide\n"
          "l2tpctl get tunnel t1 -o yaml\n"
          "l2tpctl get all -o yaml > backup.yaml",
      .run = RunGet,
  };
}

}  // namespace l2tp::cli
