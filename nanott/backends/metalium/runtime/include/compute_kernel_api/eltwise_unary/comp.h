// tt-metal's compute_kernel_api/eltwise_unary/comp.h (docs/reference.md §4.7): a DST tile compared with
// zero, in place: 1.0 where the comparison holds, 0.0 where it does not. Implemented for the CPU in
// runtime/src/sfpu.cpp.
#pragma once
#include "compute_kernel_api/common_globals.h"

namespace ckernel {
void eqz_tile(uint32_t idst);
void nez_tile(uint32_t idst);
void ltz_tile(uint32_t idst);
void lez_tile(uint32_t idst);
void gtz_tile(uint32_t idst);
void gez_tile(uint32_t idst);
void eqz_tile_init();
void nez_tile_init();
void ltz_tile_init();
void lez_tile_init();
void gtz_tile_init();
void gez_tile_init();
}  // namespace ckernel
