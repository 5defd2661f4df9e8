// The datapath contract test suite: the same cases run against every
// backend (datapath/contract.h and the Datapath interface's promises).
//
// A backend's test binary instantiates the suite with a ContractBackend:
//
//   INSTANTIATE_TEST_SUITE_P(Memory, DatapathContractTest,
//                            ::testing::Values(MemoryBackend()), ContractBackendName);
//
// memory: tests/unit/datapath/datapath_contract_memory_test.cc;
// userspace (root, private network namespace):
// tests/unit/datapath/datapath_contract_userspace_test.cc;
// kernel (in the QEMU VM): tests/vm/kernel/kernel_datapath_vm_test.cc.
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <ostream>
#include <string>

#include "absl/status/statusor.h"
#include "datapath/datapath.h"

namespace l2tp::contract_test {

struct ContractBackend {
  std::string name;  // also the test name suffix: letters and digits only
  // A fresh datapath for one test. Every tunnel it holds at the end of the
  // test is deleted again.
  std::function<absl::StatusOr<std::unique_ptr<Datapath>>()> make;
  // Non-empty: why the backend cannot run here (the tests are skipped).
  std::function<std::string()> unavailable = [] { return std::string(); };
  // Whether WatchExternalChanges is supported (else UNIMPLEMENTED).
  bool reports_external_changes = false;
  // Whether managed L2TPv2 tunnels are carried (else INVALID_ARGUMENT with
  // the backend's own message: the contract allows them).
  bool carries_l2tpv2 = false;
  // Tunnel endpoints: UDP on these addresses, ports 17100 + tunnel id and
  // 18100 + tunnel id. They must be configured where the backend runs.
  std::string local = "127.0.0.1";
  std::string remote = "127.0.0.2";
};

// For gtest's output and test names.
void PrintTo(const ContractBackend& backend, std::ostream* os);
std::string ContractBackendName(const ::testing::TestParamInfo<ContractBackend>& info);

class DatapathContractTest : public ::testing::TestWithParam<ContractBackend> {
 protected:
  void SetUp() override;
  void TearDown() override;

  TunnelConfig Tunnel(uint32_t tunnel_id) const;
  SessionConfig Session(uint32_t tunnel_id, uint32_t session_id) const;
  // The session (tunnel_id, session_id) in `obs`, or nullptr.
  static const ObservedSession* FindSession(const Observation& obs, uint32_t tunnel_id, uint32_t session_id);
  Observation MustObserve();
  // A managed UDP tunnel of `version` on a socket from OpenManagedSocket
  // (-1 in socket_fd if that failed); the caller closes the socket.
  TunnelConfig ManagedTunnel(uint32_t tunnel_id, uint32_t version);

  std::unique_ptr<Datapath> dp_;
};

}  // namespace l2tp::contract_test
