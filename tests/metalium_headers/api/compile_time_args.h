// Mock of tt-metal's compile-time arguments (metalium.md §2): the JIT build passes a kernel's
// compile_args as -DKERNEL_COMPILE_TIME_ARGS=v0,v1,...; get_compile_time_arg_val(i) is a
// constant expression, and an index past the list does not compile.
#pragma once
#include <cstdint>

namespace nanott_mock {
template <uint32_t... V>
struct CompileTimeArgs {
    static constexpr uint32_t count = sizeof...(V);
    static constexpr uint32_t values[count + 1] = {V..., 0};
};
}  // namespace nanott_mock

#ifdef KERNEL_COMPILE_TIME_ARGS
using kernel_compile_time_args = nanott_mock::CompileTimeArgs<KERNEL_COMPILE_TIME_ARGS>;
#else
using kernel_compile_time_args = nanott_mock::CompileTimeArgs<>;
#endif

template <uint32_t Idx>
constexpr uint32_t get_ct_arg() {
    static_assert(Idx < kernel_compile_time_args::count, "compile-time argument index out of range");
    return kernel_compile_time_args::values[Idx];
}
#define get_compile_time_arg_val(arg_idx) get_ct_arg<arg_idx>()
