// tt-metal 0.81's api/compute/binary_bitwise_sfpu.h (docs/reference.md §1.1): see
// compute_kernel_api/binary_bitwise_sfpu.h.
#pragma once
#include "compute_kernel_api/binary_bitwise_sfpu.h"
