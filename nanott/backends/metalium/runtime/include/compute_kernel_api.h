// tt-metal's compute_kernel_api.h (docs/reference.md §4.7): the SFPU functions of one DST tile that have
// no header of their own, each with its init. Implemented for the CPU in runtime/src/sfpu.cpp
// (float32, exact: approximation modes are not modelled).
#pragma once
#include "compute_kernel_api/common_globals.h"

namespace ckernel {
void exp2_tile_init();
void exp2_tile(uint32_t idst);
void log_tile_init();
void log_tile(uint32_t idst);
void abs_tile_init();
void abs_tile(uint32_t idst);
void sigmoid_tile_init();
void sigmoid_tile(uint32_t idst);
void tanh_tile_init();
void tanh_tile(uint32_t idst);
}  // namespace ckernel
