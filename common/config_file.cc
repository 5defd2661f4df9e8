#include "common/config_file.h"

#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <optional>
#include <regex>
#include <sstream>
#include <unordered_map>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/util/json_util.h"
#include "yaml-cpp/anchor.h"
#include "yaml-cpp/eventhandler.h"
#include "yaml-cpp/parser.h"
#include "yaml-cpp/yaml.h"

namespace l2tp {
namespace {

namespace pb = ::google::protobuf;

// A problem at a place in the text. Thrown only inside this file, where the
// checks are recursive, and turned into INVALID_ARGUMENT at the top.
struct ConfigError {
  YAML::Mark mark;
  std::string message;
};

// "line 3, column 5: ", or nothing when the parser gave no place.
std::string Where(const YAML::Mark& mark) {
  if (mark.is_null()) return "";
  return absl::StrCat("line ", mark.line + 1, ", column ", mark.column + 1, ": ");
}

YAML::Mark MarkAt(int line, int column) {
  YAML::Mark mark;
  mark.line = line;
  mark.column = column;
  return mark;
}

// A value of the file as an error quotes it: cut, so that a huge value
// cannot make a huge message.
std::string Shown(const std::string& value) {
  constexpr size_t kMax = 64;
  if (value.size() <= kMax) return value;
  return absl::StrCat(value.substr(0, kMax), "... (", value.size(), " bytes)");
}

std::string LimitText(uint64_t bytes) { return absl::StrCat(bytes >> 20, " MiB (", bytes, " bytes)"); }

absl::Status TooLarge(const std::string& what) {
  return absl::InvalidArgumentError(
      absl::StrCat(what, " larger than ", LimitText(kMaxConfigFileBytes), ", the limit for config files"));
}

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

// ---------------------------------------------------------------------------
// Limits. The sizes of a document as if every alias were written out, taken
// from the parser's events before any node tree exists: the tree of an alias
// bomb is small (an alias shares its anchor's node), walking it is not.
class LimitCheck : public YAML::EventHandler {
 public:
  void OnDocumentStart(const YAML::Mark& mark) override {
    if (++documents_ > 1) {
      throw ConfigError{mark,
                        "a second YAML document; a config file holds exactly one "
                        "(remove the '---' line, or split the file)"};
    }
  }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override { Leaf(mark, anchor, 0); }
  void OnScalar(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                const std::string& value) override {
    Leaf(mark, anchor, value.size());
  }
  void OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    auto it = anchors_.find(anchor);
    // The parser knows every anchor an alias names; one not sized yet is
    // still open, i.e. the alias sits inside the node it names.
    if (it == anchors_.end()) throw ConfigError{mark, "an alias inside the node its anchor names (a cycle)"};
    Add(mark, it->second);
  }
  void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                       YAML::EmitterStyle::value) override {
    Open(mark, anchor);
  }
  void OnSequenceEnd() override { Close(); }
  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                  YAML::EmitterStyle::value) override {
    Open(mark, anchor);
  }
  void OnMapEnd() override { Close(); }

 private:
  // What a node adds when written out: nodes, scalar bytes, levels of nesting.
  struct Size {
    uint64_t nodes = 0;
    uint64_t bytes = 0;
    int levels = 0;
  };
  struct Collection {
    YAML::anchor_t anchor;
    Size before;  // the totals when it opened
    int deepest;  // the deepest level reached inside it so far
  };

  int Depth() const { return static_cast<int>(open_.size()); }

  void Leaf(const YAML::Mark& mark, YAML::anchor_t anchor, uint64_t bytes) {
    Add(mark, {1, bytes, 0});
    Remember(anchor, {1, bytes, 0});
  }

  void Open(const YAML::Mark& mark, YAML::anchor_t anchor) {
    Size before = total_;
    Add(mark, {1, 0, 1});
    open_.push_back({anchor, before, Depth() + 1});
  }

  void Close() {
    Collection c = open_.back();
    open_.pop_back();
    Remember(c.anchor, {total_.nodes - c.before.nodes, total_.bytes - c.before.bytes, c.deepest - Depth()});
    if (!open_.empty()) open_.back().deepest = std::max(open_.back().deepest, c.deepest);
  }

  void Remember(YAML::anchor_t anchor, const Size& size) {
    if (anchor != YAML::NullAnchor) anchors_[anchor] = size;
  }

  // Counts a node (or an alias's whole expansion) and stops at the first limit.
  void Add(const YAML::Mark& mark, const Size& size) {
    total_.nodes += size.nodes;
    total_.bytes += size.bytes;
    int reached = Depth() + size.levels;
    if (!open_.empty()) open_.back().deepest = std::max(open_.back().deepest, reached);
    if (total_.nodes > kMaxConfigNodes) {
      throw ConfigError{mark,
                        absl::StrCat("more than ", kMaxConfigNodes,
                                     " nodes (maps, lists and scalars; a YAML alias counts each time it is "
                                     "used); config files are limited to ",
                                     kMaxConfigNodes, " nodes")};
    }
    if (total_.bytes > kMaxConfigScalarBytes) {
      throw ConfigError{mark, absl::StrCat("more than ", LimitText(kMaxConfigScalarBytes),
                                           " of scalar text (a YAML alias counts each time it is used); "
                                           "config files are limited to ",
                                           LimitText(kMaxConfigScalarBytes))};
    }
    if (reached > kMaxConfigDepth) {
      throw ConfigError{mark, absl::StrCat("maps and lists nested more than ", kMaxConfigDepth,
                                           " levels deep; config files are limited to ", kMaxConfigDepth,
                                           " levels")};
    }
  }

  int documents_ = 0;
  Size total_;
  std::vector<Collection> open_;
  std::unordered_map<YAML::anchor_t, Size> anchors_;
};

