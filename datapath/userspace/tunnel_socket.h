// A tunnel's underlay socket (datapath/underlay_socket.h) set up for the
// data path: checksum options, buffers, path MTU handling.
// UDP sockets use GRO on receive (several datagrams per read, cut at the
// reported segment size) and can send with GSO (SendGso).
#pragma once

#include <sys/uio.h>

#include <cstddef>
#include <cstdint>
#include <span>

#include "absl/status/statusor.h"
#include "datapath/datapath.h"
#include "datapath/underlay_socket.h"

namespace l2tp::userspace {

class TunnelSocket {
 public:
  static absl::StatusOr<TunnelSocket> Open(const TunnelConfig& config);
  // A managed tunnel: a duplicate of config.socket_fd (made by the control
  // plane, already bound and connected), set up the same way.
  static absl::StatusOr<TunnelSocket> Adopt(const TunnelConfig& config);

  TunnelSocket() = default;
  TunnelSocket(TunnelSocket&& o) noexcept;
  TunnelSocket& operator=(TunnelSocket&& o) noexcept;
  TunnelSocket(const TunnelSocket&) = delete;
  TunnelSocket& operator=(const TunnelSocket&) = delete;
  ~TunnelSocket();

  int fd() const { return fd_; }
  bool gro() const { return gro_; }
  bool gso() const { return gso_; }

  // Sends the bytes `iov` gathers as datagrams of `segment_size` (the last
  // may be shorter) in one call (sendmsg with UDP_SEGMENT). The kernel
  // refuses GSO without UDP checksums, so a socket configured not to
  // checksum turns them on for GSO sends: those datagrams carry a valid
  // checksum, which every receiver accepts. Returns false (errno set) on
  // failure: EINVAL or EMSGSIZE when the kernel cannot segment these (e.g.
  // segments above the route MTU).
  bool SendGso(std::span<const iovec> iov, uint16_t segment_size);
  // Call before sending plain datagrams: puts back the configured zero
  // checksums if a GSO send turned checksums on. The switch is made only when
  // the kind of send changes (a flood of GSO sends costs no setsockopt).
  void PreparePlainSend() {
    if (checksum_forced_) {
      SetNoCheckTx(true);
      checksum_forced_ = false;
    }
  }
  // From now on every datagram carries a UDP checksum, even where the
  // tunnel is configured to send none: for a socket that other threads send
  // through too (transmit spreading), whose SO_NO_CHECK switch for GSO sends
  // would race with their sends (a GSO send refused mid-switch). A valid
  // checksum is accepted by every receiver.
  void KeepChecksums() {
    if (no_check_tx_) SetNoCheckTx(false);
    no_check_tx_ = false;
    checksum_forced_ = false;
  }
  // IPv4 raw sockets deliver the IP header in front of the L2TP header.
  bool receives_ip_header() const { return receives_ip_header_; }

 private:
  static absl::StatusOr<TunnelSocket> Configure(const TunnelConfig& config, int fd);
  bool SetNoCheckTx(bool on);

  int fd_ = -1;
  bool receives_ip_header_ = false;
  bool gro_ = false;
  bool gso_ = false;
  bool no_check_tx_ = false;      // configured: send zero UDP checksums
  bool checksum_forced_ = false;  // checksums on for GSO despite no_check_tx_
  int family_ = AF_UNSPEC;
};

}  // namespace l2tp::userspace
