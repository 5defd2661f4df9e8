// The datapath contract suite (datapath_contract.h) against the in-memory
// datapath.
#include "datapath/memory/memory_datapath.h"
#include "tests/unit/datapath/datapath_contract.h"

namespace l2tp::contract_test {
namespace {

ContractBackend MemoryBackend() {
  ContractBackend b;
  b.name = "Memory";
  b.make = []() -> absl::StatusOr<std::unique_ptr<Datapath>> {
    return std::make_unique<memory::MemoryDatapath>();
  };
  return b;
}

INSTANTIATE_TEST_SUITE_P(Memory, DatapathContractTest, ::testing::Values(MemoryBackend()),
                         ContractBackendName);

}  // namespace
}  // namespace l2tp::contract_test
