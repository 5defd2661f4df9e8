// Crash-safe persistence of the desired state.
//
// One file, STATE_DIR/state.pb, written whole: a temp file is written and
// fsynced, the current file is hard-linked to state.pb.prev, the temp file is
// renamed over the current one and the directory is fsynced. A frame (magic,
// length, CRC-32C) lets a torn or corrupted file be detected, and the content
// is checked against the rules of Apply (agent/state_check.h). A file that
// fails either check is set aside and the previous good state is loaded
// instead, never a mix.
#pragma once

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "l2tpagent/store/v1/state.pb.h"

namespace l2tp {

class Store {
 public:
  struct LoadReport {
    bool fresh = false;        // nothing stored yet
    bool recovered = false;    // current file was bad; previous good state loaded
    std::string problem;       // what was wrong with the current file
    std::string removed_temp;  // a partial state.pb.tmp removed at start (path)
  };

  // Opens (creating) `dir`, removes a leftover temp file and loads the stored
  // state. Fails (DATA_LOSS, naming the file and the first problems) when the
  // state file is bad and no previous good state exists: starting empty would
  // make the agent tear down everything it owns.
  static absl::StatusOr<std::unique_ptr<Store>> Open(const std::string& dir, LoadReport* report);

  const l2tpagent::store::v1::State& state() const { return state_; }

  // Persists `next` durably, then makes it the current state. On failure the
  // current state (in memory and on disk) is unchanged.
  absl::Status Commit(const l2tpagent::store::v1::State& next);

  std::string path() const { return dir_ + "/state.pb"; }

  // The frame, exposed for tests. Decode checks the frame only, not the content.
  static std::string Encode(const l2tpagent::store::v1::State& state);
  static absl::StatusOr<l2tpagent::store::v1::State> Decode(const std::string& bytes);

 private:
  explicit Store(std::string dir) : dir_(std::move(dir)) {}
  std::string dir_;
  l2tpagent::store::v1::State state_;
};

}  // namespace l2tp
