// tt-metal 0.81's api/compute/matmul.h (docs/reference.md §1.1): the compute API moved here from
// compute_kernel_api/; mm_init_short became matmul_init.
#pragma once
#include "compute_kernel_api/matmul.h"

namespace ckernel {
inline void matmul_init(uint32_t in0_cb_id, uint32_t in1_cb_id, const uint32_t transpose = 0) {
    mm_init_short(in0_cb_id, in1_cb_id, transpose);
}
}  // namespace ckernel
