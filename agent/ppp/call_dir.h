// One call's private directory, <run_dir>/<call>/ (mode 0700): pppd's
// options and secrets files (mode 0600), and whatever pppd writes into its
// /etc/ppp (resolv.conf with usepeerdns). Removed, with everything in it,
// when the CallDir is destroyed.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace l2tp::ppp {

class CallDir {
 public:
  // Makes `run_dir` (0700) if it is missing, then `run_dir`/`call` (0700).
  // A directory left by a crash is emptied first. `call` is one path
  // component: 1 to 128 of A-Z a-z 0-9 _ . -, not starting with a dot.
  // Errors name the path and the errno.
  static absl::StatusOr<CallDir> Create(const std::string& run_dir, std::string_view call);

  CallDir(CallDir&& other) noexcept;
  CallDir& operator=(CallDir&& other) noexcept;
  CallDir(const CallDir&) = delete;
  CallDir& operator=(const CallDir&) = delete;
  ~CallDir();  // Remove(), errors logged

  // Writes `name` (mode 0600) whole or not at all: a temporary file in the
  // directory, renamed over `name`.
  absl::Status Write(std::string_view name, std::string_view content);

  // Removes every file in the directory, then the directory. Idempotent.
  absl::Status Remove();

  const std::string& path() const { return path_; }

 private:
  explicit CallDir(std::string path) : path_(std::move(path)) {}

  std::string path_;  // "" once removed or moved from
};

// Checks `call` as CallDir::Create does; the error names `field`.
absl::Status CheckCallName(std::string_view field, std::string_view call);

}  // namespace l2tp::ppp
