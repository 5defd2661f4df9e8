// Frames for the coalescer and TCP offload tests: TCP segments and UDP
// datagrams with valid checksums, built and checked with the textbook
// RFC 1071 sum (independent of datapath/userspace/checksum.h).
#pragma once

#include <sys/uio.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace l2tp::userspace::rx_frames {

constexpr size_t kEth = 14;

inline uint16_t Be16(const std::vector<uint8_t>& f, size_t at) { return uint16_t(f[at] << 8 | f[at + 1]); }
inline void SetBe16(std::vector<uint8_t>& f, size_t at, size_t v) {
  f[at] = uint8_t(v >> 8);
  f[at + 1] = uint8_t(v);
}

// 16-bit words, end-around carry, inverted.
inline uint16_t NaiveChecksum(const std::vector<uint8_t>& d) {
  uint32_t sum = 0;
  for (size_t i = 0; i < d.size(); i += 2) {
    sum += (d[i] << 8) | (i + 1 < d.size() ? d[i + 1] : 0);
    sum = (sum & 0xffff) + (sum >> 16);
  }
  return static_cast<uint16_t>(~sum);
}

inline bool IsV6(const std::vector<uint8_t>& f) { return Be16(f, 12) == 0x86dd; }
inline size_t L4(const std::vector<uint8_t>& f) { return kEth + (IsV6(f) ? 40 : 20); }
inline uint8_t Protocol(const std::vector<uint8_t>& f) { return f[kEth + (IsV6(f) ? 6 : 9)]; }
// Ethernet + IP + TCP (with its options) or UDP headers.
inline size_t Headers(const std::vector<uint8_t>& f) {
  return L4(f) + (Protocol(f) == 6 ? size_t(f[L4(f) + 12] >> 4) * 4 : 8);
}

// The TCP/UDP pseudo-header for an L4 length of `l4_len`.
inline std::vector<uint8_t> Pseudo(const std::vector<uint8_t>& f, size_t l4_len) {
  std::vector<uint8_t> ph;
  const uint8_t* ip = &f[kEth];
  uint8_t proto = Protocol(f);
  if (IsV6(f)) {
    ph.assign(ip + 8, ip + 40);
    ph.insert(ph.end(), {uint8_t(l4_len >> 24), uint8_t(l4_len >> 16), uint8_t(l4_len >> 8), uint8_t(l4_len),
                         0, 0, 0, proto});
  } else {
    ph.assign(ip + 12, ip + 20);
    ph.insert(ph.end(), {0, proto, uint8_t(l4_len >> 8), uint8_t(l4_len)});
  }
  return ph;
}

inline size_t ChecksumOffset(const std::vector<uint8_t>& f) { return L4(f) + (Protocol(f) == 6 ? 16 : 6); }

// Fills in the IPv4 header checksum and the TCP/UDP one (UDP: 0 becomes 0xffff).
inline void FixChecksums(std::vector<uint8_t>& f) {
  if (!IsV6(f)) {
    SetBe16(f, kEth + 10, 0);
    SetBe16(f, kEth + 10, NaiveChecksum({f.begin() + kEth, f.begin() + kEth + 20}));
  }
  size_t l4 = L4(f);
  SetBe16(f, ChecksumOffset(f), 0);
  std::vector<uint8_t> all = Pseudo(f, f.size() - l4);
  all.insert(all.end(), f.begin() + l4, f.end());
  uint16_t c = NaiveChecksum(all);
  SetBe16(f, ChecksumOffset(f), c == 0 && Protocol(f) == 17 ? 0xffff : c);
}

inline bool L4ChecksumValid(const std::vector<uint8_t>& f) {
  std::vector<uint8_t> all = Pseudo(f, f.size() - L4(f));
  all.insert(all.end(), f.begin() + L4(f), f.end());
  return NaiveChecksum(all) == 0;
}

// A coalescer's TAP write (coalesced_frame.h: the virtio-net header, then
// the frame, in iovecs) in one buffer, for tests that look at whole frames.
inline std::vector<uint8_t> Flatten(std::span<const iovec> iov) {
  std::vector<uint8_t> all;
  for (const iovec& v : iov) {
    const auto* p = static_cast<const uint8_t*>(v.iov_base);
    all.insert(all.end(), p, p + v.iov_len);
  }
  return all;
}

inline std::vector<uint8_t> Payload(size_t n, uint8_t seed) {
  std::vector<uint8_t> p(n);
  for (size_t i = 0; i < n; ++i) p[i] = static_cast<uint8_t>(seed * 31 + i * 7);
  return p;
}

