// tt-metal's compute_kernel_api/eltwise_unary/negative.h (docs/reference.md §4.7): -x. Implemented for
// the CPU in runtime/src/sfpu.cpp.
#pragma once
#include "compute_kernel_api/common_globals.h"

namespace ckernel {
void negative_tile_init();
void negative_tile(uint32_t idst);
}  // namespace ckernel
