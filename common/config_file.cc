#include "common/config_file.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <optional>
#include <regex>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "google/protobuf/util/json_util.h"
#include "yaml-cpp/yaml.h"

namespace l2tp {
namespace {

void EmitJsonString(const std::string& s, std::string* out) {
  out->push_back('"');
  for (unsigned char c : s) {
    switch (c) {
      case '"': *out += "\\\""; break;
      case '\\': *out += "\\\\"; break;
      case '\n': *out += "\\n"; break;
      case '\r': *out += "\\r"; break;
      case '\t': *out += "\\t"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          snprintf(buf, sizeof buf, "\\u%04x", c);
          *out += buf;
        } else {
          out->push_back(static_cast<char>(c));
        }
    }
  }
  out->push_back('"');
}

// How a plain (unquoted) YAML scalar reads: a JSON literal, or a string.
std::optional<std::string> PlainScalarLiteral(const std::string& v) {
  static const std::regex kNumber(R"(-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?)");
  if (v == "true" || v == "True" || v == "TRUE") return "true";
  if (v == "false" || v == "False" || v == "FALSE") return "false";
  if (v == "null" || v == "~" || v == "Null" || v == "NULL" || v.empty()) return "null";
  if (std::regex_match(v, kNumber)) return v;
  return std::nullopt;
}

void YamlNodeToJson(const YAML::Node& node, std::string* out) {
  switch (node.Type()) {
    case YAML::NodeType::Undefined:
    case YAML::NodeType::Null:
      *out += "null";
      return;
    case YAML::NodeType::Scalar: {
      const std::string& v = node.Scalar();
      if (node.Tag() != "!") {  // plain (unquoted) scalar
        if (auto literal = PlainScalarLiteral(v)) {
          *out += *literal;
          return;
        }
      }
      EmitJsonString(v, out);
      return;
    }
    case YAML::NodeType::Sequence: {
      out->push_back('[');
      bool first = true;
      for (const auto& item : node) {
        if (!first) out->push_back(',');
        first = false;
        YamlNodeToJson(item, out);
      }
      out->push_back(']');
      return;
    }
    case YAML::NodeType::Map: {
      out->push_back('{');
      bool first = true;
      for (const auto& kv : node) {
        if (!first) out->push_back(',');
        first = false;
        EmitJsonString(kv.first.as<std::string>(), out);
        out->push_back(':');
        YamlNodeToJson(kv.second, out);
      }
      out->push_back('}');
      return;
    }
  }
}

void EmitYaml(const YAML::Node& node, YAML::Emitter* e) {
  switch (node.Type()) {
    case YAML::NodeType::Map:
      *e << YAML::BeginMap;
      for (const auto& kv : node) {
        *e << YAML::Key << kv.first.as<std::string>() << YAML::Value;
        EmitYaml(kv.second, e);
      }
      *e << YAML::EndMap;
      return;
    case YAML::NodeType::Sequence:
      *e << YAML::BeginSeq;
      for (const auto& item : node) EmitYaml(item, e);
      *e << YAML::EndSeq;
      return;
    case YAML::NodeType::Scalar:
      // A JSON string that would read back as a number, bool or null is quoted.
      if (node.Tag() == "!" && PlainScalarLiteral(node.Scalar())) *e << YAML::DoubleQuoted << node.Scalar();
      else *e << node.Scalar();
      return;
    default:
      *e << YAML::Null;
  }
}

}  // namespace

absl::StatusOr<std::string> YamlToJson(std::string_view yaml) {
  try {
    YAML::Node root = YAML::Load(std::string(yaml));
    std::string out;
    if (!root.IsDefined() || root.IsNull()) return std::string("{}");
    YamlNodeToJson(root, &out);
    return out;
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat("YAML line ", e.mark.line + 1, ", column ", e.mark.column + 1, ": ", e.msg));
  }
}

absl::StatusOr<std::string> JsonToYaml(std::string_view json) {
  try {
    YAML::Node root = YAML::Load(std::string(json));  // JSON is YAML
    YAML::Emitter e;
    EmitYaml(root, &e);
    return std::string(e.c_str()) + "\n";
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("JSON: ", e.msg));
  }
}

absl::Status ParseConfigText(std::string_view text, google::protobuf::Message* message) {
  size_t first = text.find_first_not_of(" \t\r\n");
  std::string json;
  if (first != std::string_view::npos && text[first] == '{') {
    json = std::string(text);
  } else {
    auto converted = YamlToJson(text);
    if (!converted.ok()) return converted.status();
    json = *std::move(converted);
  }
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  auto st = google::protobuf::util::JsonStringToMessage(json, message, options);
  if (!st.ok()) {
    return absl::InvalidArgumentError(std::string(st.message()));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> ReadConfigText(const std::string& path) {
  struct stat info;
  if (stat(path.c_str(), &info) != 0) {
    return absl::NotFoundError(absl::StrCat(path, ": ", std::strerror(errno)));
  }
  if (S_ISDIR(info.st_mode)) return absl::InvalidArgumentError(absl::StrCat(path, ": is a directory, not a config file"));
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot open: ", std::strerror(errno)));
  std::stringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

absl::Status LoadConfigFile(const std::string& path, google::protobuf::Message* message) {
  auto text = ReadConfigText(path);
  if (!text.ok()) return text.status();
  auto st = ParseConfigText(*text, message);
  if (!st.ok()) return absl::InvalidArgumentError(absl::StrCat(path, ": ", st.message()));
  return absl::OkStatus();
}

std::string ToJson(const google::protobuf::Message& message, bool pretty) {
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = pretty;
  options.preserve_proto_field_names = false;
  std::string out;
  (void)google::protobuf::util::MessageToJsonString(message, &out, options);
  return out;
}

std::string ToYaml(const google::protobuf::Message& message) {
  auto yaml = JsonToYaml(ToJson(message, false));
  return yaml.ok() ? *yaml : ToJson(message);
}

}  // namespace l2tp
