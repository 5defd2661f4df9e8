// Listens to the `l2tp` generic netlink multicast group so the agent can
// reconcile as soon as someone else (e.g. `ip l2tp del`) changes a tunnel or
// session, instead of at the next periodic resync. The kernel notifies only
// changes made through netlink, from every network namespace, so this only
// wakes the agent early; the periodic resync stays the source of truth.
#pragma once

#include <netlink/netlink.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <thread>

#include "absl/status/statusor.h"
#include "datapath/datapath.h"

namespace l2tp::kernel {

// What KernelDatapath::WatchExternalChanges hands out.
class L2tpEventWatcher : public ExternalChangeWatch {
 public:
  // `on_change` runs on the watcher's thread, once per batch of
  // notifications not caused by the netlink socket whose port is
  // `ignore_port` (the datapath's own requests), and after lost notifications.
  static absl::StatusOr<std::unique_ptr<L2tpEventWatcher>> Start(uint32_t ignore_port,
                                                                 std::function<void()> on_change);
  ~L2tpEventWatcher() override;  // stops and joins the thread

  uint64_t notifications() const { return notifications_.load(); }  // seen, own excluded

 private:
  L2tpEventWatcher(nl_sock* sk, int stop_fd, uint32_t ignore_port, std::function<void()> on_change);
  void Loop();

  nl_sock* sk_;
  int stop_fd_;  // eventfd: written by the destructor
  uint32_t ignore_port_;
  std::function<void()> on_change_;
  std::atomic<uint64_t> notifications_{0};
  std::thread thread_;
};

}  // namespace l2tp::kernel
