// What the control plane asks of whoever runs PPP calls (agent/pppcalls):
// start one when a PPP session's L2TP call is ESTABLISHED and its tunnel is
// in the datapath, end it when the call is over. A call that ends on its own
// (pppd exited) is reported back through ControlPlane::PppCallEnded, which
// hangs the L2TP call up with a CDN saying why.
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "datapath/datapath.h"
#include "l2tpagent/v1/l2tpagent.pb.h"

namespace l2tp {

struct PppCallStart {
  uint64_t call_id = 0;          // unique for the agent's run; names the call in EndCall and PppCallEnded
  std::string session;           // the Session resource's name
  uint32_t slot = 0;             // LNS: which of the template's max_sessions calls (1..); LAC: 0
  bool lns = false;              // the side: LNS answers calls and authenticates the peer
  TunnelConfig tunnel;           // the datapath's tunnel (it holds it)
  SessionConfig session_config;  // ids, sequencing, LNS mode, cookies; interface_name: the call's
  l2tpagent::v1::PppSpec ppp;
};

class PppCallRunner {
 public:
  virtual ~PppCallRunner() = default;
  // Opens the call's PPP channel and starts its pppd. An error (the channel,
  // the secrets, the pool, pppd) means nothing is left running: the control
  // plane hangs the call up with the error's message.
  virtual absl::Status StartCall(const PppCallStart& call) = 0;
  // Ends a call started here: pppd stopped, the channel closed (which
  // deletes the session), the files removed, the pool address released. No
  // PppCallEnded for it. Unknown ids are ignored.
  virtual void EndCall(uint64_t call_id, const std::string& why) = 0;
  // The session is no longer desired (its calls were ended): forget what is
  // kept of it (the status of its last calls, an LNS template's pool).
  virtual void ForgetSession(const std::string& session) = 0;
};

}  // namespace l2tp
