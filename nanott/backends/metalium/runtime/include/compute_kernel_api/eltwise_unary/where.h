// tt-metal's compute_kernel_api/eltwise_unary/where.h (docs/reference.md §4.7): DST[odst] = DST[idst1]
// where DST[idst0] is not 0, else DST[idst2]. Up to 0.66 one call per format the DST holds
// (where_tile for Float16_b, where_fp32_tile for Float32); 0.81 names the format as a template
// argument, a global DataFormat (as tt-metal's tensix_types.h declares it). Without a release
// (NANOTT_TT_METAL_MINOR), both forms. Implemented for the
// CPU in runtime/src/sfpu.cpp (the DST holds float32 either way).
#pragma once
#include "compute_kernel_api/common_globals.h"

namespace nanott_cpu {
void where(uint32_t idst0, uint32_t idst1, uint32_t idst2, uint32_t odst, const char* call);
}  // namespace nanott_cpu

#include "nanott_cpu/data_format.h"

namespace ckernel {
#if !defined(NANOTT_TT_METAL_MINOR) || NANOTT_TT_METAL_MINOR >= 81
template <DataFormat data_format>
void where_tile(uint32_t idst0, uint32_t idst1, uint32_t idst2, uint32_t odst) {
    nanott_cpu::where(idst0, idst1, idst2, odst, "where_tile");
}
#endif
#if !defined(NANOTT_TT_METAL_MINOR) || NANOTT_TT_METAL_MINOR < 81
void where_tile(uint32_t idst0, uint32_t idst1, uint32_t idst2, uint32_t odst);
void where_fp32_tile(uint32_t idst0, uint32_t idst1, uint32_t idst2, uint32_t odst);
#endif
void where_tile_init();
}  // namespace ckernel
