// tt-metal's tt-metalium/tensor_accessor_args.hpp (docs/reference.md §3.5): the host side of
// TensorAccessorArgs, appending a buffer's accessor words to a kernel's compile-time arguments.
// Implemented for the CPU in runtime/src/mesh.cpp: an interleaved buffer appends one flags word.
#pragma once
#include <cstdint>
#include <vector>
#include <hostdevcommon/tensor_accessor/arg_config.hpp>
#include <tt-metalium/buffer_types.hpp>
#include <tt-metalium/mesh_buffer.hpp>

namespace tt::tt_metal {
class TensorAccessorArgs {
public:
    TensorAccessorArgs() = default;
    explicit TensorAccessorArgs(const Buffer& buffer,
                                tensor_accessor::ArgsConfig args_config = tensor_accessor::ArgConfig::None);
    explicit TensorAccessorArgs(const distributed::MeshBuffer& buffer,
                                tensor_accessor::ArgsConfig args_config = tensor_accessor::ArgConfig::None);
    void append_to(std::vector<uint32_t>& compile_time_args) const;
    void append_to(std::vector<uint32_t>& compile_time_args, std::vector<uint32_t>& common_runtime_args) const;
    std::vector<uint32_t> get_compile_time_args() const;
    std::vector<uint32_t> get_common_runtime_args() const;

private:
    uint32_t flags_ = 0;
};
}  // namespace tt::tt_metal