// Ethernet 02:..:01 -> 02:..:02 and an IP header 10.0.0.1 -> 10.0.0.2 (or
// fd00::1 -> fd00::2) for `l4_len` bytes of protocol `proto`.
inline std::vector<uint8_t> IpHeaders(bool v6, uint8_t proto, size_t l4_len, uint16_t ip_id) {
  std::vector<uint8_t> b = {0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1};
  if (v6) {
    b.insert(b.end(), {0x86, 0xdd, 0x60, 0, 0, 0, uint8_t(l4_len >> 8), uint8_t(l4_len), proto, 64});
    for (int i = 0; i < 16; ++i) b.push_back(i == 0 ? 0xfd : i == 15 ? 1 : 0);
    for (int i = 0; i < 16; ++i) b.push_back(i == 0 ? 0xfd : i == 15 ? 2 : 0);
  } else {
    size_t tot = 20 + l4_len;
    b.insert(b.end(), {0x08,
                       0x00,
                       0x45,
                       0,
                       uint8_t(tot >> 8),
                       uint8_t(tot),
                       uint8_t(ip_id >> 8),
                       uint8_t(ip_id),
                       0x40,
                       0,
                       64,
                       proto,
                       0,
                       0,
                       10,
                       0,
                       0,
                       1,
                       10,
                       0,
                       0,
                       2});
  }
  return b;
}

// A TCP segment 12345 -> 80 with valid checksums; `flags` 0x10 = ACK.
inline std::vector<uint8_t> MakeTcp(bool v6, uint32_t seq, const std::vector<uint8_t>& payload,
                                    uint8_t flags = 0x10, uint16_t ip_id = 0x1234) {
  std::vector<uint8_t> b = IpHeaders(v6, 6, 20 + payload.size(), ip_id);
  b.insert(b.end(), {0x30,
                     0x39,
                     0x00,
                     0x50,
                     uint8_t(seq >> 24),
                     uint8_t(seq >> 16),
                     uint8_t(seq >> 8),
                     uint8_t(seq),
                     0,
                     0,
                     0,
                     9,
                     0x50,
                     flags,
                     0xff,
                     0xff,
                     0,
                     0,
                     0,
                     0});
  b.insert(b.end(), payload.begin(), payload.end());
  FixChecksums(b);
  return b;
}

// A UDP datagram 5000 -> `dport` with valid checksums.
inline std::vector<uint8_t> MakeUdp(bool v6, const std::vector<uint8_t>& payload, uint16_t ip_id,
                                    uint16_t dport = 5201) {
  size_t udp_len = 8 + payload.size();
  std::vector<uint8_t> b = IpHeaders(v6, 17, udp_len, ip_id);
  b.insert(b.end(),
           {0x13, 0x88, uint8_t(dport >> 8), uint8_t(dport), uint8_t(udp_len >> 8), uint8_t(udp_len), 0, 0});
  b.insert(b.end(), payload.begin(), payload.end());
  FixChecksums(b);
  return b;
}

// What a coalescer must write for a run of `segments` (more than one): the
// first segment's headers with the lengths of the whole (IPv4 header
// checksum redone; TCP: PSH if any segment had it; UDP: the length field),
// the L4 checksum field holding the pseudo-header sum (the partial checksum
// the kernel completes), then every segment's payload in order.
inline std::vector<uint8_t> SuperFrame(const std::vector<std::vector<uint8_t>>& segments) {
  const std::vector<uint8_t>& first = segments[0];
  size_t headers = Headers(first);
  std::vector<uint8_t> f(first.begin(), first.begin() + headers);
  bool tcp = Protocol(first) == 6;
  for (const auto& s : segments) {
    size_t h = Headers(s);
    size_t ip_end = kEth + (IsV6(s) ? 40 + Be16(s, kEth + 4) : Be16(s, kEth + 2));  // without padding
    f.insert(f.end(), s.begin() + h, s.begin() + ip_end);
    if (tcp) f[L4(f) + 13] |= s[L4(s) + 13] & 0x08;
  }
  if (IsV6(f)) {
    SetBe16(f, kEth + 4, f.size() - kEth - 40);
  } else {
    SetBe16(f, kEth + 2, f.size() - kEth);
    SetBe16(f, kEth + 10, 0);
    SetBe16(f, kEth + 10, NaiveChecksum({f.begin() + kEth, f.begin() + kEth + 20}));
  }
  if (!tcp) SetBe16(f, L4(f) + 4, f.size() - L4(f));
  SetBe16(f, ChecksumOffset(f), static_cast<uint16_t>(~NaiveChecksum(Pseudo(f, f.size() - L4(f)))));
  return f;
}

}  // namespace l2tp::userspace::rx_frames
