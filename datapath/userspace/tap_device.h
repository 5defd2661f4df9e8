// A session's Ethernet side: a persistent TAP device (IFF_TAP | IFF_NO_PI |
// IFF_VNET_HDR). Persistent so that addresses and bridge membership users put
// on it survive an agent restart; opening a persistent TAP that already
// exists re-attaches. Every read and write carries a virtio-net header; with
// offloads on, the kernel hands us TCP super-frames and partial checksums
// (see tcp_segmenter.h) and accepts coalesced ones (tcp_coalescer.h, and
// udp_coalescer.h where the kernel takes USO frames).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace l2tp::userspace {

class TapDevice {
 public:
  // Creates (or re-attaches to) the TAP `name`, non-blocking, persistent.
  // `tso`: accept TCP segmentation/checksum offload from the kernel. `alias`
  // (the ownership mark, device_mark.h) is set before the device is made
  // persistent, so a crash can never leave an unmarked TAP behind: until
  // then the device lives only as long as our file descriptor.
  // `multi_queue`: made with IFF_MULTI_QUEUE, so that OpenQueue can add
  // queues. A TAP that exists already keeps the kind it was made with
  // (multi_queue() says which).
  static absl::StatusOr<TapDevice> Open(const std::string& name, bool tso, std::string_view alias,
                                        bool multi_queue = false);
  // Another queue of this multi-queue TAP: its own fd, from which the kernel
  // hands over the frames it steers to that queue (tap_steering.h). Writes
  // through it are the same device's. The device goes when Remove was
  // called on the first fd and every queue is closed.
  absl::StatusOr<TapDevice> OpenQueue() const;

  TapDevice() = default;
  TapDevice(TapDevice&& o) noexcept;
  TapDevice& operator=(TapDevice&& o) noexcept;
  TapDevice(const TapDevice&) = delete;
  TapDevice& operator=(const TapDevice&) = delete;
  ~TapDevice();  // closes; the device stays (it is persistent)

  // Sets the MTU and brings the link up.
  absl::Status Configure(uint32_t mtu);
  // The MTU the last Configure set (0 before any).
  uint32_t mtu() const { return mtu_; }
  // Clears persistence and closes: the kernel removes the device.
  void Remove();
  // True while a link named name() with our ifindex exists.
  bool StillExists() const;

  int fd() const { return fd_; }
  const std::string& name() const { return name_; }
  int ifindex() const { return ifindex_; }
  // The kernel accepts GSO_UDP_L4 (USO) frames written to this TAP (6.2+).
  // We never ask it for USO frames on read: the transmit side does not
  // segment UDP, so the kernel does that before the TAP.
  bool accepts_uso() const { return accepts_uso_; }
  bool multi_queue() const { return multi_queue_; }

 private:
  int fd_ = -1;
  uint32_t mtu_ = 0;
  bool accepts_uso_ = false;
  bool multi_queue_ = false;
  std::string name_;
  int ifindex_ = 0;
};

}  // namespace l2tp::userspace
