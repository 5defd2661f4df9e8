// One human-readable line per watch event:
//   "MODIFIED tunnel/t1 phase=READY gen=2 <message>", "--- synced ---".
#pragma once

#include <string>

#include "l2tpagent/v1/l2tpagent.pb.h"

namespace l2tp::cli {

std::string WatchEventLine(const ::l2tpagent::v1::WatchEvent& event);

}  // namespace l2tp::cli
