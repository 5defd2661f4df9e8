#include "agent/state/config_reloader.h"

#include "absl/strings/str_cat.h"
#include "agent/state/validation.h"
#include "common/config_file.h"
#include "common/log.h"
#include "l2tpagent/v1/l2tpagent.pb.h"

namespace l2tp {

ConfigReloader::ConfigReloader(std::string path, Registry* registry, Observer observer)
    : path_(std::move(path)), registry_(registry), observer_(std::move(observer)) {}

ConfigReloader::~ConfigReloader() { Stop(); }

absl::Status ConfigReloader::CheckNow() {
  std::lock_guard lock(mu_);
  // Read through the path each time: kubelet replaces the file by swapping a
  // symlink, so an open descriptor or inotify watch would go stale.
  absl::StatusOr<std::string> text = ReadConfigText(path_);
  if (!text.ok()) {
    const absl::Status& st = text.status();
    if (last_error_ != st.message()) {
      L2TP_LOG(kError) << "--config: " << st.message() << "; keeping the state applied so far";
      last_error_ = std::string(st.message());
      if (observer_) observer_(st);
    }
    return st;
  }
  const std::string& content = *text;
  if (content == applied_) return absl::OkStatus();
  if (content == rejected_) return rejected_status_;  // already reported

  l2tpagent::v1::Config file;
  absl::Status st = ParseConfigText(content, &file);
  if (st.ok()) {
    l2tpagent::v1::ApplyRequest request;
    *request.mutable_tunnels() = file.tunnels();
    *request.mutable_sessions() = file.sessions();
    // A secret file that cannot be read yet (a Secret mounted later) is not
    // the file's fault: reported once like a read error, and retried every
    // interval, not remembered as a broken version.
    if (absl::Status secrets = ViolationsToStatus(absl::StatusCode::kFailedPrecondition,
                                                  CheckSecretFiles(request));
        !secrets.ok()) {
      secrets = absl::Status(secrets.code(), absl::StrCat(path_, ": ", secrets.message()));
      if (last_error_ != secrets.message()) {
        L2TP_LOG(kError) << "--config: " << secrets.message() << "; keeping the state applied so far";
        last_error_ = std::string(secrets.message());
        if (observer_) observer_(secrets);
      }
      return secrets;
    }
    auto applied = registry_->ApplyConfigFile(request);
    st = applied.status();
    if (applied.ok()) {
      int changed = 0;
      for (const auto& a : applied->plan().actions()) {
        if (a.operation() != l2tpagent::v1::PlanAction::OPERATION_UNCHANGED) ++changed;
      }
      L2TP_LOG(kInfo) << "--config: applied " << path_ << " (" << file.tunnels_size() << " tunnels, "
                      << file.sessions_size() << " sessions; " << changed << " changes)";
    }
  }
  if (!st.ok()) {
    st = absl::Status(st.code(), absl::StrCat(path_, ": ", st.message()));
    L2TP_LOG(kError) << "--config: " << st.message() << "; nothing changed, keeping the state applied so far";
    rejected_ = content;
    rejected_status_ = st;
    if (observer_) observer_(st);
    return st;
  }
  applied_ = content;
  rejected_.clear();
  last_error_.clear();
  if (observer_) observer_(st);
  return st;
}

void ConfigReloader::Start(std::chrono::milliseconds interval) {
  thread_ = std::thread([this, interval] {
    std::unique_lock lock(mu_);
    while (!stop_) {
      wake_.wait_for(lock, interval, [this] { return stop_; });
      if (stop_) break;
      lock.unlock();
      (void)CheckNow();
      lock.lock();
    }
  });
}

void ConfigReloader::Stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

}  // namespace l2tp
