#include "datapath/userspace/udp_coalescer.h"

#include <cstring>

#include "datapath/userspace/checksum.h"
#include "datapath/userspace/virtio_net_hdr.h"

namespace l2tp::userspace {
namespace {

constexpr size_t kHdr = VirtioNetHdr::kSize;
constexpr size_t kEth = 14;
constexpr uint8_t kUdp = 17;

}  // namespace

// The arena holds at most one run's payload, which kMaxIpLength bounds.
UdpCoalescer::UdpCoalescer(Writer write) : write_(std::move(write)), frame_(kMaxSegments, kMaxIpLength) {}

bool UdpCoalescer::IsUdp(std::span<const uint8_t> f) {
  if (f.size() < kEth + 40) return false;
  uint16_t ethertype = GetBe16(&f[12]);
  if (ethertype == 0x0800) return f[kEth + 9] == kUdp;
  if (ethertype == 0x86dd) return f[kEth + 6] == kUdp;
  return false;
}

bool UdpCoalescer::Parse(std::span<const uint8_t> f, Flow* flow, size_t* payload) const {
  if (f.size() < kEth + 20) return false;
  uint16_t ethertype = GetBe16(&f[12]);
  size_t ip_total;
  const uint8_t* ip = &f[kEth];
  if (ethertype == 0x0800) {
    if (ip[0] != 0x45 || ip[9] != kUdp) return false;   // v4 without options
    if ((GetBe16(ip + 6) & 0x3fff) != 0) return false;  // a fragment
    if (ChecksumFold(HeaderSum(ip, 20)) != 0xffff) return false;
    ip_total = GetBe16(ip + 2);
    flow->v6 = false;
    flow->l4 = kEth + 20;
    flow->next_id = static_cast<uint16_t>(GetBe16(ip + 4) + 1);
  } else if (ethertype == 0x86dd) {
    if (f.size() < kEth + 40) return false;
    if ((ip[0] >> 4) != 6 || ip[6] != kUdp) return false;  // extension headers: no
    ip_total = 40 + GetBe16(ip + 4);
    flow->v6 = true;
    flow->l4 = kEth + 40;
  } else {
    return false;
  }
  if (kEth + ip_total > f.size() || kEth + ip_total < flow->l4 + 8) return false;
  const uint8_t* udp = &f[flow->l4];
  size_t udp_len = kEth + ip_total - flow->l4;
  if (GetBe16(udp + 4) != udp_len || udp_len == 8) return false;
  // A zero checksum (IPv4: none sent) would come out of the kernel's
  // segmenter filled in: not bit for bit, so not merged.
  if (GetBe16(udp + 6) == 0) return false;
  *payload = udp_len - 8;
  flow->size = *payload;
  return true;
}

bool UdpCoalescer::SameFlow(std::span<const uint8_t> f, const Flow& n) const {
  if (n.v6 != flow_.v6) return false;
  const uint8_t* p = frame_.headers();
  if (std::memcmp(p, f.data(), kEth) != 0) return false;
  const uint8_t* a = p + kEth;
  const uint8_t* b = f.data() + kEth;
  if (flow_.v6) {
    if (std::memcmp(a, b, 4) != 0 || a[7] != b[7] || std::memcmp(a + 8, b + 8, 32) != 0) {
      return false;  // version/class/flow label, hop limit, addresses
    }
  } else {
    if (a[1] != b[1] || a[6] != b[6] || a[8] != b[8] || std::memcmp(a + 12, b + 12, 8) != 0) {
      return false;  // TOS, DF, TTL, addresses
    }
    if (GetBe16(b + 4) != flow_.next_id) return false;
  }
  return std::memcmp(p + flow_.l4, f.data() + flow_.l4, 4) == 0;  // ports
}

bool UdpCoalescer::VerifyAndPlace(std::span<const uint8_t> f, const Flow& n, size_t payload, FrameInfo info,
                                  bool start) {
  std::span<const uint8_t> data = f.subspan(n.l4 + 8, payload);
  uint64_t payload_sum = 0;
  if (!info.stable && !frame_.Stage(data, info.verified ? nullptr : &payload_sum)) return false;
  if (!info.verified) {
    // The segmenter would give a corrupt datagram a valid checksum: check it.
    size_t udp_len = 8 + payload;
    std::span<const uint8_t> addresses = n.v6 ? f.subspan(kEth + 8, 32) : f.subspan(kEth + 12, 8);
    uint64_t sum = PseudoHeaderSum(addresses, kUdp, static_cast<uint32_t>(udp_len));
    if (info.stable) {
      sum = ChecksumAdd(sum, f.subspan(n.l4, udp_len));
    } else {  // the payload was summed as it was copied
      sum = ChecksumAdd(sum, f.subspan(n.l4, 8)) + payload_sum;
    }
    if (ChecksumFold(sum) != 0xffff) return false;
  }
  if (start) frame_.Start(f.first(n.l4 + 8));
  if (info.stable) {
    frame_.AppendBorrowed(data);
  } else {
    frame_.AppendStaged(payload);
  }
  return true;
}

bool UdpCoalescer::Add(std::span<const uint8_t> frame, FrameInfo info) {
  Flow n;
  size_t payload = 0;
  if (!Parse(frame, &n, &payload)) {
    Flush();
    PassThrough(frame, info.verified);
    return false;
  }
  bool joins = segments_ > 0 && !closed_ && segments_ < kMaxSegments && payload <= flow_.size &&
               frame_.length() - kEth + payload <= kMaxIpLength && SameFlow(frame, n);
  if (!joins) Flush();
  if (!VerifyAndPlace(frame, n, payload, info, /*start=*/!joins)) {
    Flush();
    PassThrough(frame, /*verified=*/false);  // the kernel checks it, and drops it
    return false;
  }
  if (joins) {
    ++segments_;
    ++flow_.next_id;
    closed_ = payload < flow_.size;
  } else {
    segments_ = 1;
    flow_ = n;
    closed_ = false;
  }
  return info.stable;
}

void UdpCoalescer::Flush() {
  if (segments_ == 0) return;
  uint8_t* f = frame_.headers();
  size_t frame_len = frame_.length();
  VirtioNetHdr h;
  if (segments_ == 1) {
    h.flags = VirtioNetHdr::kDataValid;  // verified, here or before (FrameInfo::verified)
  } else {
    uint8_t* ip = f + kEth;
    uint8_t* udp = f + flow_.l4;
    size_t udp_len = frame_len - flow_.l4;
    SetIpPacketLength(ip, flow_.v6, frame_len - kEth);
    // The segmenter rewrites each datagram's length and completes its
    // checksum from this partial one (the pseudo-header with the total length).
    PutBe16(udp + 4, static_cast<uint16_t>(udp_len));
    std::span<const uint8_t> addresses = flow_.v6 ? std::span<const uint8_t>(ip + 8, 32)
                                                  : std::span<const uint8_t>(ip + 12, 8);
    PutBe16(udp + 6, ChecksumFold(PseudoHeaderSum(addresses, kUdp, static_cast<uint32_t>(udp_len))));
    h.flags = VirtioNetHdr::kNeedsCsum;
    h.gso_type = VirtioNetHdr::kGsoUdpL4;
    h.gso_size = static_cast<uint16_t>(flow_.size);
    h.hdr_len = static_cast<uint16_t>(flow_.l4 + 8);
    h.csum_start = static_cast<uint16_t>(flow_.l4);
    h.csum_offset = 6;
  }
  h.Write(frame_.vnet_header());
  write_(frame_.iov());
  frame_.Reset();
  segments_ = 0;
  closed_ = false;
}

void UdpCoalescer::PassThrough(std::span<const uint8_t> frame, bool verified) {
  VirtioNetHdr h;  // unverified: no flags, the kernel checks the frame as from a NIC
  if (verified) h.flags = VirtioNetHdr::kDataValid;
  uint8_t header[kHdr];
  h.Write(header);
  iovec iov[2] = {{header, kHdr}, {const_cast<uint8_t*>(frame.data()), frame.size()}};
  write_(iov);
}

}  // namespace l2tp::userspace
