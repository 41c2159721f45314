// tt-metal's compute_kernel_api/reconfig_data_format.h (§4.4): unpacker formats.
#pragma once
#include "compute_kernel_api/common_globals.h"

namespace ckernel {
void reconfig_data_format(const uint32_t srca_new_operand, const uint32_t srcb_new_operand);
void reconfig_data_format_srca(const uint32_t srca_new_operand);
void reconfig_data_format_srcb(const uint32_t srcb_new_operand);
}  // namespace ckernel
