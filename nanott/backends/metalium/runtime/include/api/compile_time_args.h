// api/compile_time_args.h: a kernel's compile-time arguments (docs/reference.md §2), for nanott's
// Metalium headers. The JIT build passes a kernel's compile_args as
// -DKERNEL_COMPILE_TIME_ARGS=v0,v1,...; get_compile_time_arg_val(i) is a constant expression, and
// an index past the list does not compile. In an unnamed namespace: each kernel (translation
// unit) has its own arguments, also when the CPU build links three kernels into one program.
#pragma once
#include <cstdint>

namespace nanott_cpu {
template <uint32_t... V>
struct CompileTimeArgs {
    static constexpr uint32_t count = sizeof...(V);
    static constexpr uint32_t values[count + 1] = {V..., 0};
};
}  // namespace nanott_cpu

namespace {
#ifdef KERNEL_COMPILE_TIME_ARGS
using kernel_compile_time_args = nanott_cpu::CompileTimeArgs<KERNEL_COMPILE_TIME_ARGS>;
#else
using kernel_compile_time_args = nanott_cpu::CompileTimeArgs<>;
#endif

template <uint32_t Idx>
constexpr uint32_t get_ct_arg() {
    static_assert(Idx < kernel_compile_time_args::count, "compile-time argument index out of range");
    return kernel_compile_time_args::values[Idx];
}
}  // namespace
#define get_compile_time_arg_val(arg_idx) get_ct_arg<arg_idx>()
