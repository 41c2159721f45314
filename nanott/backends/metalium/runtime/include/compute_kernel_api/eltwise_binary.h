// tt-metal's compute_kernel_api/eltwise_binary.h (§4.4, §4.6): FPU ops on two CB tiles.
#pragma once
#include "compute_kernel_api/common_globals.h"

namespace ckernel {
void binary_op_init_common(uint32_t icb0, uint32_t icb1, uint32_t ocb);
void add_tiles_init(uint32_t icb0, uint32_t icb1, bool acc_to_dest = false);
void sub_tiles_init(uint32_t icb0, uint32_t icb1, bool acc_to_dest = false);
void mul_tiles_init(uint32_t icb0, uint32_t icb1);
void add_tiles(uint32_t icb0, uint32_t icb1, uint32_t itile0, uint32_t itile1, uint32_t idst);
void sub_tiles(uint32_t icb0, uint32_t icb1, uint32_t itile0, uint32_t itile1, uint32_t idst);
void mul_tiles(uint32_t icb0, uint32_t icb1, uint32_t itile0, uint32_t itile1, uint32_t idst);
}  // namespace ckernel
