// tt-metal's compute_kernel_api/bcast.h (docs/reference.md §4.4, §4.6): FPU ops whose second operand is
// broadcast (ROW: C[h,w] = A[h,w] op B[0,w]; COL: C[h,w] = A[h,w] op B[h,0]; SCALAR: A op B[0,0]),
// and unary_bcast, which spreads one tile's row 0 (ROW) or column 0 (COL) over DST[idst].
// Implemented for the CPU in runtime/src/tile_math.cpp.
#pragma once
#include "compute_kernel_api/common_globals.h"
#include "nanott_cpu/kernel.h"

namespace ckernel {
enum class BroadcastType : uint8_t { NONE, ROW, COL, SCALAR };   // (nanott's enumerator values)

void add_tiles_bcast_rows(uint32_t icb0, uint32_t icb1, uint32_t itile0, uint32_t itile1, uint32_t idst);
void add_tiles_bcast_cols(uint32_t icb0, uint32_t icb1, uint32_t itile0, uint32_t itile1, uint32_t idst);
void add_tiles_bcast_scalar(uint32_t icb0, uint32_t icb1, uint32_t itile0, uint32_t itile1, uint32_t idst);
void sub_tiles_bcast_rows(uint32_t icb0, uint32_t icb1, uint32_t itile0, uint32_t itile1, uint32_t idst);
void sub_tiles_bcast_cols(uint32_t icb0, uint32_t icb1, uint32_t itile0, uint32_t itile1, uint32_t idst);
void sub_tiles_bcast_scalar(uint32_t icb0, uint32_t icb1, uint32_t itile0, uint32_t itile1, uint32_t idst);
void mul_tiles_bcast_rows(uint32_t icb0, uint32_t icb1, uint32_t itile0, uint32_t itile1, uint32_t idst);
void mul_tiles_bcast_cols(uint32_t icb0, uint32_t icb1, uint32_t itile0, uint32_t itile1, uint32_t idst);
void mul_tiles_bcast_scalar(uint32_t icb0, uint32_t icb1, uint32_t itile0, uint32_t itile1, uint32_t idst);

void add_bcast_rows_init_short(uint32_t icb0, uint32_t icb1);
void add_bcast_cols_init_short(uint32_t icb0, uint32_t icb1);
void add_bcast_scalar_init_short(uint32_t icb0, uint32_t icb1);
void sub_bcast_rows_init_short(uint32_t icb0, uint32_t icb1);
void sub_bcast_cols_init_short(uint32_t icb0, uint32_t icb1);
void sub_tiles_bcast_scalar_init_short(uint32_t icb0, uint32_t icb1);
void mul_bcast_rows_init_short(uint32_t icb0, uint32_t icb1);
void mul_bcast_cols_init_short(uint32_t icb0, uint32_t icb1);
void mul_tiles_bcast_scalar_init_short(uint32_t icb0, uint32_t icb1);

template <BroadcastType bcast_type>
void unary_bcast_init(uint32_t icb, uint32_t ocb) {
    static_assert(bcast_type == BroadcastType::ROW || bcast_type == BroadcastType::COL, "unary_bcast: ROW or COL");
    nanott_cpu::unary_bcast_init(icb, ocb, bcast_type == BroadcastType::ROW);
}
template <BroadcastType bcast_type>
void unary_bcast(uint32_t icb, uint32_t in_tile_index, uint32_t dst_tile_index) {
    static_assert(bcast_type == BroadcastType::ROW || bcast_type == BroadcastType::COL, "unary_bcast: ROW or COL");
    nanott_cpu::unary_bcast(icb, in_tile_index, dst_tile_index, bcast_type == BroadcastType::ROW);
}
}  // namespace ckernel
