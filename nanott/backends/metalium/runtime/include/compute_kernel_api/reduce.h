// tt-metal's compute_kernel_api/reduce.h (docs/reference.md §4.4, §4.6): reduce_tile reduces a CB tile
// along W (REDUCE_ROW: into column 0 of DST[idst]) or H (REDUCE_COL: into row 0), multiplied by
// the scaler tile's first element, and combines it with what DST[idst] holds (SUM adds, MAX keeps
// the larger); reduce_uninit() after the last reduction. Implemented for the CPU in
// runtime/src/tile_math.cpp, as nanott's model has it (the other elements of DST[idst] are kept).
#pragma once
#include "compute_kernel_api/common_globals.h"
#include "nanott_cpu/kernel.h"

namespace ckernel {
enum PoolType { SUM, AVG, MAX, MIN };                 // (nanott's enumerator values)
enum ReduceDim { REDUCE_ROW, REDUCE_COL, REDUCE_SCALAR };

// As in tt-metal, the template defaults are the macros REDUCE_OP and REDUCE_DIM, which the host sets
// through ComputeConfig.defines (and nanott's CPU build from tt.plan.json): without them this
// header does not compile, on the device either.
template <PoolType reduce_type = REDUCE_OP, ReduceDim reduce_dim = REDUCE_DIM, bool enforce_fp32_accumulation = false>
void reduce_init(uint32_t icb, uint32_t icb_scaler, uint32_t ocb) {
    nanott_cpu::reduce_init(icb, icb_scaler, ocb);
}
template <PoolType reduce_type = REDUCE_OP, ReduceDim reduce_dim = REDUCE_DIM, bool enforce_fp32_accumulation = false>
void reduce_tile(uint32_t icb, uint32_t icb_scaler, uint32_t itile, uint32_t itile_scaler, uint32_t idst) {
    static_assert(reduce_type != AVG && reduce_dim != REDUCE_SCALAR, "nanott models SUM, MAX, MIN along a row or column");
    nanott_cpu::reduce_tile(reduce_type == SUM ? '+' : reduce_type == MAX ? '>' : '<', reduce_dim == REDUCE_ROW, icb,
                            icb_scaler, itile, itile_scaler, idst);
}
void reduce_uninit();
}  // namespace ckernel
