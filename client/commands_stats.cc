// `l2tpctl stats [KIND] [NAME]`: datapath counters from the resources' status.
#include <ostream>

#include "absl/strings/str_cat.h"
#include "client/commands.h"
#include "client/kind_arg.h"
#include "client/output_format.h"
#include "client/resource_tables.h"
#include "common/config_file.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/descriptor.h"

namespace l2tp::cli {
namespace {

namespace v1 = ::l2tpagent::v1;

struct CounterRow {
  v1::ResourceKind kind;
  std::string name;
  v1::Counters counters;
};

std::string JsonString(const std::string& s) {
  google::protobuf::Value v;
  v.set_string_value(s);
  return ToJson(v, /*pretty=*/false);
}

// Every counter, zeros included (a missing key would read as "unknown"), as
// JSON numbers so that jq can compare them; names follow the proto3 mapping.
std::string CountersJson(const v1::Counters& counters) {
  const auto* descriptor = counters.GetDescriptor();
  const auto* reflection = counters.GetReflection();
  std::string out = "{";
  for (int i = 0; i < descriptor->field_count(); ++i) {
    const auto* field = descriptor->field(i);
    if (i > 0) out += ",";
    absl::StrAppend(&out, JsonString(field->json_name()), ":", reflection->GetUInt64(counters, field));
  }
  return out + "}";
}

// {"tunnels":[{"name":"t1","counters":{...}}],"sessions":[...]}
std::string StatsJson(const std::vector<CounterRow>& rows) {
  std::string out = "{";
  for (auto kind : {v1::RESOURCE_KIND_TUNNEL, v1::RESOURCE_KIND_SESSION}) {
    std::string items;
    for (const auto& r : rows) {
      if (r.kind != kind) continue;
      if (!items.empty()) items += ",";
      absl::StrAppend(&items, "{\"name\":", JsonString(r.name), ",\"counters\":", CountersJson(r.counters),
                      "}");
    }
    if (items.empty()) continue;
    if (out.size() > 1) out += ",";
    absl::StrAppend(&out, kind == v1::RESOURCE_KIND_TUNNEL ? "\"tunnels\":[" : "\"sessions\":[", items, "]");
  }
  return out + "}";
}

int Print(const CommandContext& ctx, const std::vector<CounterRow>& rows, bool name_with_kind,
          OutputFormat format) {
  if (format == OutputFormat::kJson) {
    *ctx.out << StatsJson(rows) << "\n";
    return kExitOk;
  }
  if (format == OutputFormat::kYaml) {
    auto yaml = JsonToYaml(StatsJson(rows));
    if (!yaml.ok()) return ctx.Fail(std::string(yaml.status().message()));
    *ctx.out << *yaml;
    return kExitOk;
  }
  if (rows.empty()) {
    *ctx.err << "No resources found.\n";
    return kExitOk;
  }
  Table table = CountersTable();
  for (const auto& r : rows) {
    std::string name = name_with_kind
                           ? absl::StrCat(r.kind == v1::RESOURCE_KIND_TUNNEL ? "tunnel/" : "session/", r.name)
                           : r.name;
    AddCountersRow(name, r.counters, &table);
  }
  *ctx.out << table.Render();
  return kExitOk;
}

int RunStats(const CommandContext& ctx) {
  if (ctx.args.size() > 2) return ctx.UsageError("unexpected argument \"" + ctx.args[2] + "\"");
  auto kind = ParseKindArg(ctx.args.empty() ? "all" : ctx.args[0], /*allow_all=*/true);
  if (!kind.ok()) return ctx.UsageError(std::string(kind.status().message()));
  auto format = ParseOutputFormat(ctx.flags.Get("output"),
                                  {OutputFormat::kTable, OutputFormat::kJson, OutputFormat::kYaml});
  if (!format.ok()) return ctx.UsageError(std::string(format.status().message()));

  std::vector<CounterRow> rows;
  if (ctx.args.size() == 2) {
    if (*kind == v1::RESOURCE_KIND_UNSPECIFIED)
      return ctx.UsageError("a NAME needs a kind: tunnel or session");
    v1::GetRequest request;
    request.set_kind(*kind);
    request.set_name(ctx.args[1]);
    v1::GetResponse response;
    if (int rc = ctx.Call(&Stub::Get, request, &response); rc != kExitOk) return rc;
    if (response.has_tunnel())
      rows.push_back(
          {v1::RESOURCE_KIND_TUNNEL, response.tunnel().name(), response.tunnel().status().counters()});
    if (response.has_session())
      rows.push_back(
          {v1::RESOURCE_KIND_SESSION, response.session().name(), response.session().status().counters()});
  } else {
    v1::ListRequest request;
    request.set_kind(*kind);
    v1::ListResponse response;
    if (int rc = ctx.Call(&Stub::List, request, &response); rc != kExitOk) return rc;
    if (*kind != v1::RESOURCE_KIND_SESSION)
      for (const auto& t : response.tunnels())
        rows.push_back({v1::RESOURCE_KIND_TUNNEL, t.name(), t.status().counters()});
    if (*kind != v1::RESOURCE_KIND_TUNNEL)
      for (const auto& s : response.sessions())
        rows.push_back({v1::RESOURCE_KIND_SESSION, s.name(), s.status().counters()});
  }
  return Print(ctx, rows, /*name_with_kind=*/*kind == v1::RESOURCE_KIND_UNSPECIFIED, *format);
}

}  // namespace

CommandSpec StatsCommand() {
  return {
      .name = "stats",
      .summary = "Show packet and error counters",
      .usage = "stats [tunnels|sessions|all] [NAME] [-o table|json|yaml]",
      .description =
          "Counters are the datapath's (the kernel's L2TP_ATTR_STATS set, or the\n"
          "userspace datapath's equivalents) as of the agent's last status refresh.\n"
          "Without a kind, tunnels come first, then sessions, named tunnel/NAME and\n"
          "session/NAME. json and yaml print {tunnels: [{name, counters}], sessions: [...]}.",
      .flags = {{"output", 'o', true, "FORMAT", "table (default), json or yaml"}},
      .examples =
          "l2tpctl stats\n"
          "l2tpctl stats sessions\n"
          "l2tpctl stats tunnel t1 -o json",
      .run = RunStats,
  };
}

}  // namespace l2tp::cli
