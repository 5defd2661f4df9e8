// The thin I/O part: one generic netlink socket bound to the `l2tp` family.
// Sends a request and waits for the kernel's ack (keeping its errno), or
// streams a dump's replies to a callback.
#pragma once

#include <netlink/netlink.h>

#include <functional>
#include <memory>

#include "absl/status/statusor.h"
#include "datapath/kernel/kernel_errors.h"
#include "datapath/kernel/l2tp_messages.h"

namespace l2tp::kernel {

class GenlL2tpSocket {
 public:
  static absl::StatusOr<std::unique_ptr<GenlL2tpSocket>> Open();
  ~GenlL2tpSocket();

  int family() const { return family_; }
  // The socket's netlink port: the kernel stamps it on notifications of
  // changes this socket requested. Changes if a failed receive forces a new
  // socket.
  uint32_t port() const;

  // Sends `msg`, waits for the ack. The kernel's errno becomes a Status
  // naming `object` (e.g. "create tunnel 100").
  absl::Status Execute(NlMsgPtr msg, KernelOp op, const std::string& object);

  // Sends `msg` (a dump or single GET) and hands every reply to `on_reply`;
  // the first error it returns stops the walk and is returned.
  absl::Status Query(NlMsgPtr msg, KernelOp op, const std::string& object,
                     const std::function<absl::Status(nlmsghdr*)>& on_reply);

 private:
  GenlL2tpSocket(nl_sock* sk, int family) : sk_(sk), family_(family) {}
  void Reconnect();  // after a failed receive: drop whatever is still queued
  absl::Status Exchange(NlMsgPtr msg, KernelOp op, const std::string& object,
                        const std::function<absl::Status(nlmsghdr*)>* on_reply);

  nl_sock* sk_;
  int family_;
};

}  // namespace l2tp::kernel
