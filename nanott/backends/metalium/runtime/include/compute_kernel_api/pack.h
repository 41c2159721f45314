// tt-metal's compute_kernel_api/pack.h (§4.5): without <true>, pack_tile ignores its
// third argument and fills the reserved region in order.
#pragma once
#include "compute_kernel_api/common_globals.h"

namespace ckernel {
template <bool out_of_order_output = false>
void pack_tile(uint32_t ifrom_dst, uint32_t icb, uint32_t output_tile_index = 0);
void pack_tile_block(uint32_t ifrom_dst, uint32_t icb, uint32_t ntiles);
template <bool is_tile_dim_reconfig_en = false>
void pack_reconfig_data_format(const uint32_t new_cb_id);
template <bool is_tile_dim_reconfig_en = false>
void pack_reconfig_data_format(const uint32_t old_cb_id, const uint32_t new_cb_id);
}  // namespace ckernel
