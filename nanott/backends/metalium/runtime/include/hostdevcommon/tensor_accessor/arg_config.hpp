// tt-metal's hostdevcommon/tensor_accessor/arg_config.hpp (docs/reference.md §3.5): what a tensor
// accessor's flags word says, shared by the host's TensorAccessorArgs and the kernels' template.
// The namespace is the global `tensor_accessor`, as in tt-metal (it is part of mangled names).
#pragma once
#include <cstdint>
#include <hostdevcommon/flags.hpp>

namespace tensor_accessor {
enum class ArgConfig : uint8_t {
    None = 0, Sharded = 1, IsDram = 2, RuntimeRank = 4, RuntimeNumBanks = 8, RuntimeTensorShape = 16,
    RuntimeShardShape = 32, RuntimeBankCoords = 64
};
using ArgsConfig = Flags<ArgConfig>;
}  // namespace tensor_accessor
