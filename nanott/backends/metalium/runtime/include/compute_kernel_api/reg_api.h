// tt-metal's compute_kernel_api/reg_api.h (§4.3): the DST handshake.
#pragma once
#include "compute_kernel_api/common_globals.h"

namespace ckernel {
void tile_regs_acquire();
void tile_regs_commit();
void tile_regs_wait();
void tile_regs_release();
[[deprecated("use tile_regs_acquire and tile_regs_wait")]] void acquire_dst();
[[deprecated("use tile_regs_commit and tile_regs_release")]] void release_dst();
}  // namespace ckernel
