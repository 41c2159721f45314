// tt-metal's compute_kernel_api/cb_api.h (§3.1, §4.2): waits and pops on UNPACK,
// reserves and pushes on PACK.
#pragma once
#include "compute_kernel_api/common_globals.h"

namespace ckernel {
void cb_wait_front(uint32_t cbid, uint32_t ntiles);
void cb_pop_front(uint32_t cbid, uint32_t ntiles);
void cb_reserve_back(uint32_t cbid, uint32_t ntiles);
void cb_push_back(uint32_t cbid, uint32_t ntiles);
// tt-metal 0.66+: the 32-bit word `element_offset` of tile `tile_index` of the CB's waited front, read
// by UNPACK and handed to MATH and PACK through mailboxes, so all three threads see one value.
uint32_t read_tile_value(uint32_t cb_id, uint32_t tile_index, uint32_t element_offset);
}  // namespace ckernel
