// Keeps the agent in step with its --config file (in Kubernetes, a mounted
// ConfigMap that kubelet swaps in place): applied at start, then re-read
// every interval. A changed file is applied as a whole, and what it no longer
// declares is deleted (Registry::ApplyConfigFile). A file that does not parse
// or validate is reported and changes nothing; the last good one stays.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "agent/state/registry.h"

namespace l2tp {

class ConfigReloader {
 public:
  // Told of every apply attempt of a changed file: ok, and the error if not.
  using Observer = std::function<void(const absl::Status&)>;

  ConfigReloader(std::string path, Registry* registry, Observer observer);
  ~ConfigReloader();

  // Reads the file; applies it if its content differs from the last content
  // applied. OK when applied or unchanged.
  absl::Status CheckNow();

  // Calls CheckNow every `interval` on a thread until Stop (or destruction).
  void Start(std::chrono::milliseconds interval);
  void Stop();

 private:
  const std::string path_;
  Registry* const registry_;
  const Observer observer_;
  std::mutex mu_;                 // serialises CheckNow; guards the fields below
  std::string applied_;           // content of the last file applied
  std::string rejected_;          // content of the last file refused, and why:
  absl::Status rejected_status_;  // a broken file is reported once, not every interval
  std::string last_error_;        // the same for a file that cannot be read
  bool stop_ = false;
  std::condition_variable wake_;
  std::thread thread_;
};

}  // namespace l2tp
