// Mock of tt-metal's api/tensor/tensor_accessor.h (metalium.md §3.5): TensorAccessorArgs<CTA>()
// reads the tensor's flags word at compile-time argument CTA (interleaved tensors take exactly
// one: Sharded=1, IsDram=2); TensorAccessor(args, bank_base_address, page_size) finds page i.
#pragma once
#include <cstddef>
#include <cstdint>
#include "api/compile_time_args.h"

extern uint8_t noc_index;

namespace tensor_accessor {
enum ArgConfig : uint32_t {
    None = 0, Sharded = 1, IsDram = 2, RuntimeRank = 4, RuntimeNumBanks = 8, RuntimeTensorShape = 16,
    RuntimeShardShape = 32, RuntimeBankCoords = 64
};
}  // namespace tensor_accessor

template <uint32_t CTA_OFFSET, uint32_t CRTA_OFFSET = 0xFFFFFFFFu>
struct TensorAccessorArgs {
    static constexpr uint32_t flags = get_compile_time_arg_val(CTA_OFFSET);
    static_assert((flags & tensor_accessor::Sharded) == 0, "these mock headers model interleaved tensors only");
    static constexpr bool is_dram = (flags & tensor_accessor::IsDram) != 0;
    constexpr TensorAccessorArgs() = default;
    static constexpr uint32_t next_compile_time_args_offset() { return CTA_OFFSET + 1; }
};

template <typename DSpec>
struct TensorAccessor {
    TensorAccessor(const DSpec& dspec, std::size_t bank_base_address, uint32_t page_size = 0);
    uint64_t get_noc_addr(uint32_t page_id, uint32_t offset = 0, uint8_t noc = noc_index) const;
    uint32_t page_size;
};
