// tt-metal's tt-metalium/buffer_types.hpp (docs/reference.md §6.2).
#pragma once
#include <cstdint>

namespace tt::tt_metal {
using DeviceAddr = uint64_t;
enum class BufferType { DRAM, L1, SYSTEM_MEMORY, L1_SMALL, TRACE };
class Buffer;
}  // namespace tt::tt_metal
