// Mock of tt-metal's compute_kernel_api/common_globals.h (metalium.md §4.1): a compute kernel is
// compiled three times, with -DTRISC_UNPACK, -DTRISC_MATH or -DTRISC_PACK; MAIN names that
// thread's entry for kernels in the legacy `namespace NAMESPACE { void MAIN { ... } }` form.
#pragma once
#include <cstdint>
#include "api/compile_time_args.h"

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

namespace ckernel {}
using namespace ckernel;  // the firmware build makes ckernel's calls visible to the kernel