// The one document of `text` as a node tree, after LimitCheck has passed it.
YAML::Node LoadOneDocument(std::string_view text) {
  std::istringstream in{std::string(text)};
  YAML::Parser parser(in);
  LimitCheck limits;
  while (parser.HandleNextDocument(limits)) {
  }
  in.clear();
  in.seekg(0);
  return YAML::Load(in);
}

// ---------------------------------------------------------------------------
// JSON text. yaml-cpp reads it as YAML flow style, which allows a comma before
// ']' or '}'; JSON does not, so JSON text is scanned for one first.
bool LooksLikeJson(std::string_view text) {
  size_t first = text.find_first_not_of(" \t\r\n");
  return first != std::string_view::npos && text[first] == '{';
}

void CheckNoTrailingCommas(std::string_view json) {
  bool in_string = false;
  bool escaped = false;
  int line = 0;
  int column = 0;
  for (size_t i = 0; i < json.size(); ++i) {
    char c = json[i];
    if (in_string) {
      if (escaped) escaped = false;
      else if (c == '\\') escaped = true;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == ',') {
      size_t next = json.find_first_not_of(" \t\r\n", i + 1);
      if (next != std::string_view::npos && (json[next] == ']' || json[next] == '}')) {
        throw ConfigError{MarkAt(line, column), absl::StrCat("a comma before '", std::string(1, json[next]),
                                                             "'; JSON does not allow trailing commas")};
      }
    }
    if (c == '\n') {
      ++line;
      column = 0;
    } else {
      ++column;
    }
  }
}

// ---------------------------------------------------------------------------
// The strict walk: the document against the message's fields (when there is
// a schema), written out as JSON for protobuf's parser. It stays within the
// limits because LimitCheck sized exactly this tree, aliases expanded.
class StrictWalk {
 public:
  explicit StrictWalk(std::string* out) : out_(out) {}

  // `type` is the message the document holds; nullptr checks only keys.
  void Root(const YAML::Node& node, const pb::Descriptor* type) {
    if (!node.IsDefined() || node.IsNull()) {
      *out_ += "{}";  // an empty file is an empty config
    } else if (type != nullptr) {
      Message(node, type);
    } else {
      Schemaless(node);
    }
  }

 private:
  // Google's well-known types (Duration, Timestamp, Struct, ...) have JSON
  // forms of their own; protobuf's parser checks those.
  template <typename Type>
  static bool IsWellKnown(const Type* type) {
    return type->file()->package() == "google.protobuf";
  }

  // The proto3 JSON mapping accepts a field's json_name (tunnelId) and its
  // name (tunnel_id).
  static const pb::FieldDescriptor* FindField(const pb::Descriptor* type, const std::string& key) {
    for (int i = 0; i < type->field_count(); ++i) {
      const pb::FieldDescriptor* f = type->field(i);
      if (f->name() == key || f->json_name() == key) return f;
    }
    return nullptr;
  }

