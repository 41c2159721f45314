// tt-metal's tt-metalium/mesh_buffer.hpp (docs/reference.md §6.1): a buffer allocated at one
// address on every device of the mesh; page_size is the interleaving unit. Implemented for the
// CPU in runtime/src/mesh.cpp: DRAM buffers only, interleaved over the device's banks.
#pragma once
#include <memory>
#include <optional>
#include <variant>
#include <tt-metalium/buffer_types.hpp>
#include "nanott_cpu/host.h"

namespace tt::tt_metal::distributed {
class MeshDevice;

struct DeviceLocalBufferConfig {
    DeviceAddr page_size = 0;
    BufferType buffer_type = BufferType::DRAM;
    std::optional<bool> bottom_up = std::nullopt;
};
struct ReplicatedBufferConfig {
    DeviceAddr size = 0;
};
struct ShardedBufferConfig {
    DeviceAddr global_size = 0;
};
using MeshBufferConfig = std::variant<ReplicatedBufferConfig, ShardedBufferConfig>;

class MeshBuffer {
public:
    static std::shared_ptr<MeshBuffer> create(
        const MeshBufferConfig& mesh_buffer_config, const DeviceLocalBufferConfig& device_local_config,
        MeshDevice* mesh_device, std::optional<DeviceAddr> address = std::nullopt);
    DeviceAddr address() const { return address_; }     // inline, as in tt-metal (not exported)
    DeviceAddr size() const;

private:
    friend struct nanott_cpu::Access;
    MeshBuffer() = default;
    std::shared_ptr<nanott_cpu::Device> device_;
    DeviceAddr address_ = 0;
    DeviceAddr size_ = 0;
    DeviceAddr page_size_ = 0;
};
}  // namespace tt::tt_metal::distributed
