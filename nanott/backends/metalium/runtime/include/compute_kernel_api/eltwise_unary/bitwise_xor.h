// tt-metal's compute_kernel_api/eltwise_unary/bitwise_xor.h (up to 0.66): see bitwise.h beside it.
#pragma once
#include "compute_kernel_api/eltwise_unary/bitwise.h"
