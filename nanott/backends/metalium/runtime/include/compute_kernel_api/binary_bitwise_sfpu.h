// tt-metal's compute_kernel_api/binary_bitwise_sfpu.h and binary_shift.h (docs/reference.md §4.7): two
// int32 DST tiles combined element by element into DST[odst]: bitwise_{and,or,xor}_binary_tile
// (INT32 up to 0.66, `<DataFormat::Int32>` in 0.81) and binary_{left,right}_shift_tile
// (`<DataFormat::Int32>` in 0.66 and 0.81, `binary_right_shift_int32_tile` in 0.65), each with its
// init. Every form is declared here (they overload); implemented for the CPU in runtime/src/sfpu.cpp.
#pragma once
#include "compute_kernel_api/common_globals.h"
#include "nanott_cpu/data_format.h"

namespace nanott_cpu {
void bits_binary(uint32_t idst0, uint32_t idst1, uint32_t odst, char op, const char* call);
}  // namespace nanott_cpu

namespace ckernel {
#define NANOTT_BITS_BINARY(name, op)                                                          \
    inline void name(uint32_t idst0, uint32_t idst1, uint32_t odst) {                         \
        nanott_cpu::bits_binary(idst0, idst1, odst, op, #name);                               \
    }                                                                                         \
    template <DataFormat data_format>                                                         \
    void name(uint32_t idst0, uint32_t idst1, uint32_t odst) {                                \
        nanott_cpu::bits_binary(idst0, idst1, odst, op, #name);                               \
    }
NANOTT_BITS_BINARY(bitwise_and_binary_tile, '&')
NANOTT_BITS_BINARY(bitwise_or_binary_tile, '|')
NANOTT_BITS_BINARY(bitwise_xor_binary_tile, '^')
NANOTT_BITS_BINARY(binary_left_shift_tile, '<')
NANOTT_BITS_BINARY(binary_right_shift_tile, '>')
NANOTT_BITS_BINARY(binary_left_shift_int32_tile, '<')
NANOTT_BITS_BINARY(binary_right_shift_int32_tile, '>')
#undef NANOTT_BITS_BINARY
void binary_bitwise_tile_init();
void binary_shift_tile_init();
}  // namespace ckernel
