// tt-metal 0.81's api/compute/transpose.h (docs/reference.md §1.1): the compute API moved here from
// compute_kernel_api/; transpose_wh_init_short and transpose_wh_tile became transpose_init and
// transpose_tile.
#pragma once
#include "compute_kernel_api/transpose_wh.h"

namespace ckernel {
inline void transpose_init(uint32_t icb) { transpose_wh_init_short(icb); }
inline void transpose_tile(uint32_t icb, uint32_t itile, uint32_t idst) { transpose_wh_tile(icb, itile, idst); }
}  // namespace ckernel