  void Message(const YAML::Node& node, const pb::Descriptor* type) {
    if (node.IsNull()) return Null();  // protobuf reads null as "not set"
    if (!node.IsMap()) Fail(node.Mark(), absl::StrCat("expected a map of ", type->full_name(), " fields"));
    struct Seen {
      const pb::FieldDescriptor* field;
      std::string key;
      YAML::Mark mark;
    };
    std::vector<Seen> seen;  // a message has few fields; a linear search will do
    Separated each(out_, '{');
    for (const auto& kv : node) {
      std::string key = Key(kv.first);
      const pb::FieldDescriptor* field = FindField(type, key);
      if (field == nullptr) {
        Fail(kv.first.Mark(), absl::StrCat("unknown field \"", Shown(key), "\" in ", type->full_name()));
      }
      for (const Seen& s : seen) {
        if (s.field == field) Fail(kv.first.Mark(), Twice(field->name(), key, s.key, s.mark));
      }
      seen.push_back({field, key, kv.first.Mark()});
      each.Member(key);
      Enter(field->name(), [&] { Field(kv.second, field); });
    }
    out_->push_back('}');
  }

  void Field(const YAML::Node& node, const pb::FieldDescriptor* field) {
    if (field->is_map()) return MapField(node, field);
    if (field->is_repeated()) return List(node, field);
    Value(node, field);
  }

  void List(const YAML::Node& node, const pb::FieldDescriptor* field) {
    if (node.IsNull()) return Null();
    if (!node.IsSequence()) {
      Fail(node.Mark(), "expected a list (start each item with '- ', or write [...])");
    }
    Separated each(out_, '[');
    size_t index = 0;
    for (const auto& item : node) {
      Enter(absl::StrCat("[", index++, "]"), [&] {
        if (item.IsSequence()) {
          Fail(item.Mark(), absl::StrCat("a list inside a list; write the items into ", field->name(),
                                         " itself (lists do not nest)"));
        }
        if (item.IsNull()) Fail(item.Mark(), "an empty list item");
        each.Next();
        Value(item, field);
      });
    }
    out_->push_back(']');
  }

  // A proto map<...>: the keys are data, the values have the value field's type.
  void MapField(const YAML::Node& node, const pb::FieldDescriptor* field) {
    if (node.IsNull()) return Null();
    if (!node.IsMap()) Fail(node.Mark(), "expected a map");
    const pb::FieldDescriptor* value = field->message_type()->map_value();
    DataMap(
        node, [](const std::string& key) { return absl::StrCat("[\"", key, "\"]"); },
        [&](const YAML::Node& v) { Value(v, value); });
  }

  // A map whose keys are data (no schema names them): each key once, each
  // value written by `value` under the path segment `segment(key)`.
  template <typename Segment, typename WriteValue>
  void DataMap(const YAML::Node& node, Segment&& segment, WriteValue&& value) {
    Keys keys;
    Separated each(out_, '{');
    for (const auto& kv : node) {
      std::string key = Key(kv.first);
      keys.Add(this, key, kv.first.Mark());
      each.Member(key);
      Enter(segment(key), [&] { value(kv.second); });
    }
    out_->push_back('}');
  }

  // One value of the field's type (an item, for a repeated field).
  void Value(const YAML::Node& node, const pb::FieldDescriptor* field) {
    switch (field->cpp_type()) {
      case pb::FieldDescriptor::CPPTYPE_MESSAGE:
        if (IsWellKnown(field->message_type())) return Schemaless(node);
        return Message(node, field->message_type());
      case pb::FieldDescriptor::CPPTYPE_BOOL: return Bool(node);
      case pb::FieldDescriptor::CPPTYPE_ENUM:
        if (IsWellKnown(field->enum_type())) return Scalar(node);  // NullValue: JSON null
        return Enum(node, field->enum_type());
      default:
        if (node.IsMap() || node.IsSequence())
          Fail(node.Mark(), "expected a single value, not a map or list");
        return Scalar(node);
    }
  }

