// tt-metal's compute_kernel_api/eltwise_binary_sfpu.h (§4.7): SFPU ops on two DST tiles.
#pragma once
#include "compute_kernel_api/common_globals.h"

namespace ckernel {
void add_binary_tile(uint32_t idst0, uint32_t idst1, uint32_t odst);
void sub_binary_tile(uint32_t idst0, uint32_t idst1, uint32_t odst);
void mul_binary_tile(uint32_t idst0, uint32_t idst1, uint32_t odst);
void div_binary_tile(uint32_t idst0, uint32_t idst1, uint32_t odst);
void rsub_binary_tile(uint32_t idst0, uint32_t idst1, uint32_t odst);
void add_binary_tile_init();
void sub_binary_tile_init();
void mul_binary_tile_init();
void div_binary_tile_init();
void rsub_binary_tile_init();
}  // namespace ckernel
