// Whether a session's full-size frames fit its underlay (issue 15): an MTU
// that is set and does not fit is accepted, as Linux accepts it, but the
// session's READY status message and the gauge l2tp_session_fragmenting say
// that its frames are fragmented, and by how much.
#pragma once

#include <cstdint>
#include <string>

#include "agent/reconcile/reconcile_plan.h"
#include "datapath/datapath.h"

namespace l2tp {

struct SessionFit {
  uint32_t mtu = 0;                // the interface's
  uint32_t underlay_mtu = 0;       // towards the tunnel's remote; 0: the datapath cannot tell
  uint32_t fragmenting_bytes = 0;  // by how much each full-size frame exceeds it, encapsulated
};

// From what the datapath reports: its fragmenting_bytes, or, from a backend
// that cannot see the whole header (the kernel's), worked out from the
// underlay's MTU, the interface's and the overhead `want` records.
SessionFit FitOf(const DesiredObjects::Session& want, const ObservedSession& have);

// Empty while frames fit (or nothing is known); else e.g. "mtu 1450 does not
// fit the underlay (path MTU 1500 to 192.0.2.2 leaves 1442 for frames):
// full-size frames will be fragmented, 8 bytes over".
std::string FragmentingMessage(const SessionFit& fit, const IpAddress& remote);

}  // namespace l2tp
