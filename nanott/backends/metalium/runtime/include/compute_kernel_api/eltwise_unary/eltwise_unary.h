// tt-metal's compute_kernel_api/eltwise_unary/eltwise_unary.h (§4.4): SFPU full inits.
#pragma once
#include "compute_kernel_api/common_globals.h"

namespace ckernel {
void unary_op_init_common(uint32_t icb, uint32_t ocb);
void init_sfpu(uint32_t icb, uint32_t ocb);
}  // namespace ckernel
