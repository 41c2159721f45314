// tt-metal's compute_kernel_api/eltwise_unary/binop_with_scalar.h (§4.7): DST op a
// float32 scalar passed as its bit pattern.
#pragma once
#include "compute_kernel_api/common_globals.h"

namespace ckernel {
void add_unary_tile(uint32_t idst, uint32_t param1);
void sub_unary_tile(uint32_t idst, uint32_t param1);
void mul_unary_tile(uint32_t idst, uint32_t param1);
void div_unary_tile(uint32_t idst, uint32_t param1);
void rsub_unary_tile(uint32_t idst, uint32_t param1);
void binop_with_scalar_tile_init();
}  // namespace ckernel
