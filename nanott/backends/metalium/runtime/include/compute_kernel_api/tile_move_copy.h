// tt-metal's compute_kernel_api/tile_move_copy.h (§4.4, §4.5).
#pragma once
#include "compute_kernel_api/common_globals.h"

namespace ckernel {
void copy_tile_to_dst_init_short(uint32_t cbid, uint32_t transpose = 0, uint32_t transpose_within_16x16_face = 0);
void copy_tile_init(uint32_t cbid);
void copy_tile_to_dst_init_short_with_dt(uint32_t old_cbid, uint32_t new_cbid, uint32_t transpose = 0);
void copy_tile(uint32_t in_cb_id, uint32_t in_tile_index, uint32_t dst_tile_index);
void copy_block_matmul_partials(uint32_t in_cb_id, uint32_t start_in_tile_index, uint32_t start_dst_tile_index,
                                uint32_t ntiles);
}  // namespace ckernel
