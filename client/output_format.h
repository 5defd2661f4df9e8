// The `-o` flag: which formats a command accepts and how messages print.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "google/protobuf/message.h"

namespace l2tp::cli {

enum class OutputFormat { kTable, kWide, kJson, kYaml };

std::string OutputFormatName(OutputFormat format);

// Empty text means `fallback`. A format outside `allowed` is an error that
// lists the accepted ones.
absl::StatusOr<OutputFormat> ParseOutputFormat(const std::string& text,
                                               const std::vector<OutputFormat>& allowed,
                                               OutputFormat fallback = OutputFormat::kTable);

// The proto3 JSON mapping, pretty-printed, or the same as YAML; ends in a newline.
std::string RenderMessage(const google::protobuf::Message& message, OutputFormat format);

}  // namespace l2tp::cli
