// tt-metal's compute_kernel_api/eltwise_unary/sqrt.h (docs/reference.md §4.7). Implemented for the CPU
// in runtime/src/sfpu.cpp for the default template argument.
#pragma once
#include "compute_kernel_api/common_globals.h"

namespace ckernel {
void sqrt_tile_init();
template <bool FAST_APPROX = false>
void sqrt_tile(uint32_t idst);
}  // namespace ckernel
