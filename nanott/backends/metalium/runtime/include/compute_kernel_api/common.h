// compute_kernel_api/common.h (docs/reference.md §2): runtime arguments of a compute kernel, 4-byte
// words, read through nanott's CPU runtime (nanott_cpu/kernel.h).
#pragma once
#include <bit>
#include "compute_kernel_api/common_globals.h"
#include "nanott_cpu/kernel.h"

namespace ckernel {
template <typename T>
T get_arg_val(int arg_idx) {
    static_assert(sizeof(T) == 4, "Error: only 4B args are supported");
    return std::bit_cast<T>(nanott_cpu::runtime_arg(arg_idx));
}
template <typename T>
T get_common_arg_val(int arg_idx) {
    static_assert(sizeof(T) == 4, "Error: only 4B args are supported");
    return std::bit_cast<T>(nanott_cpu::common_runtime_arg(arg_idx));
}
}  // namespace ckernel
