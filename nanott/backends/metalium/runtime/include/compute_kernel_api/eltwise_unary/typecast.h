// tt-metal's compute_kernel_api/eltwise_unary/typecast.h (docs/reference.md §4.7): a DST tile rounded
// from one tt::DataFormat to another, given as their values (Float32 0, Float16 1, Float16_b 5, Int32 8,
// UInt32 24; §6.2). Implemented for the CPU in runtime/src/sfpu.cpp, through nanott_cpu::typecast.
#pragma once
#include "compute_kernel_api/common_globals.h"
#include "nanott_cpu/kernel.h"

namespace ckernel {
#if defined(NANOTT_TT_METAL_MINOR) && NANOTT_TT_METAL_MINOR < 66
void typecast_tile_init();     // ttnn 0.65: no template arguments (the formats are typecast_tile's)
#endif
template <uint32_t IN_DTYPE, uint32_t OUT_DTYPE>
void typecast_tile_init() {
    nanott_cpu::typecast_init(IN_DTYPE, OUT_DTYPE);
}
template <uint32_t IN_DTYPE, uint32_t OUT_DTYPE>
void typecast_tile(uint32_t idst) {
    nanott_cpu::typecast(idst, IN_DTYPE, OUT_DTYPE);
}
}  // namespace ckernel
