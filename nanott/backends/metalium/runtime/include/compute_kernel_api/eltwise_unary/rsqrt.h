// tt-metal's compute_kernel_api/eltwise_unary/rsqrt.h (docs/reference.md §4.7): 1 / sqrt(x). Implemented
// for the CPU in runtime/src/sfpu.cpp.
#pragma once
#include "compute_kernel_api/common_globals.h"

namespace ckernel {
void rsqrt_tile_init();
void rsqrt_tile(uint32_t idst);
}  // namespace ckernel
