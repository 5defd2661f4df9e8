#include "agent/state/apply_plan.h"

#include <algorithm>
#include <set>

#include "datapath/contract.h"
#include "google/protobuf/util/message_differencer.h"

namespace l2tp {
namespace v1 = ::l2tpagent::v1;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::util::MessageDifferencer;

namespace {

// The API's own sub-messages (TunnelSpec.control) are compared field by
// field, so a plan says "control.hello_interval"; well-known types such as
// Duration are one value ("reorder_timeout").
bool IsApiMessage(const FieldDescriptor* f) {
  return f->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE && !f->is_repeated() &&
         f->message_type()->file()->package() == v1::TunnelSpec::descriptor()->file()->package();
}

void AppendChangedFields(const Message& a, const Message& b, const std::string& prefix,
                         std::vector<std::string>* out) {
  const auto* desc = a.GetDescriptor();
  for (int i = 0; i < desc->field_count(); ++i) {
    const FieldDescriptor* f = desc->field(i);
    const std::string name = prefix + f->name();
    const bool presence_differs = !f->is_repeated() && f->has_presence() &&
                                  a.GetReflection()->HasField(a, f) != b.GetReflection()->HasField(b, f);
    if (IsApiMessage(f)) {
      const size_t before = out->size();
      AppendChangedFields(a.GetReflection()->GetMessage(a, f), b.GetReflection()->GetMessage(b, f),
                          name + ".", out);
      if (out->size() == before && presence_differs) out->push_back(name);  // set, but to nothing
      continue;
    }
    // An optional field set to its default differs from one left unset.
    if (presence_differs) {
      out->push_back(name);
      continue;
    }
    MessageDifferencer d;
    std::vector<const FieldDescriptor*> only{f};
    if (!d.CompareWithFields(a, b, only, only)) out->push_back(name);
  }
}

}  // namespace

std::vector<std::string> ChangedFields(const Message& a, const Message& b) {
  std::vector<std::string> out;
  AppendChangedFields(a, b, "", &out);
  return out;
}

// The datapath contract names its modifiable fields as SessionSpec does
// (datapath/contract.h), so the proto field names compare directly.
bool SessionChangeIsInPlace(const std::vector<std::string>& changed) {
  return std::all_of(changed.begin(), changed.end(),
                     [](const std::string& f) { return IsModifiableSessionField(f); });
}

namespace {

v1::PlanAction Action(v1::ResourceKind kind, const std::string& name, v1::PlanAction::Operation op,
                      std::vector<std::string> changed = {}, std::string reason = "") {
  v1::PlanAction a;
  a.set_kind(kind);
  a.set_name(name);
  a.set_operation(op);
  for (auto& f : changed) a.add_changed_fields(std::move(f));
  a.set_reason(std::move(reason));
  return a;
}

}  // namespace

v1::Plan ComputeApplyPlan(const DesiredState& before, const DesiredState& after,
                          const std::vector<std::string>& mentioned) {
  const std::set<std::string> named(mentioned.begin(), mentioned.end());
  v1::Plan plan;
  std::vector<v1::PlanAction> session_deletes, tunnel_deletes, tunnels, sessions;
  std::set<std::string> replaced_tunnels;

  for (const auto& [name, t] : before.tunnels) {
    if (!after.tunnels.count(name)) {
      tunnel_deletes.push_back(Action(v1::RESOURCE_KIND_TUNNEL, name, v1::PlanAction::OPERATION_DELETE));
    }
  }
  for (const auto& [name, t] : after.tunnels) {
    auto old = before.tunnels.find(name);
    if (old == before.tunnels.end()) {
      tunnels.push_back(Action(v1::RESOURCE_KIND_TUNNEL, name, v1::PlanAction::OPERATION_CREATE));
      continue;
    }
    auto changed = ChangedFields(old->second.spec(), t.spec());
    if (!changed.empty()) {
      // A tunnel's addresses, ids and ports cannot change in place in Linux.
      replaced_tunnels.insert(name);
      tunnels.push_back(Action(v1::RESOURCE_KIND_TUNNEL, name, v1::PlanAction::OPERATION_REPLACE, changed,
                               "tunnel parameters cannot change in place"));
    } else if (named.count("tunnel/" + name)) {
      tunnels.push_back(Action(v1::RESOURCE_KIND_TUNNEL, name, v1::PlanAction::OPERATION_UNCHANGED));
    }
  }

  for (const auto& [name, s] : before.sessions) {
    if (!after.sessions.count(name)) {
      session_deletes.push_back(Action(v1::RESOURCE_KIND_SESSION, name, v1::PlanAction::OPERATION_DELETE));
    }
  }
  for (const auto& [name, s] : after.sessions) {
    auto old = before.sessions.find(name);
    if (old == before.sessions.end()) {
      sessions.push_back(Action(v1::RESOURCE_KIND_SESSION, name, v1::PlanAction::OPERATION_CREATE));
      continue;
    }
    auto changed = ChangedFields(old->second.spec(), s.spec());
    if (replaced_tunnels.count(s.spec().tunnel())) {
      sessions.push_back(Action(v1::RESOURCE_KIND_SESSION, name, v1::PlanAction::OPERATION_REPLACE, changed,
                                "its tunnel is replaced"));
    } else if (changed.empty()) {
      if (named.count("session/" + name)) {
        sessions.push_back(Action(v1::RESOURCE_KIND_SESSION, name, v1::PlanAction::OPERATION_UNCHANGED));
      }
    } else if (SessionChangeIsInPlace(changed)) {
      sessions.push_back(Action(v1::RESOURCE_KIND_SESSION, name, v1::PlanAction::OPERATION_MODIFY, changed));
    } else {
      sessions.push_back(Action(v1::RESOURCE_KIND_SESSION, name, v1::PlanAction::OPERATION_REPLACE, changed,
                                InPlaceChangeMessage()));
    }
  }
  for (auto* group : {&session_deletes, &tunnel_deletes, &tunnels, &sessions}) {
    for (auto& a : *group) *plan.add_actions() = std::move(a);
  }
  return plan;
}

}  // namespace l2tp
