// The datapath contract suite (datapath_contract.h) against the userspace
// datapath: real TAP devices and UDP sockets, so it runs as root in a private
// network namespace of its own (made at start, loopback up), with tunnels
// from 127.0.0.1 to 127.0.0.2. Skipped without the privileges for that.
#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

#include "common/log.h"
#include "datapath/userspace/userspace_datapath.h"
#include "tests/unit/datapath/datapath_contract.h"

namespace l2tp::contract_test {
namespace {

std::string g_unavailable = "not set up";

class PrivateNetns : public ::testing::Environment {
 public:
  void SetUp() override {
    SetLogLevel(LogLevel::kWarning);
    if (geteuid() != 0) {
      g_unavailable = "needs root (TAP devices, a private network namespace)";
      return;
    }
    if (unshare(CLONE_NEWNET) != 0) {
      g_unavailable = std::string("cannot make a network namespace: ") + std::strerror(errno);
      return;
    }
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    ifreq ifr{};
    std::strcpy(ifr.ifr_name, "lo");
    const bool up = s >= 0 && ioctl(s, SIOCGIFFLAGS, &ifr) == 0 &&
                    (ifr.ifr_flags |= IFF_UP, ioctl(s, SIOCSIFFLAGS, &ifr) == 0);
    if (s >= 0) close(s);
    if (!up) {
      g_unavailable = "cannot bring lo up in the private network namespace";
    } else if (access("/dev/net/tun", R_OK | W_OK) != 0) {
      g_unavailable = "no /dev/net/tun";
    } else {
      g_unavailable.clear();
    }
  }
};
const auto* const kEnv = ::testing::AddGlobalTestEnvironment(new PrivateNetns);

ContractBackend UserspaceBackend() {
  ContractBackend b;
  b.name = "Userspace";
  b.make = []() -> absl::StatusOr<std::unique_ptr<Datapath>> {
    auto dp = userspace::UserspaceDatapath::Create(1, userspace::IoMode::kAuto, "contract-test");
    if (!dp.ok()) return dp.status();
    return std::unique_ptr<Datapath>(*std::move(dp));
  };
  b.unavailable = [] { return g_unavailable; };
  return b;
}

INSTANTIATE_TEST_SUITE_P(Userspace, DatapathContractTest, ::testing::Values(UserspaceBackend()),
                         ContractBackendName);

}  // namespace
}  // namespace l2tp::contract_test
