// tt-metal's compute_kernel_api/eltwise_unary/exp.h (docs/reference.md §4.4, §4.7): e^x on a DST tile.
// Implemented for the CPU in runtime/src/sfpu.cpp for the default template arguments (exact).
#pragma once
#include "compute_kernel_api/common_globals.h"

namespace ckernel {
enum VectorMode : int { R, C, RC };   // which faces an SFPU op covers; nanott's runtime does whole tiles

template <bool approx = false, bool fast_and_approx = true>
void exp_tile_init();
template <bool approx = false, bool fast_and_approx = true, bool scale_en = false, bool skip_positive_check = false,
          int iterations = 8>
void exp_tile(uint32_t idst, int vector_mode = VectorMode::RC, uint16_t scale = 0x3F80);
}  // namespace ckernel
