// tt-metal's tt-metalium/circular_buffer_constants.h (docs/reference.md §8.1): CB indices per core, the
// length of ComputeConfig.unpack_to_dest_mode.
#pragma once
#include <cstdint>

constexpr static std::uint32_t NUM_CIRCULAR_BUFFERS = 32;
