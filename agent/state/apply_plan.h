// The plan of a write: how the desired state changes, resource by resource.
// Pure functions; what Apply's dry run returns and what Apply then does.
#pragma once

#include <string>
#include <vector>

#include "agent/state/desired_state.h"

namespace l2tp {

// Spec fields (proto names) whose values differ between a and b. Fields of
// the API's own sub-messages are named by their path ("control.secret_file",
// or "control" when one side sets it empty); well-known types (Duration)
// count as one field. Every tunnel change is a replace; a session's changed
// remote_end_id too (it is not in kModifiableSessionFields).
std::vector<std::string> ChangedFields(const google::protobuf::Message& a,
                                       const google::protobuf::Message& b);

// True when every field in `changed` is one ModifySession changes in place:
// kModifiableSessionFields of the datapath contract (datapath/contract.h).
// Anything else is a replace.
bool SessionChangeIsInPlace(const std::vector<std::string>& changed);

// Actions taking `before` to `after`, in the order they apply: session
// deletes, tunnel deletes, tunnels, sessions. Unchanged resources that the
// request mentions (`mentioned`, "tunnel/NAME" / "session/NAME") are listed
// as UNCHANGED; others are left out.
l2tpagent::v1::Plan ComputeApplyPlan(const DesiredState& before, const DesiredState& after,
                                     const std::vector<std::string>& mentioned);

}  // namespace l2tp
