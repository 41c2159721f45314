// api/tensor/tensor_accessor.h (docs/reference.md §3.5): TensorAccessorArgs<CTA>() reads the tensor's
// flags word at compile-time argument CTA (interleaved tensors take exactly one: Sharded=1,
// IsDram=2); TensorAccessor(args, bank_base_address, page_size) finds page i in bank
// i % banks at offset bank_base_address + (i / banks) * (page size aligned to the DRAM alignment).
// Both depend on the kernel's own compile-time arguments, hence the unnamed namespace.
#pragma once
#include <cstddef>
#include <cstdint>
#include <hostdevcommon/tensor_accessor/arg_config.hpp>
#include "api/compile_time_args.h"
#include "nanott_cpu/kernel.h"

// The NoC of the running kernel (its DataMovementConfig's noc): per kernel thread on the CPU device.
extern thread_local uint8_t noc_index;

namespace {
template <uint32_t CTA_OFFSET, uint32_t CRTA_OFFSET = 0xFFFFFFFFu>
struct TensorAccessorArgs {
    static constexpr uint32_t flags = get_compile_time_arg_val(CTA_OFFSET);
    static constexpr tensor_accessor::ArgsConfig config{static_cast<tensor_accessor::ArgConfig>(flags)};
    static_assert(!config.test(tensor_accessor::ArgConfig::Sharded), "nanott's Metalium headers model interleaved tensors only");
    static constexpr bool is_dram = config.test(tensor_accessor::ArgConfig::IsDram);
    constexpr TensorAccessorArgs() = default;
    static constexpr uint32_t next_compile_time_args_offset() { return CTA_OFFSET + 1; }
};

template <typename DSpec>
struct TensorAccessor {
    TensorAccessor(const DSpec& /*dspec*/, std::size_t bank_base_address, uint32_t page_size = 0)
        : page_size(page_size), bank_base_address(bank_base_address) {
        if constexpr (!DSpec::is_dram) {
            nanott_cpu::unsupported("interleaved L1 tensors");
        }
    }

    uint64_t get_noc_addr(uint32_t page_id, uint32_t offset = 0, uint8_t /*noc*/ = noc_index) const {
        const uint32_t banks = nanott_cpu::dram_banks();
        const uint32_t align = nanott_cpu::dram_alignment();
        const uint64_t aligned_page = (uint64_t{page_size} + align - 1) / align * align;
        return nanott_cpu::dram_noc_addr(page_id % banks, bank_base_address + (page_id / banks) * aligned_page + offset);
    }

    uint32_t page_size;
    std::size_t bank_base_address;
};
}  // namespace
