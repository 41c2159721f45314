// tt-metal's compute_kernel_api/transpose_wh.h (docs/reference.md §4.4, §4.6): DST[idst] = the CB tile,
// transposed (32x32). Implemented for the CPU in runtime/src/tile_math.cpp.
#pragma once
#include "compute_kernel_api/common_globals.h"

namespace ckernel {
void transpose_wh_init(uint32_t icb, uint32_t ocb);
void transpose_wh_init_short(uint32_t icb);
void transpose_wh_tile(uint32_t icb, uint32_t itile, uint32_t idst);
}  // namespace ckernel
