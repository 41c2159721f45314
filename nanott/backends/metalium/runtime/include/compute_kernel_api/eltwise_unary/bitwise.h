// The SFPU's integer ops with a constant (docs/reference.md §4.7): DST[idst] = DST[idst] op param0 on
// the int32 the tile holds (after typecast_tile<Float32, Int32>): bitwise_and/or/xor, left_shift
// and right_shift (arithmetic). Up to 0.66 one header each (compute_kernel_api/eltwise_unary/
// bitwise_and.h, ..., right_shift.h) declaring `bitwise_and_tile(idst, param0)`; 0.81 gathers them in
// api/compute/eltwise_unary/bitwise.h and shift.h and names the format as a template argument
// (`bitwise_and_tile<DataFormat::Int32>(idst, param0)`). Both forms are declared here (they
// overload); implemented for the CPU in runtime/src/sfpu.cpp, where the DST holds the integers as
// float32 values.
#pragma once
#include "compute_kernel_api/common_globals.h"
#include "nanott_cpu/data_format.h"

namespace nanott_cpu {
void bits_scalar(uint32_t idst, uint32_t param0, char op, const char* call);
}  // namespace nanott_cpu

namespace ckernel {
#define NANOTT_BITS_SCALAR(name, op)                                                          \
    inline void name(uint32_t idst, uint32_t param0) { nanott_cpu::bits_scalar(idst, param0, op, #name); } \
    template <DataFormat data_format>                                                         \
    void name(uint32_t idst, uint32_t param0) {                                               \
        nanott_cpu::bits_scalar(idst, param0, op, #name);                                     \
    }                                                                                         \
    void name##_init();
NANOTT_BITS_SCALAR(bitwise_and_tile, '&')
NANOTT_BITS_SCALAR(bitwise_or_tile, '|')
NANOTT_BITS_SCALAR(bitwise_xor_tile, '^')
NANOTT_BITS_SCALAR(left_shift_tile, '<')
NANOTT_BITS_SCALAR(right_shift_tile, '>')
#undef NANOTT_BITS_SCALAR
}  // namespace ckernel
