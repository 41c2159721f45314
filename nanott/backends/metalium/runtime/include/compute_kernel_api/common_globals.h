// compute_kernel_api/common_globals.h (docs/reference.md §4.1): the JIT compiles a compute kernel three
// times, with -DTRISC_UNPACK, -DTRISC_MATH or -DTRISC_PACK; UNPACK(x), MATH(x) and PACK(x) keep x
// only on their thread, and MAIN names that thread's entry in the legacy
// `namespace NAMESPACE { void MAIN { ... } }` form. nanott's CPU runtime compiles the kernel once
// with all three defined and runs the three parts in program order on one thread, so there MAIN
// is the kernel's one entry (nanott_cpu/kernel.h).
#pragma once
#include <cstdint>
#include "api/compile_time_args.h"
#include "nanott_cpu/kernel.h"

#define ALWI inline __attribute__((always_inline))

#if defined(TRISC_MATH)
#define MAIN math_main()
#elif defined(TRISC_PACK)
#define MAIN pack_main()
#elif defined(TRISC_UNPACK)
#define MAIN unpack_main()
#else
#error "compile a compute kernel with one of -DTRISC_UNPACK, -DTRISC_MATH, -DTRISC_PACK"
#endif

#ifdef NANOTT_KERNEL   // built for the CPU: the one thread's entry, whichever form defines it
#undef MAIN
#define MAIN kernel_main()
namespace NAMESPACE {
extern "C" void kernel_main();
}
#endif

#ifdef TRISC_UNPACK
#define UNPACK(x) x
#else
#define UNPACK(x)
#endif
#ifdef TRISC_MATH
#define MATH(x) x
#else
#define MATH(x)
#endif
#ifdef TRISC_PACK
#define PACK(x) x
#else
#define PACK(x)
#endif

namespace ckernel {}
using namespace ckernel;  // the firmware build makes ckernel's calls visible to the kernel
