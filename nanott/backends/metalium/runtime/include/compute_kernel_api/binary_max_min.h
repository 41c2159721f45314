// tt-metal's compute_kernel_api/binary_max_min.h (docs/reference.md §4.7): the larger or smaller of two
// DST tiles, elementwise. Implemented for the CPU in runtime/src/sfpu.cpp.
#pragma once
#include "compute_kernel_api/common_globals.h"

namespace ckernel {
void binary_max_tile_init();
void binary_max_tile(uint32_t idst0, uint32_t idst1, uint32_t odst);
void binary_min_tile_init();
void binary_min_tile(uint32_t idst0, uint32_t idst1, uint32_t odst);
}  // namespace ckernel
