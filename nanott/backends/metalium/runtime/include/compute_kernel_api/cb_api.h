// tt-metal's compute_kernel_api/cb_api.h (§3.1, §4.2): waits and pops on UNPACK,
// reserves and pushes on PACK.
#pragma once
#include "compute_kernel_api/common_globals.h"

namespace ckernel {
void cb_wait_front(uint32_t cbid, uint32_t ntiles);
void cb_pop_front(uint32_t cbid, uint32_t ntiles);
void cb_reserve_back(uint32_t cbid, uint32_t ntiles);
void cb_push_back(uint32_t cbid, uint32_t ntiles);
}  // namespace ckernel
