// Mock of tt-metal's compute_kernel_api/common.h: runtime arguments of a compute kernel (§2).
#pragma once
#include "compute_kernel_api/common_globals.h"

namespace ckernel {
template <typename T>
T get_arg_val(int arg_idx) {
    static_assert(sizeof(T) == 4, "Error: only 4B args are supported");
    return T(arg_idx);
}
template <typename T>
T get_common_arg_val(int arg_idx) {
    static_assert(sizeof(T) == 4, "Error: only 4B args are supported");
    return T(arg_idx);
}
}  // namespace ckernel
