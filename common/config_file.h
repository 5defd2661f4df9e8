// Config files: the proto3 JSON mapping of a message, written as JSON or YAML.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "google/protobuf/message.h"

namespace l2tp {

// YAML (a superset of JSON) to JSON text. Plain scalars that read as YAML
// booleans, null or decimal numbers become JSON literals; everything else,
// and every quoted scalar, becomes a JSON string.
absl::StatusOr<std::string> YamlToJson(std::string_view yaml);

// JSON text to block-style YAML.
absl::StatusOr<std::string> JsonToYaml(std::string_view json);

// Parses JSON or YAML text into `message`, rejecting unknown fields.
absl::Status ParseConfigText(std::string_view text, google::protobuf::Message* message);

// The text of the config file at `path`; errors name the file and the reason
// (missing, a directory, unreadable).
absl::StatusOr<std::string> ReadConfigText(const std::string& path);

// Reads `path` and parses it as above; errors name the file.
absl::Status LoadConfigFile(const std::string& path, google::protobuf::Message* message);

// The message as proto3 JSON (camelCase names, as the mapping prescribes).
std::string ToJson(const google::protobuf::Message& message, bool pretty = true);
std::string ToYaml(const google::protobuf::Message& message);

}  // namespace l2tp
