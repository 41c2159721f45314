// tt-metal's compute_kernel_api/binary_shift.h: see binary_bitwise_sfpu.h beside it.
#pragma once
#include "compute_kernel_api/binary_bitwise_sfpu.h"
