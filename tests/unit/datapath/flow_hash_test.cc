// InnerFlowHash (flow_hash.h): what receive spreading splits a session's
// frames by. One flow always hashes the same whatever its payload; flows
// that differ in an address or a port spread over two threads; fragments
// stay with their datagram's addresses; what is not IP hashes to 0.
#include "datapath/userspace/flow_hash.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <set>
#include <vector>

namespace l2tp::userspace {
namespace {

// Ethernet, IPv4 (no options) from 10.0.0.<src> to 10.0.1.1, UDP or TCP
// from port `sport` to 80, then `payload` bytes of `fill`.
std::vector<uint8_t> Ipv4Frame(uint8_t src, uint16_t sport, uint8_t protocol = 17, uint8_t fill = 0,
                               uint16_t fragment = 0) {
  std::vector<uint8_t> f = {2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00};
  std::vector<uint8_t> ip = {
      0x45, 0,   0,  60, 0, 1, uint8_t(fragment >> 8), uint8_t(fragment), 64, protocol, 0, 0, 10, 0,
      0,    src, 10, 0,  1, 1};
  f.insert(f.end(), ip.begin(), ip.end());
  std::vector<uint8_t> l4 = {uint8_t(sport >> 8), uint8_t(sport), 0, 80, 0, 40, 0, 0};
  f.insert(f.end(), l4.begin(), l4.end());
  f.resize(f.size() + 32, fill);
  return f;
}

std::vector<uint8_t> Ipv6Frame(uint8_t src, uint16_t sport, uint8_t next = 6) {
  std::vector<uint8_t> f = {2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x86, 0xdd};
  std::vector<uint8_t> ip(40, 0);
  ip[0] = 0x60;
  ip[5] = 20;
  ip[6] = next;
  ip[7] = 64;
  ip[8] = 0xfd;
  ip[23] = src;
  ip[24] = 0xfd;
  ip[39] = 1;
  f.insert(f.end(), ip.begin(), ip.end());
  std::vector<uint8_t> l4 = {uint8_t(sport >> 8), uint8_t(sport), 0, 80, 0, 0, 0, 0};
  f.insert(f.end(), l4.begin(), l4.end());
  f.resize(f.size() + 12, 0xab);
  return f;
}

TEST(InnerFlowHash, OneFlowHashesTheSameWhateverItCarries) {
  EXPECT_NE(InnerFlowHash(Ipv4Frame(1, 1000)), 0u);
  EXPECT_EQ(InnerFlowHash(Ipv4Frame(1, 1000, 17, 0x00)), InnerFlowHash(Ipv4Frame(1, 1000, 17, 0xff)));
  EXPECT_EQ(InnerFlowHash(Ipv4Frame(1, 1000, 6, 0x11)), InnerFlowHash(Ipv4Frame(1, 1000, 6, 0x22)));
}

TEST(InnerFlowHash, AddressesPortsAndProtocolEachMakeAnotherFlow) {
  const uint32_t base = InnerFlowHash(Ipv4Frame(1, 1000));
  EXPECT_NE(InnerFlowHash(Ipv4Frame(2, 1000)), base);
  EXPECT_NE(InnerFlowHash(Ipv4Frame(1, 1001)), base);
  EXPECT_NE(InnerFlowHash(Ipv4Frame(1, 1000, 6)), base);
  EXPECT_NE(InnerFlowHash(Ipv6Frame(1, 1000)), InnerFlowHash(Ipv6Frame(2, 1000)));
  EXPECT_NE(InnerFlowHash(Ipv6Frame(1, 1000)), InnerFlowHash(Ipv6Frame(1, 1001)));
}

// What receive spreading does with the hash: flows that differ only in a
// port, or only in an address, land on both of two threads.
TEST(InnerFlowHash, FlowsSpreadOverTwoThreads) {
  std::set<uint32_t> by_port, by_address, by_port6;
  for (uint16_t i = 0; i < 16; ++i) {
    by_port.insert(InnerFlowHash(Ipv4Frame(1, 40000 + i, 6)) % 2);
    by_address.insert(InnerFlowHash(Ipv4Frame(static_cast<uint8_t>(i + 1), 5201, 6)) % 2);
    by_port6.insert(InnerFlowHash(Ipv6Frame(1, 40000 + i)) % 2);
  }
  EXPECT_EQ(by_port.size(), 2u);
  EXPECT_EQ(by_address.size(), 2u);
  EXPECT_EQ(by_port6.size(), 2u);
}

TEST(InnerFlowHash, FragmentsKeepTheirDatagramsAddressesOnly) {
  // First fragment (more fragments set) and a later one (an offset): the
  // ports are not read, so both hash like any fragment between these hosts.
  const uint32_t first = InnerFlowHash(Ipv4Frame(1, 1000, 17, 0, 0x2000));
  EXPECT_EQ(first, InnerFlowHash(Ipv4Frame(1, 2000, 17, 0, 0x00b9)));
  EXPECT_NE(first, InnerFlowHash(Ipv4Frame(1, 1000)));
}

TEST(InnerFlowHash, OneVlanTagIsSkipped) {
  std::vector<uint8_t> tagged = Ipv4Frame(1, 1000);
  tagged.insert(tagged.begin() + 12, {0x81, 0x00, 0x00, 0x05});
  EXPECT_EQ(InnerFlowHash(tagged), InnerFlowHash(Ipv4Frame(1, 1000)));
}

TEST(InnerFlowHash, WhatIsNotIpOrIsCutShortHashesToWhatItHas) {
  std::vector<uint8_t> arp = Ipv4Frame(1, 1000);
  arp[12] = 0x08;
  arp[13] = 0x06;
  EXPECT_EQ(InnerFlowHash(arp), 0u);
  EXPECT_EQ(InnerFlowHash({}), 0u);
  std::vector<uint8_t> short_ip = Ipv4Frame(1, 1000);
  short_ip.resize(14 + 19);
  EXPECT_EQ(InnerFlowHash(short_ip), 0u);
  // Addresses there, ports cut off: the addresses still count.
  std::vector<uint8_t> no_ports = Ipv4Frame(1, 1000);
  no_ports.resize(14 + 22);
  EXPECT_NE(InnerFlowHash(no_ports), 0u);
  std::vector<uint8_t> bad_version = Ipv4Frame(1, 1000);
  bad_version[14] = 0x65;
  EXPECT_EQ(InnerFlowHash(bad_version), 0u);
}

}  // namespace
}  // namespace l2tp::userspace
