// CRC-32C (Castagnoli), as used by the state file's frame.
#pragma once

#include <cstddef>
#include <cstdint>

namespace l2tp {

uint32_t Crc32c(const void* data, size_t size);

}  // namespace l2tp
