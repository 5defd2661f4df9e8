// One human-readable line per watch event:
//   "MODIFIED tunnel/t1 phase=READY gen=2 <message>", "--- synced ---".
// DYNAMIC tunnels and their sessions add the control state after the phase:
//   "MODIFIED tunnel/t2 phase=READY control=ESTABLISHED gen=1 <message>".
#pragma once

#include <string>

#include "l2tpagent/v1/l2tpagent.pb.h"

namespace l2tp::cli {

std::string WatchEventLine(const ::l2tpagent::v1::WatchEvent& event);

}  // namespace l2tp::cli
