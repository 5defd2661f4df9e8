// `kubectl apply`-style lines for a plan: "tunnel/t1 created",
// "session/s1 configured (changed: sendSequence) (dry run)".
#pragma once

#include <string>

#include "l2tpagent/v1/l2tpagent.pb.h"

namespace l2tp::cli {

std::string PlanLine(const ::l2tpagent::v1::PlanAction& action, bool dry_run);

// One line per action, each ending in a newline; empty for an empty plan.
std::string PlanLines(const ::l2tpagent::v1::Plan& plan, bool dry_run);

}  // namespace l2tp::cli