  // Only true and false (YAML 1.2 also spells them True, TRUE, False, FALSE).
  // YAML 1.1's yes/no/on/off/y/n and quoted strings are refused rather than
  // guessed at: the same word must not mean a boolean in one place and a
  // string in another.
  void Bool(const YAML::Node& node) {
    if (node.IsNull()) return Null();
    if (node.IsScalar()) {
      const std::string& v = node.Scalar();
      if (node.Tag() != "!") {
        std::optional<std::string> literal = PlainScalarLiteral(v);
        if (literal == "true" || literal == "false") {
          *out_ += *literal;
          return;
        }
        Fail(node.Mark(), absl::StrCat(Shown(v), " is not a boolean; write true or false"));
      }
      Fail(node.Mark(), absl::StrCat("\"", Shown(v),
                                     "\" is a quoted string, not a boolean; write true or false, unquoted"));
    }
    Fail(node.Mark(), "expected true or false, not a map or list");
  }

  // An enum value: its full name (ENCAPSULATION_UDP), its short name (UDP),
  // either in any case, or the number of a defined value. Written out as the
  // full name; anything else is refused here, listing the names that work.
  void Enum(const YAML::Node& node, const pb::EnumDescriptor* type) {
    if (node.IsNull()) return Null();
    if (!node.IsScalar()) Fail(node.Mark(), "expected a single value, not a map or list");
    const std::string& v = node.Scalar();
    if (std::regex_match(v, IntegerPattern())) {
      // The proto3 JSON mapping allows numbers; only those of defined values.
      int number = 0;
      auto [end, error] = std::from_chars(v.data(), v.data() + v.size(), number);
      if (error == std::errc() && end == v.data() + v.size() && type->FindValueByNumber(number) != nullptr) {
        *out_ += v;
        return;
      }
    } else if (const pb::EnumValueDescriptor* value = FindEnumValue(type, v)) {
      EmitJsonString(value->name(), out_);
      return;
    }
    Fail(node.Mark(), absl::StrCat("\"", Shown(v), "\" is not ", EnumNoun(type), "; ", EnumChoices(type)));
  }

  static const std::regex& IntegerPattern() {
    static const std::regex kInteger("-?[0-9]+");
    return kInteger;
  }

  // What every value name of `type` starts with, cut after an underscore:
  // "ENCAPSULATION_" for ENCAPSULATION_UNSPECIFIED, ENCAPSULATION_UDP, ...
  static std::string EnumPrefix(const pb::EnumDescriptor* type) {
    if (type->value_count() == 0) return "";
    std::string prefix(type->value(0)->name());
    for (int i = 1; i < type->value_count(); ++i) {
      const std::string name(type->value(i)->name());
      size_t k = 0;
      while (k < prefix.size() && k < name.size() && prefix[k] == name[k]) ++k;
      prefix.resize(k);
    }
    size_t underscore = prefix.rfind('_');
    prefix.resize(underscore == std::string::npos ? 0 : underscore + 1);
    return prefix;
  }

  // UDP for ENCAPSULATION_UDP; empty when the name is no more than the prefix.
  static std::string ShortName(const pb::EnumValueDescriptor* value, const std::string& prefix) {
    const std::string name(value->name());
    return name.size() > prefix.size() ? name.substr(prefix.size()) : "";
  }

