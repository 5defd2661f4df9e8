#include "datapath/userspace/flow_hash.h"

#include <cstring>

namespace l2tp::userspace {
namespace {

constexpr uint16_t kEtherIpv4 = 0x0800;
constexpr uint16_t kEtherIpv6 = 0x86dd;
constexpr uint16_t kEtherVlan = 0x8100;
constexpr uint16_t kEtherQinQ = 0x88a8;

uint16_t Be16(const uint8_t* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }
uint32_t Word(const uint8_t* p) {
  uint32_t w;
  std::memcpy(&w, p, sizeof w);
  return w;
}

// Each word is multiplied before it is added, so that fields cannot cancel
// each other out (a plain XOR of addresses and ports can).
uint32_t Mix(uint32_t h, uint32_t word) {
  h = (h ^ word) * 0x9e3779b1u;
  return h ^ (h >> 15);
}

bool CarriesPorts(uint8_t protocol) {
  return protocol == 6 || protocol == 17 || protocol == 132 || protocol == 136;
}

}  // namespace

uint32_t InnerFlowHash(std::span<const uint8_t> frame) {
  size_t at = 12;
  if (frame.size() < at + 2) return 0;
  uint16_t type = Be16(&frame[at]);
  if (type == kEtherVlan || type == kEtherQinQ) {
    at += 4;
    if (frame.size() < at + 2) return 0;
    type = Be16(&frame[at]);
  }
  at += 2;  // the IP header
  const uint8_t* ip = frame.data() + at;
  const size_t left = frame.size() - at;
  uint32_t h = 0x811c9dc5u;
  if (type == kEtherIpv4) {
    if (left < 20 || (ip[0] >> 4) != 4) return 0;
    const size_t ihl = size_t{ip[0] & 0x0fu} * 4;
    const uint8_t protocol = ip[9];
    h = Mix(Mix(Mix(h, Word(ip + 12)), Word(ip + 16)), protocol);
    const bool fragment = (Be16(ip + 6) & 0x3fff) != 0;  // more fragments, or an offset
    if (!fragment && ihl >= 20 && CarriesPorts(protocol) && left >= ihl + 4) h = Mix(h, Word(ip + ihl));
    return h;
  }
  if (type == kEtherIpv6) {
    if (left < 40 || (ip[0] >> 4) != 6) return 0;
    for (size_t i = 8; i < 40; i += 4) h = Mix(h, Word(ip + i));
    const uint8_t next = ip[6];
    h = Mix(h, next);
    if (CarriesPorts(next) && left >= 44) h = Mix(h, Word(ip + 40));
    return h;
  }
  return 0;
}

}  // namespace l2tp::userspace
