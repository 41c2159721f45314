// nanott_cpu/kernel.h: what the kernel-side Metalium headers need from nanott's CPU runtime.
//
// Not part of the Metalium API. The inline templates of the real headers (get_arg_val,
// TensorAccessor, noc_async_read_page, ...) are instantiated in each kernel with that kernel's
// own types, so their bodies live in the headers and call these functions of the runtime
// (runtime/src). Built for the CPU, a kernel is one translation unit compiled with
//   -DNANOTT_KERNEL=reader -Dkernel_main=nanott_kernel_main_reader -DKERNEL_COMPILE_TIME_ARGS=...
// and registers its entry point and compile-time arguments under its name here, so the host's
// CreateKernel(program, ".../reader.cpp", ...) finds it. A syntax check (no NANOTT_KERNEL)
// registers nothing.
#pragma once
#include <cstdint>

namespace nanott_cpu {
// runtime arguments of the kernel running on this thread (docs/reference.md §2)
uint32_t runtime_arg(int index);
uint32_t common_runtime_arg(int index);
uint32_t runtime_arg_addr(int index);

// the device's DRAM: interleaved banks (docs/reference.md §3.5)
uint32_t dram_banks();
uint32_t dram_alignment();
uint64_t dram_noc_addr(uint32_t bank, uint64_t bank_offset);

// NoC transfers of this thread's kernel: queued now, moved at its barrier (docs/reference.md §5.4)
void noc_read(uint64_t src_noc_addr, uint32_t dst_local_l1_addr, uint32_t size);
void noc_write(uint32_t src_local_l1_addr, uint64_t dst_noc_addr, uint32_t size);
[[noreturn]] void unsupported(const char* what);
// the L1 address of this core's semaphore `id` (semaphores.cpp)
uint32_t semaphore_addr(uint32_t id);

// the templated compute calls of this thread's compute kernel, by their template arguments:
// typecast_tile<IN, OUT> (tt::DataFormat values), unary_bcast<ROW|COL>, reduce_tile<op, dim>
// (op '+' SUM, '>' MAX, '<' MIN; along a row (into column 0) or a column (into row 0))
void typecast_init(uint32_t in_format, uint32_t out_format);
void typecast(uint32_t idst, uint32_t in_format, uint32_t out_format);
void unary_bcast_init(uint32_t icb, uint32_t ocb, bool row);
void unary_bcast(uint32_t icb, uint32_t in_tile_index, uint32_t dst_tile_index, bool row);
void reduce_init(uint32_t icb, uint32_t icb_scaler, uint32_t ocb);
void reduce_tile(char op, bool row, uint32_t icb, uint32_t icb_scaler, uint32_t itile, uint32_t itile_scaler,
                 uint32_t idst);

using KernelMain = void (*)();
struct KernelRegistration {
    KernelRegistration(const char* name, KernelMain main, const uint32_t* compile_args, uint32_t count);
};
}  // namespace nanott_cpu

#ifdef NANOTT_KERNEL
#include "api/compile_time_args.h"
#define NANOTT_STRING_(x) #x
#define NANOTT_STRING(x) NANOTT_STRING_(x)
// C linkage: a legacy compute kernel defines its entry as `namespace NAMESPACE { void MAIN }`
// (ttnn 0.65; compute_kernel_api/common_globals.h), and a function of C linkage declared in two
// namespaces is one function, so this registration finds it wherever the kernel defines it
extern "C" void kernel_main();
namespace {
const nanott_cpu::KernelRegistration nanott_kernel_registration(
    NANOTT_STRING(NANOTT_KERNEL), kernel_main, kernel_compile_time_args::values, kernel_compile_time_args::count);
}  // namespace
#endif
