// A tunnel's underlay socket: UDP or raw IP protocol 115, IPv4 or IPv6,
// bound to the local address (and port) and connected to the remote, so the
// kernel filters out every other peer and send() needs no address.
#pragma once

#include "absl/status/statusor.h"
#include "datapath/datapath.h"

namespace l2tp::userspace {

inline constexpr int kIpProtoL2tp = 115;

class TunnelSocket {
 public:
  static absl::StatusOr<TunnelSocket> Open(const TunnelConfig& config);

  TunnelSocket() = default;
  TunnelSocket(TunnelSocket&& o) noexcept;
  TunnelSocket& operator=(TunnelSocket&& o) noexcept;
  TunnelSocket(const TunnelSocket&) = delete;
  TunnelSocket& operator=(const TunnelSocket&) = delete;
  ~TunnelSocket();

  int fd() const { return fd_; }
  // IPv4 raw sockets deliver the IP header in front of the L2TP header.
  bool receives_ip_header() const { return receives_ip_header_; }

 private:
  int fd_ = -1;
  bool receives_ip_header_ = false;
};

}  // namespace l2tp::userspace
