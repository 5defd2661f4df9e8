#include "client/output_format.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/config_file.h"

namespace l2tp::cli {

std::string OutputFormatName(OutputFormat format) {
  switch (format) {
    case OutputFormat::kTable: return "table";
    case OutputFormat::kWide: return "wide";
    case OutputFormat::kJson: return "json";
    case OutputFormat::kYaml: return "yaml";
  }
  return "?";
}

absl::StatusOr<OutputFormat> ParseOutputFormat(const std::string& text,
                                               const std::vector<OutputFormat>& allowed,
                                               OutputFormat fallback) {
  if (text.empty()) return fallback;
  for (OutputFormat f : allowed)
    if (OutputFormatName(f) == text) return f;
  std::vector<std::string> names;
  for (OutputFormat f : allowed) names.push_back(OutputFormatName(f));
  return absl::InvalidArgumentError(
      absl::StrCat("--output: unsupported format \"", text, "\" (want ", absl::StrJoin(names, ", "), ")"));
}

std::string RenderMessage(const google::protobuf::Message& message, OutputFormat format) {
  if (format == OutputFormat::kYaml) return ToYaml(message);
  std::string json = ToJson(message, /*pretty=*/true);
  if (json.empty() || json.back() != '\n') json += '\n';  // the pretty printer may add one
  return json;
}

}  // namespace l2tp::cli
