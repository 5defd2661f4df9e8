// The running agent: every layer built from AgentOptions and wired together
// (state, datapath and reconciler, metrics, the API and its listeners).
#pragma once

#include <memory>

#include "absl/status/statusor.h"
#include "agent/agent_options.h"

namespace l2tp {

struct AgentParts;

class Agent {
 public:
  // Builds every piece, applies --config and starts serving. An error names
  // the flag or file at fault; nothing is left running then.
  static absl::StatusOr<std::unique_ptr<Agent>> Start(const AgentOptions& options);
  ~Agent();

  // Stops serving and lets the reconcile pass in progress finish. Datapath
  // objects stay in place.
  void Stop();

 private:
  explicit Agent(std::unique_ptr<AgentParts> parts);
  std::unique_ptr<AgentParts> parts_;
};

}  // namespace l2tp
