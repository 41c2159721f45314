// tt-metal's compute_kernel_api/eltwise_unary/fill.h (§4.7).
#pragma once
#include "compute_kernel_api/common_globals.h"

namespace ckernel {
void fill_tile(uint32_t idst, float param0);
void fill_tile_bitcast(uint32_t idst, uint32_t param0);
void fill_tile_init();
}  // namespace ckernel
