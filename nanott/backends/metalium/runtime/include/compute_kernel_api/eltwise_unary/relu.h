// tt-metal's compute_kernel_api/eltwise_unary/relu.h (docs/reference.md §4.7). Implemented for the CPU
// in runtime/src/sfpu.cpp.
#pragma once
#include "compute_kernel_api/common_globals.h"

namespace ckernel {
void relu_tile_init();
void relu_tile(uint32_t idst);
void relu_max_tile(uint32_t idst, uint32_t param0);
void relu_min_tile(uint32_t idst, uint32_t param0);
}  // namespace ckernel
