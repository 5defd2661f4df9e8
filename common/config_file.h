// Config files: the proto3 JSON mapping of a message, written as JSON or YAML.
// docs/api.md ("Config files") lists the parsing rules and limits.
#pragma once

#include <cstddef>
#include <cstdint>
#include <istream>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "google/protobuf/message.h"

namespace l2tp {

// Limits on a config file. YAML aliases count each time they are used, as if
// written out: a few hundred bytes of nested aliases can stand for billions of
// nodes, and a reader must refuse them before expanding anything.
inline constexpr size_t kMaxConfigFileBytes = 16 << 20;      // the text itself
inline constexpr uint64_t kMaxConfigNodes = 1'000'000;       // maps, lists and scalars
inline constexpr uint64_t kMaxConfigScalarBytes = 64 << 20;  // all scalar text
inline constexpr int kMaxConfigDepth = 64;                   // maps and lists inside each other

// YAML (a superset of JSON) to JSON text, within the limits above. Plain
// scalars that read as YAML booleans, null or decimal numbers become JSON
// literals; everything else, and every quoted scalar, becomes a JSON string.
// A second document and a key repeated in one map are errors.
absl::StatusOr<std::string> YamlToJson(std::string_view yaml);

// JSON text to block-style YAML.
absl::StatusOr<std::string> JsonToYaml(std::string_view json);

// Parses JSON or YAML text into `message`, strictly: unknown fields, a field
// given twice (also as tunnel_id and tunnelId), a list inside a list,
// booleans other than true and false, a second document and, in JSON,
// trailing commas are errors naming the line, column and field path.
absl::Status ParseConfigText(std::string_view text, google::protobuf::Message* message);

// The text of the config file at `path`; errors name the file and the reason
// (missing, a directory, unreadable, larger than kMaxConfigFileBytes). A file
// over the limit is refused without being read whole.
absl::StatusOr<std::string> ReadConfigText(const std::string& path);

// At most kMaxConfigFileBytes of `in` (e.g. stdin); errors start with `name`.
absl::StatusOr<std::string> ReadConfigStream(std::istream& in, std::string_view name);

// Reads `path` and parses it as above; errors name the file.
absl::Status LoadConfigFile(const std::string& path, google::protobuf::Message* message);

// The message as proto3 JSON (camelCase names, as the mapping prescribes).
std::string ToJson(const google::protobuf::Message& message, bool pretty = true);
std::string ToYaml(const google::protobuf::Message& message);

}  // namespace l2tp
