// tt-metal 0.81's api/compute/bcast.h (docs/reference.md §1.1): the compute API moved here from
// compute_kernel_api/; the broadcast short inits lost `_short`; unary_bcast_init takes the input CB only.
#pragma once
#include "compute_kernel_api/bcast.h"

namespace ckernel {
inline void add_bcast_rows_init(uint32_t icb0, uint32_t icb1) { add_bcast_rows_init_short(icb0, icb1); }
inline void add_bcast_cols_init(uint32_t icb0, uint32_t icb1) { add_bcast_cols_init_short(icb0, icb1); }
inline void sub_bcast_rows_init(uint32_t icb0, uint32_t icb1) { sub_bcast_rows_init_short(icb0, icb1); }
inline void sub_bcast_cols_init(uint32_t icb0, uint32_t icb1) { sub_bcast_cols_init_short(icb0, icb1); }
inline void mul_bcast_rows_init(uint32_t icb0, uint32_t icb1) { mul_bcast_rows_init_short(icb0, icb1); }
inline void mul_bcast_cols_init(uint32_t icb0, uint32_t icb1) { mul_bcast_cols_init_short(icb0, icb1); }
template <BroadcastType bcast_type>
void unary_bcast_init(uint32_t icb) {
    unary_bcast_init<bcast_type>(icb, icb);
}
}  // namespace ckernel
