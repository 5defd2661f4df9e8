#include "client/plan_lines.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "client/display_names.h"

namespace l2tp::cli {
namespace {

namespace v1 = ::l2tpagent::v1;

std::string Verb(v1::PlanAction::Operation op) {
  switch (op) {
    case v1::PlanAction::OPERATION_CREATE: return "created";
    case v1::PlanAction::OPERATION_MODIFY: return "configured";
    case v1::PlanAction::OPERATION_REPLACE: return "replaced";
    case v1::PlanAction::OPERATION_DELETE: return "deleted";
    case v1::PlanAction::OPERATION_UNCHANGED: return "unchanged";
    default: return absl::StrCat("operation(", static_cast<int>(op), ")");
  }
}

}  // namespace

std::string PlanLine(const v1::PlanAction& action, bool dry_run) {
  std::string line = absl::StrCat(ResourceRef(action.kind(), action.name()), " ", Verb(action.operation()));
  // Field names are the agent's, verbatim, as `-o json` shows them.
  std::vector<std::string> details;
  if (!action.changed_fields().empty()) {
    details.push_back(absl::StrCat("changed: ", absl::StrJoin(action.changed_fields(), ", ")));
  }
  if (!action.reason().empty()) details.push_back(action.reason());
  if (!details.empty()) absl::StrAppend(&line, " (", absl::StrJoin(details, "; "), ")");
  if (dry_run) line += " (dry run)";
  return line;
}

std::string PlanLines(const v1::Plan& plan, bool dry_run) {
  std::string out;
  for (const auto& action : plan.actions()) absl::StrAppend(&out, PlanLine(action, dry_run), "\n");
  return out;
}

}  // namespace l2tp::cli
