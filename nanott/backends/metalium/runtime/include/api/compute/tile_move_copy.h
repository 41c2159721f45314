// tt-metal 0.81's api/compute/tile_move_copy.h (docs/reference.md §1.1): the compute API moved here from
// compute_kernel_api/; copy_tile_init became copy_init.
#pragma once
#include "compute_kernel_api/tile_move_copy.h"

namespace ckernel {
inline void copy_init(uint32_t cbid) { copy_tile_init(cbid); }
}  // namespace ckernel
