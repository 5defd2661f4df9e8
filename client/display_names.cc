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

// Appends `part` to `text` ("; " between) unless it is empty or `text`
// already says it.
void AppendPart(const std::string& part, std::string* text) {
  if (part.empty() || absl::StrContains(*text, part)) return;
  if (!text->empty()) absl::StrAppend(text, "; ");
  absl::StrAppend(text, part);
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

std::string EventReasonName(v1::Event::Reason reason) {
  return ShortEnumName(v1::Event::Reason_descriptor(), reason, "REASON_");
}

std::string ControlStateName(v1::ControlState state) {
  if (state == v1::CONTROL_STATE_UNSPECIFIED) return "UNKNOWN";
  return ShortEnumName(v1::ControlState_descriptor(), state, "CONTROL_STATE_");
}

std::string ControlRoleName(v1::TunnelControl::Role role) {
  if (role == v1::TunnelControl::ROLE_UNSPECIFIED) return "-";
  return absl::AsciiStrToLower(ShortEnumName(v1::TunnelControl::Role_descriptor(), role, "ROLE_"));
}

std::string PppPhaseName(v1::PppPhase phase) {
  if (phase == v1::PPP_PHASE_UNSPECIFIED) return "UNKNOWN";
  return ShortEnumName(v1::PppPhase_descriptor(), phase, "PPP_PHASE_");
}

std::string ResourceRef(v1::ResourceKind kind, const std::string& name) {
  return absl::StrCat(KindName(kind), "/", name);
}

bool UsesControl(const v1::Tunnel& tunnel) {
  return tunnel.spec().control().mode() == v1::TunnelControl::MODE_DYNAMIC ||
         tunnel.status().tunnel_control().state() != v1::CONTROL_STATE_UNSPECIFIED;
}

bool UsesControl(const v1::Session& session) {
  return !session.spec().remote_end_id().empty() || session.spec().pseudowire() == v1::PSEUDOWIRE_PPP ||
         session.status().session_control().state() != v1::CONTROL_STATE_UNSPECIFIED;
}

std::string ControlText(const v1::Tunnel& tunnel) {
  if (!UsesControl(tunnel)) return "static";
  return ControlStateName(tunnel.status().tunnel_control().state());
}

std::string ControlText(const v1::Session& session) {
  if (!UsesControl(session)) return "static";
  return ControlStateName(session.status().session_control().state());
}

std::string StatusText(const v1::Tunnel& tunnel) {
  std::string text = tunnel.status().message();
  if (!UsesControl(tunnel)) return text;
  const auto& control = tunnel.status().tunnel_control();
  AppendPart(control.message(), &text);
  if (control.state() != v1::CONTROL_STATE_ESTABLISHED && !control.last_stop_reason().empty() &&
      !absl::StrContains(text, control.last_stop_reason()))
    AppendPart(absl::StrCat("last stop: ", control.last_stop_reason()), &text);
  return text;
}

std::string StatusText(const v1::Session& session) {
  std::string text = session.status().message();
  if (!UsesControl(session)) return text;
  AppendPart(session.status().session_control().message(), &text);
  return text;
}

}  // namespace l2tp::cli
