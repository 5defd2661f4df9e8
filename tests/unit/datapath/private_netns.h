// Runs a test binary in a private network namespace of its own (for tests that make TAPs).
#pragma once

#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <initializer_list>
#include <vector>

#include "common/log.h"

namespace l2tp::userspace::private_netns {

// IPv6 off on links made from now on (the TAPs): lo keeps ::1.
inline constexpr const char* kIpv6OffNewLinks = "/proc/sys/net/ipv6/conf/default/disable_ipv6";
// IPv6 off on the links there already are (lo loses ::1).
inline constexpr const char* kIpv6OffAllLinks = "/proc/sys/net/ipv6/conf/all/disable_ipv6";

// Set by Environment: the namespace is made, lo is up and /dev/net/tun can be
// opened. Tests that need them skip without.
inline bool g_in_private_netns = false;

// Quietens logging, unshares the network namespace, brings lo up and writes
// "1" to each of `ipv6_off` (kIpv6Off*), in that order.
class Environment : public ::testing::Environment {
 public:
  explicit Environment(std::initializer_list<const char*> ipv6_off) : ipv6_off_(ipv6_off) {}
  void SetUp() override {
    SetLogLevel(LogLevel::kWarning);  // keep test output to what matters
    if (unshare(CLONE_NEWNET) != 0) return;
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    ifreq ifr{};
    std::strcpy(ifr.ifr_name, "lo");
    ioctl(s, SIOCGIFFLAGS, &ifr);
    ifr.ifr_flags |= IFF_UP;
    g_in_private_netns = ioctl(s, SIOCSIFFLAGS, &ifr) == 0 && access("/dev/net/tun", R_OK) == 0;
    close(s);
    for (const char* path : ipv6_off_) {
      if (FILE* f = fopen(path, "w")) {
        fputs("1", f);
        fclose(f);
      }
    }
  }

 private:
  std::vector<const char*> ipv6_off_;
};

}  // namespace l2tp::userspace::private_netns
