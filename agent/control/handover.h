// Carrying DYNAMIC tunnels across an agent restart: the stopping agent
// writes where each ESTABLISHED connection stands (control/connection.h
// ConnectionSnapshot) to a file in its state directory; the next one takes
// the file, removes it, and resumes the connections it still wants, so the
// peer sees a few seconds of silence and no new SCCRQ. A file older than
// the limit is ignored: the peer has given up on those connections by then.
#pragma once

#include <chrono>
#include <map>
#include <string>

#include "absl/status/status.h"
#include "control/connection.h"
#include "l2tpagent/store/v1/control.pb.h"

namespace l2tp {

// One connection, as the file keeps it: the library's snapshot, and the
// names and generations it was for (a spec changed meanwhile is not resumed).
struct HandedOver {
  uint64_t generation = 0;
  control::ConnectionSnapshot snapshot;
  std::map<std::string, std::pair<uint64_t, uint32_t>> sessions;  // name -> (generation, local id)
};

l2tpagent::store::v1::ControlConnectionSnapshot ToProto(const std::string& tunnel, const HandedOver& h,
                                                        const std::map<uint32_t, std::string>& session_names);
HandedOver FromProto(const l2tpagent::store::v1::ControlConnectionSnapshot& p);

// Written atomically (temporary file, fsync, rename).
absl::Status WriteHandover(const std::string& path, const l2tpagent::store::v1::ControlHandover& handover);
// The connections in `path`, by tunnel name, if the file is younger than
// `max_age`; the file is removed either way. A missing file is no error.
std::map<std::string, HandedOver> TakeHandover(const std::string& path, std::chrono::seconds max_age);

}  // namespace l2tp
