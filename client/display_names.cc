#include "client/display_names.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/descriptor.h"

namespace v1 = ::l2tpagent::v1;

namespace l2tp::cli {
namespace {

// The value's name without its prefix ("PHASE_READY" -> "READY"); values this
// build does not know (a newer agent) show their number.
std::string ShortEnumName(const google::protobuf::EnumDescriptor* descriptor, int value,
                          const std::string& prefix) {
  const auto* v = descriptor->FindValueByNumber(value);
  if (v == nullptr) return absl::StrCat(value);
  std::string name = v->name();
  if (absl::StartsWith(name, prefix)) name = name.substr(prefix.size());
  return name;
}

}  // namespace

std::string PhaseName(v1::Phase phase) {
  if (phase == v1::PHASE_UNSPECIFIED) return "UNKNOWN";
  return ShortEnumName(v1::Phase_descriptor(), phase, "PHASE_");
}

std::string EventTypeName(v1::WatchEvent::Type type) {
  return ShortEnumName(v1::WatchEvent::Type_descriptor(), type, "TYPE_");
}

std::string EncapName(v1::Encapsulation encap) {
  if (encap == v1::ENCAPSULATION_UNSPECIFIED) encap = v1::ENCAPSULATION_UDP;
  return absl::AsciiStrToLower(ShortEnumName(v1::Encapsulation_descriptor(), encap, "ENCAPSULATION_"));
}

std::string SublayerName(v1::L2SpecificSublayer s) {
  if (s == v1::L2_SPECIFIC_SUBLAYER_UNSPECIFIED) s = v1::L2_SPECIFIC_SUBLAYER_DEFAULT;
  return absl::AsciiStrToLower(
      ShortEnumName(v1::L2SpecificSublayer_descriptor(), s, "L2_SPECIFIC_SUBLAYER_"));
}

std::string PseudowireName(v1::Pseudowire pw) {
  if (pw == v1::PSEUDOWIRE_UNSPECIFIED) pw = v1::PSEUDOWIRE_ETH;
  return absl::AsciiStrToLower(ShortEnumName(v1::Pseudowire_descriptor(), pw, "PSEUDOWIRE_"));
}

std::string KindName(v1::ResourceKind kind) {
  if (kind == v1::RESOURCE_KIND_UNSPECIFIED) return "resource";
  return absl::AsciiStrToLower(ShortEnumName(v1::ResourceKind_descriptor(), kind, "RESOURCE_KIND_"));
}

std::string ResourceRef(v1::ResourceKind kind, const std::string& name) {
  return absl::StrCat(KindName(kind), "/", name);
}

}  // namespace l2tp::cli