  static std::string Upper(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::toupper(c); });
    return s;
  }

  // Full names first, so that a full name is never taken for another
  // value's short name.
  static const pb::EnumValueDescriptor* FindEnumValue(const pb::EnumDescriptor* type,
                                                      const std::string& text) {
    if (const pb::EnumValueDescriptor* exact = type->FindValueByName(text)) return exact;
    const std::string upper = Upper(text);
    for (int i = 0; i < type->value_count(); ++i) {
      if (Upper(std::string(type->value(i)->name())) == upper) return type->value(i);
    }
    const std::string prefix = EnumPrefix(type);
    for (int i = 0; i < type->value_count(); ++i) {
      std::string short_name = ShortName(type->value(i), prefix);
      if (!short_name.empty() && Upper(short_name) == upper) return type->value(i);
    }
    return nullptr;
  }

  // A zero value named *_UNSPECIFIED means "not set" (the field's default
  // applies); it is accepted but not offered.
  static bool IsUnset(const pb::EnumValueDescriptor* value) {
    const std::string name(value->name());
    return value->number() == 0 && (name == "UNSPECIFIED" || absl::EndsWith(name, "_UNSPECIFIED"));
  }

  // "an encapsulation", "a pseudowire", "an L2 specific sublayer": the type
  // name in words, with its article.
  static std::string EnumNoun(const pb::EnumDescriptor* type) {
    const std::string name(type->name());
    std::vector<std::string> words;
    for (size_t i = 0; i < name.size(); ++i) {
      const unsigned char c = name[i];
      const bool starts = i == 0 ||
                          (std::isupper(c) && (std::islower(static_cast<unsigned char>(name[i - 1])) ||
                                               std::isdigit(static_cast<unsigned char>(name[i - 1]))));
      if (starts) words.emplace_back();
      words.back().push_back(static_cast<char>(c));
    }
    std::string noun;
    for (std::string& word : words) {
      // A word with a second capital or a digit (L2, IP) is an abbreviation: kept.
      const bool abbreviation = std::any_of(word.begin() + 1, word.end(), [](unsigned char c) {
        return std::isupper(c) || std::isdigit(c);
      });
      if (!abbreviation) word[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(word[0])));
      if (!noun.empty()) noun.push_back(' ');
      noun += word;
    }
    if (noun.empty()) return "a value";
    // "an" before a vowel, and before a capital letter whose name starts with one (an L2).
    const char first = noun[0];
    const bool an = std::isupper(static_cast<unsigned char>(first))
                        ? std::strchr("AEFHILMNORSX", first) != nullptr
                        : std::strchr("aeiou", first) != nullptr;
    return absl::StrCat(an ? "an " : "a ", noun);
  }

  // "use UDP or IP (or ENCAPSULATION_UDP, ENCAPSULATION_IP)".
  static std::string EnumChoices(const pb::EnumDescriptor* type) {
    const std::string prefix = EnumPrefix(type);
    std::vector<std::string> shorts, fulls;
    for (int i = 0; i < type->value_count(); ++i) {
      const pb::EnumValueDescriptor* value = type->value(i);
      if (IsUnset(value)) continue;
      std::string short_name = ShortName(value, prefix);
      shorts.push_back(short_name.empty() ? std::string(value->name()) : short_name);
      fulls.emplace_back(value->name());
    }
    if (fulls.empty()) return "it has no values to choose from";
    std::string choices = "use ";
    for (size_t i = 0; i < shorts.size(); ++i) {
      if (i > 0) choices += i + 1 == shorts.size() ? " or " : ", ";
      choices += shorts[i];
    }
    if (shorts != fulls) {
      choices += " (or ";
      for (size_t i = 0; i < fulls.size(); ++i) {
        if (i > 0) choices += ", ";
        choices += fulls[i];
      }
      choices += ")";
    }
    return choices;
  }

  // No schema: any shape, but a key still may not repeat in a map.
  void Schemaless(const YAML::Node& node) {
    if (node.IsSequence()) {
      Separated each(out_, '[');
      size_t index = 0;
      for (const auto& item : node) {
        each.Next();
        Enter(absl::StrCat("[", index++, "]"), [&] { Schemaless(item); });
      }
      out_->push_back(']');
    } else if (node.IsMap()) {
      DataMap(
          node, [](const std::string& key) { return key; }, [&](const YAML::Node& v) { Schemaless(v); });
    } else {
      Scalar(node);
    }
  }

  void Scalar(const YAML::Node& node) {
    if (!node.IsScalar()) return Null();
    const std::string& v = node.Scalar();
    if (node.Tag() != "!") {  // plain (unquoted) scalar
      if (auto literal = PlainScalarLiteral(v)) {
        *out_ += *literal;
        return;
      }
    }
    EmitJsonString(v, out_);
  }

  void Null() { *out_ += "null"; }

  std::string Key(const YAML::Node& key) {
    if (!key.IsScalar()) Fail(key.Mark(), "a map key must be a string");
    return key.Scalar();
  }

  static std::string Twice(const std::string& field, const std::string& key, const std::string& first,
                           const YAML::Mark& first_mark) {
    std::string where = absl::StrCat("line ", first_mark.line + 1, ", column ", first_mark.column + 1);
    if (key == first) return absl::StrCat("\"", Shown(key), "\" given twice (first at ", where, ")");
    return absl::StrCat("\"", key, "\" and \"", first, "\" (at ", where, ") are both the field ", field,
                        "; give it once");
  }

  // The keys of one map so far, to refuse a repeated one.
  class Keys {
   public:
    void Add(const StrictWalk* walk, const std::string& key, const YAML::Mark& mark) {
      auto [it, inserted] = seen_.emplace(key, mark);
      if (!inserted) walk->Fail(mark, Twice(key, key, key, it->second));
    }

   private:
    std::unordered_map<std::string, YAML::Mark> seen_;
  };

  // Writes `open`, then a comma before every item or member but the first.
  class Separated {
   public:
    Separated(std::string* out, char open) : out_(out) { out_->push_back(open); }
    void Next() {
      if (!first_) out_->push_back(',');
      first_ = false;
    }
    void Member(const std::string& key) {
      Next();
      EmitJsonString(key, out_);
      out_->push_back(':');
    }

   private:
    std::string* out_;
    bool first_ = true;
  };

  // Runs `walk` with `segment` ("spec", "[2]") added to the path in errors.
  template <typename F>
  void Enter(const std::string& segment, F&& walk) {
    path_.push_back(segment);
    walk();
    path_.pop_back();
  }

  // The path as in validation errors: sessions[2].spec.send_sequence.
  std::string Path() const {
    std::string path;
    for (const std::string& s : path_) {
      if (!path.empty() && s[0] != '[') path.push_back('.');
      path += s;
    }
    return path;
  }

  [[noreturn]] void Fail(const YAML::Mark& mark, const std::string& problem) const {
    std::string path = Path();
    throw ConfigError{mark, path.empty() ? problem : absl::StrCat(path, ": ", problem)};
  }

  std::string* out_;
  std::vector<std::string> path_;
};

