// tt-metal 0.81's api/compute/eltwise_unary/shift.h (docs/reference.md §1.1): the integer ops with a
// constant, templated on the format; see compute_kernel_api/eltwise_unary/bitwise.h.
#pragma once
#include "compute_kernel_api/eltwise_unary/bitwise.h"
