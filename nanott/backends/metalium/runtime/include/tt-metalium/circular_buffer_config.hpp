// tt-metal's tt-metalium/circular_buffer_config.hpp (docs/reference.md §6.2): the total size of a CB's
// L1 space, the data format and page size of each CB index sharing it. Implemented for the CPU in
// runtime/src/host_api.cpp.
#pragma once
#include <cstdint>
#include <map>
#include <tt-metalium/data_types.hpp>
#include "nanott_cpu/host.h"

namespace tt::tt_metal {
class CircularBufferConfig {
public:
    CircularBufferConfig(uint32_t total_size, const std::map<uint8_t, tt::DataFormat>& data_format_spec);
    CircularBufferConfig& set_page_size(uint8_t buffer_index, uint32_t page_size);
    CircularBufferConfig& set_total_size(uint32_t total_size);

private:
    friend struct nanott_cpu::Access;
    uint32_t total_size_;
    std::map<uint8_t, tt::DataFormat> formats_;
    std::map<uint8_t, uint32_t> page_sizes_;
};
using CBHandle = uintptr_t;
}  // namespace tt::tt_metal
