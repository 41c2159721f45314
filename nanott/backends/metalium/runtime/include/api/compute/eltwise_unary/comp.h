// tt-metal 0.81's api/compute/eltwise_unary/comp.h (docs/reference.md §1.1): the compute API moved here from
// compute_kernel_api/; same calls.
#pragma once
#include "compute_kernel_api/eltwise_unary/comp.h"
