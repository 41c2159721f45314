// tt-metal 0.81's api/compute/eltwise_binary.h (docs/reference.md §1.1): the compute API moved here from
// compute_kernel_api/; the short inits are add_init, sub_init, mul_init.
#pragma once
#include "compute_kernel_api/eltwise_binary.h"

namespace ckernel {
inline void add_init(uint32_t icb0, uint32_t icb1) { add_tiles_init(icb0, icb1); }
inline void sub_init(uint32_t icb0, uint32_t icb1) { sub_tiles_init(icb0, icb1); }
inline void mul_init(uint32_t icb0, uint32_t icb1) { mul_tiles_init(icb0, icb1); }
}  // namespace ckernel
