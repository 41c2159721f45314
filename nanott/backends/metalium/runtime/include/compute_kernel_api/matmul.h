// tt-metal's compute_kernel_api/matmul.h (§4.4, §4.6): 5-argument matmul_tiles since
// 2025-12-10 (6 in ttnn 0.65: NANOTT_TT_METAL_MINOR, which the CPU build passes every kernel, picks
// the release's); matmul_block keeps its transpose argument.
#pragma once
#include "compute_kernel_api/common_globals.h"

namespace ckernel {
void mm_init(uint32_t in0_cb_id, uint32_t in1_cb_id, uint32_t out_cb_id, const uint32_t transpose = 0);
void mm_init_short(uint32_t in0_cb_id, uint32_t in1_cb_id, const uint32_t transpose = 0);
void mm_init_short_with_dt(uint32_t in0_cb_id, uint32_t in1_cb_id, uint32_t c_in_old_srca,
                           const uint32_t transpose = 0);
void mm_block_init_short(uint32_t in0_cb_id, uint32_t in1_cb_id, const uint32_t transpose = 0, uint32_t ct_dim = 1,
                         uint32_t rt_dim = 1, uint32_t kt_dim = 1);
#if defined(NANOTT_TT_METAL_MINOR) && NANOTT_TT_METAL_MINOR < 66
// ttnn 0.65 (before 2025-12-10): a 6th argument, the transpose of its init (the runtime requires
// it to match that init's)
void matmul_tiles(uint32_t in0_cb_id, uint32_t in1_cb_id, uint32_t in0_tile_index, uint32_t in1_tile_index,
                  uint32_t idst, const uint32_t transpose);
#else
void matmul_tiles(uint32_t in0_cb_id, uint32_t in1_cb_id, uint32_t in0_tile_index, uint32_t in1_tile_index,
                  uint32_t idst);
#endif
void matmul_block(uint32_t in0_cb_id, uint32_t in1_cb_id, uint32_t in0_tile_index, uint32_t in1_tile_index,
                  uint32_t idst, const uint32_t transpose, uint32_t ct_dim, uint32_t rt_dim, uint32_t kt_dim);
}  // namespace ckernel
