#include "client/watch_lines.h"

#include "absl/strings/str_cat.h"
#include "client/display_names.h"

namespace l2tp::cli {
namespace {

namespace v1 = ::l2tpagent::v1;

template <typename Resource>
std::string Line(const std::string& type, v1::ResourceKind kind, const Resource& r) {
  std::string line = absl::StrCat(type, " ", ResourceRef(kind, r.name()),
                                  " phase=", PhaseName(r.status().phase()));
  // Only for the control protocol's resources: STATIC ones read as before.
  if (UsesControl(r)) absl::StrAppend(&line, " control=", ControlText(r));
  absl::StrAppend(&line, " gen=", r.generation());
  if (std::string text = StatusText(r); !text.empty()) absl::StrAppend(&line, " ", text);
  return line;
}

}  // namespace

std::string WatchEventLine(const v1::WatchEvent& event) {
  if (event.type() == v1::WatchEvent::TYPE_SYNCED) return "--- synced ---";
  std::string type = EventTypeName(event.type());
  switch (event.resource_case()) {
    case v1::WatchEvent::kTunnel: return Line(type, v1::RESOURCE_KIND_TUNNEL, event.tunnel());
    case v1::WatchEvent::kSession: return Line(type, v1::RESOURCE_KIND_SESSION, event.session());
    default: return absl::StrCat(type, " (no resource)");
  }
}

}  // namespace l2tp::cli
