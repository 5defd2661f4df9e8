#include "datapath/userspace/tcp_coalescer.h"

#include <cstring>

#include "datapath/userspace/checksum.h"
#include "datapath/userspace/virtio_net_hdr.h"

namespace l2tp::userspace {
namespace {

constexpr size_t kHdr = VirtioNetHdr::kSize;
constexpr uint8_t kTcpAck = 0x10, kTcpPsh = 0x08;

}  // namespace

// The arena holds at most one run's payload, which kMaxIpLength bounds.
TcpCoalescer::TcpCoalescer(Writer write) : write_(std::move(write)), frame_(kMaxSegments, kMaxIpLength) {}

bool TcpCoalescer::Parse(std::span<const uint8_t> f, Flow* flow, size_t* payload) const {
  if (f.size() < 14) return false;
  uint16_t ethertype = GetBe16(&f[12]);
  flow->l3 = 14;
  size_t ip_total;
  if (ethertype == 0x0800) {
    if (f.size() < 14 + 20) return false;
    const uint8_t* ip = &f[14];
    if (ip[0] != 0x45) return false;                                  // v4, no options
    if ((GetBe16(ip + 6) & 0x3fff) != 0 || ip[9] != 6) return false;  // fragment, not TCP
    if (ChecksumFold(HeaderSum(ip, 20)) != 0xffff) return false;
    ip_total = GetBe16(ip + 2);
    flow->v6 = false;
    flow->l4 = 34;
  } else if (ethertype == 0x86dd) {
    if (f.size() < 14 + 40) return false;
    const uint8_t* ip = &f[14];
    if ((ip[0] >> 4) != 6 || ip[6] != 6) return false;  // extension headers: no
    ip_total = 40 + GetBe16(ip + 4);
    flow->v6 = true;
    flow->l4 = 54;
  } else {
    return false;
  }
  if (ip_total + 14 > f.size() || ip_total + 14 < flow->l4 + 20) return false;
  const uint8_t* tcp = &f[flow->l4];
  size_t tcp_header = size_t(tcp[12] >> 4) * 4;
  if (tcp_header < 20 || flow->l4 + tcp_header > 14 + ip_total) return false;
  if ((tcp[13] & ~kTcpPsh) != kTcpAck) return false;  // only ACK (+PSH) data segments
  flow->headers = flow->l4 + tcp_header;
  *payload = 14 + ip_total - flow->headers;
  if (*payload == 0) return false;
  flow->next_seq = GetBe32At(tcp + 4) + static_cast<uint32_t>(*payload);
  flow->mss = *payload;
  return true;
}

bool TcpCoalescer::SameFlow(std::span<const uint8_t> f, const Flow& n) const {
  const uint8_t* p = frame_.headers();
  if (n.v6 != flow_.v6 || n.headers != flow_.headers) return false;
  // Ethernet addresses/type, then IP fields that must agree.
  if (std::memcmp(p, f.data(), 14) != 0) return false;
  const uint8_t* a = p + 14;
  const uint8_t* b = f.data() + 14;
  if (flow_.v6) {
    if (std::memcmp(a, b, 4) != 0 || a[7] != b[7] || std::memcmp(a + 8, b + 8, 32) != 0) {
      return false;  // version/class/flow label, hop limit, addresses
    }
  } else {
    if (a[1] != b[1] || a[6] != b[6] || a[8] != b[8] || std::memcmp(a + 12, b + 12, 8) != 0) {
      return false;  // TOS, DF, TTL, addresses
    }
  }
  // TCP: ports, ack, window and options identical; seq continues the run.
  const uint8_t* ta = p + flow_.l4;
  const uint8_t* tb = f.data() + flow_.l4;
  if (std::memcmp(ta, tb, 4) != 0 || std::memcmp(ta + 8, tb + 8, 5) != 0 ||
      std::memcmp(ta + 14, tb + 14, 2) != 0 ||
      std::memcmp(ta + 20, tb + 20, flow_.headers - flow_.l4 - 20) != 0) {
    return false;
  }
  return GetBe32At(tb + 4) == flow_.next_seq;
}

bool TcpCoalescer::VerifyAndPlace(std::span<const uint8_t> f, const Flow& n, size_t payload, FrameInfo info,
                                  bool start) {
  std::span<const uint8_t> data = f.subspan(n.headers, payload);
  uint64_t payload_sum = 0;
  if (!info.stable && !frame_.Stage(data, info.verified ? nullptr : &payload_sum)) return false;
  if (!info.verified) {
    // Once merged, the kernel would not check the segment: check it now.
    size_t l4_len = n.headers - n.l4 + payload;
    std::span<const uint8_t> addresses = n.v6 ? f.subspan(14 + 8, 32) : f.subspan(14 + 12, 8);
    uint64_t sum = PseudoHeaderSum(addresses, 6, static_cast<uint32_t>(l4_len));
    if (info.stable) {
      sum = ChecksumAdd(sum, f.subspan(n.l4, l4_len));
    } else {  // the payload was summed as it was copied
      sum = ChecksumAdd(sum, f.subspan(n.l4, n.headers - n.l4)) + payload_sum;
    }
    if (ChecksumFold(sum) != 0xffff) return false;
  }
  if (start) frame_.Start(f.first(n.headers));
  if (info.stable) {
    frame_.AppendBorrowed(data);
  } else {
    frame_.AppendStaged(payload);
  }
  return true;
}

bool TcpCoalescer::Add(std::span<const uint8_t> frame, FrameInfo info) {
  Flow n;
  size_t payload = 0;
  if (!Parse(frame, &n, &payload)) {
    Flush();
    PassThrough(frame, info.verified);
    return false;
  }
  bool joins = segments_ > 0 && !closed_ && segments_ < kMaxSegments && payload <= flow_.mss &&
               frame_.length() - 14 + payload <= kMaxIpLength && SameFlow(frame, n);
  if (!joins) Flush();
  if (!VerifyAndPlace(frame, n, payload, info, /*start=*/!joins)) {
    Flush();
    PassThrough(frame, /*verified=*/false);  // the kernel checks it, and drops it
    return false;
  }
  bool psh = frame[n.l4 + 13] & kTcpPsh;
  if (joins) {
    ++segments_;
    flow_.next_seq += static_cast<uint32_t>(payload);
    if (psh) frame_.headers()[flow_.l4 + 13] |= kTcpPsh;
    closed_ = psh || payload < flow_.mss;
  } else {
    segments_ = 1;
    flow_ = n;
    closed_ = psh;
  }
  return info.stable;
}

void TcpCoalescer::Flush() {
  if (segments_ == 0) return;
  uint8_t* f = frame_.headers();
  size_t frame_len = frame_.length();
  VirtioNetHdr h;
  if (segments_ == 1) {
    h.flags = VirtioNetHdr::kDataValid;  // verified, here or before (FrameInfo::verified)
  } else {
    uint8_t* ip = f + 14;
    uint8_t* tcp = f + flow_.l4;
    size_t l4_len = frame_len - flow_.l4;
    SetIpPacketLength(ip, flow_.v6, frame_len - 14);
    // Partial checksum: the pseudo-header sum; the kernel finishes it if the
    // packet ever leaves the host again.
    std::span<const uint8_t> addresses = flow_.v6 ? std::span<const uint8_t>(ip + 8, 32)
                                                  : std::span<const uint8_t>(ip + 12, 8);
    PutBe16(tcp + 16, ChecksumFold(PseudoHeaderSum(addresses, 6, static_cast<uint32_t>(l4_len))));
    h.flags = VirtioNetHdr::kNeedsCsum;
    h.gso_type = flow_.v6 ? VirtioNetHdr::kGsoTcpV6 : VirtioNetHdr::kGsoTcpV4;
    h.gso_size = static_cast<uint16_t>(flow_.mss);
    h.hdr_len = static_cast<uint16_t>(flow_.headers);
    h.csum_start = static_cast<uint16_t>(flow_.l4);
    h.csum_offset = 16;
  }
  h.Write(frame_.vnet_header());
  write_(frame_.iov());
  frame_.Reset();
  segments_ = 0;
  closed_ = false;
}

void TcpCoalescer::PassThrough(std::span<const uint8_t> frame, bool verified) {
  VirtioNetHdr h;  // unverified: no flags, the kernel checks the frame as from a NIC
  if (verified) h.flags = VirtioNetHdr::kDataValid;
  uint8_t header[kHdr];
  h.Write(header);
  iovec iov[2] = {{header, kHdr}, {const_cast<uint8_t*>(frame.data()), frame.size()}};
  write_(iov);
}

}  // namespace l2tp::userspace
