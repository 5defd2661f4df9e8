#include "agent/control/id_picker.h"

namespace l2tp {

uint32_t PickFreeId(std::mt19937_64& random, uint32_t max, const std::set<uint32_t>& used) {
  if (max == 0) return 0;
  std::uniform_int_distribution<uint32_t> any(1, max);
  for (int i = 0; i < 64; ++i) {
    const uint32_t id = any(random);
    if (!used.count(id)) return id;
  }
  // Nearly full (only possible with 16-bit ids): the first gap.
  uint32_t id = 1;
  for (uint32_t u : used) {
    if (u > id) break;
    if (u == id) {
      if (id == max) return 0;
      ++id;
    }
  }
  return id <= max && !used.count(id) ? id : 0;
}

uint32_t IdsInUse::Pick(std::mt19937_64& random, uint32_t max) {
  if (!used_) used_ = gather_();
  const uint32_t id = PickFreeId(random, max, *used_);
  if (id != 0) used_->insert(id);
  return id;
}

}  // namespace l2tp
