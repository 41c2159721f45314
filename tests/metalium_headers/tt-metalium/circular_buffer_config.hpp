// Mock of tt-metal's tt-metalium/circular_buffer_config.hpp (metalium.md §6.2).
#pragma once
#include <cstdint>
#include <map>
#include <tt-metalium/data_types.hpp>

namespace tt::tt_metal {
class CircularBufferConfig {
public:
    CircularBufferConfig(uint32_t total_size, const std::map<uint8_t, tt::DataFormat>& data_format_spec);
    CircularBufferConfig& set_page_size(uint8_t buffer_index, uint32_t page_size);
    CircularBufferConfig& set_total_size(uint32_t total_size);
};
using CBHandle = uintptr_t;
}  // namespace tt::tt_metal
