// tt-metal's compute_kernel_api/compute_kernel_hw_startup.h (§4.4): once, first.
#pragma once
#include "compute_kernel_api/common_globals.h"

namespace ckernel {
void compute_kernel_hw_startup(uint32_t icb0, uint32_t icb1, uint32_t ocb);
void compute_kernel_hw_startup(uint32_t icb0, uint32_t ocb);
}  // namespace ckernel