// The checked JSON form of `text` (JSON or YAML) for `type` (nullptr: no schema).
absl::StatusOr<std::string> ToCheckedJson(std::string_view text, const pb::Descriptor* type) {
  if (text.size() > kMaxConfigFileBytes)
    return TooLarge(absl::StrCat("the text is ", text.size(), " bytes,"));
  try {
    if (LooksLikeJson(text)) CheckNoTrailingCommas(text);
    YAML::Node root = LoadOneDocument(text);
    std::string json;
    StrictWalk(&json).Root(root, type);
    return json;
  } catch (const ConfigError& e) {
    return absl::InvalidArgumentError(Where(e.mark) + e.message);
  } catch (const YAML::Exception& e) {
    if (e.mark.is_null()) return absl::InvalidArgumentError(absl::StrCat("YAML: ", e.msg));
    return absl::InvalidArgumentError(
        absl::StrCat("YAML line ", e.mark.line + 1, ", column ", e.mark.column + 1, ": ", e.msg));
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
    default: *e << YAML::Null;
  }
}

}  // namespace

absl::StatusOr<std::string> YamlToJson(std::string_view yaml) { return ToCheckedJson(yaml, nullptr); }

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
  // JSON takes the same road as YAML, so that both get the same limits and checks.
  absl::StatusOr<std::string> json = ToCheckedJson(text, message->GetDescriptor());
  if (!json.ok()) return json.status();
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  auto st = google::protobuf::util::JsonStringToMessage(*json, message, options);
  if (!st.ok()) {
    return absl::InvalidArgumentError(std::string(st.message()));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> ReadConfigStream(std::istream& in, std::string_view name_view) {
  std::string name(name_view);
  std::string text;
  char chunk[64 << 10];
  while (in) {
    in.read(chunk, sizeof chunk);
    text.append(chunk, static_cast<size_t>(in.gcount()));
    if (text.size() > kMaxConfigFileBytes) return TooLarge(absl::StrCat(name, ": is"));
  }
  if (in.bad())
    return absl::InvalidArgumentError(absl::StrCat(name, ": read failed: ", std::strerror(errno)));
  return text;
}

absl::StatusOr<std::string> ReadConfigText(const std::string& path) {
  struct stat info;
  if (stat(path.c_str(), &info) != 0) {
    return absl::NotFoundError(absl::StrCat(path, ": ", std::strerror(errno)));
  }
  if (S_ISDIR(info.st_mode))
    return absl::InvalidArgumentError(absl::StrCat(path, ": is a directory, not a config file"));
  // Refused before reading; ReadConfigStream also stops at the limit, for a
  // file that grows meanwhile or has no size (a pipe, /dev/zero).
  if (S_ISREG(info.st_mode) && static_cast<uint64_t>(info.st_size) > kMaxConfigFileBytes) {
    return TooLarge(absl::StrCat(path, ": ", info.st_size, " bytes,"));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot open: ", std::strerror(errno)));
  return ReadConfigStream(in, path);
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
