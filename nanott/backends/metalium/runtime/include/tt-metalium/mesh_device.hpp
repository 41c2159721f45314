// tt-metal's tt-metalium/mesh_device.hpp and mesh_command_queue.hpp (docs/reference.md §6.1): the
// device (a mesh of one, here), its command queue and its grid. Implemented for the CPU in
// runtime/src/mesh.cpp: the device is the machine nanott_cpu::Device describes (the
// NANOTT_CPU_DEVICE environment variable, Wormhole n150 by default).
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <tt-metalium/core_coord.hpp>
#include "nanott_cpu/host.h"

namespace tt::tt_metal {
// tt-metalium/dispatch_core_common.hpp: which cores run the dispatch firmware (a CPU has none to
// choose; only the name matters here, as a parameter type of create_unit_mesh)
class DispatchCoreConfig {};
}  // namespace tt::tt_metal

namespace tt::tt_metal::distributed {
class MeshShape {
public:
    std::size_t mesh_size() const;
};

class MeshCommandQueue {
public:
    uint32_t id() const;

private:
    friend struct nanott_cpu::Access;
    std::shared_ptr<nanott_cpu::QueueState> state_;
};

class MeshDevice {
public:
    static std::shared_ptr<MeshDevice> create_unit_mesh(
        int device_id, std::size_t l1_small_size = 32768, std::size_t trace_region_size = 0,
        std::size_t num_command_queues = 1, const DispatchCoreConfig& dispatch_core_config = DispatchCoreConfig{},
        std::span<const std::uint32_t> l1_bank_remap = {}, std::size_t worker_l1_size = 0);
    MeshCommandQueue& mesh_command_queue(std::optional<uint8_t> cq_id = std::nullopt) const;
    const MeshShape& shape() const;
    CoreCoord compute_with_storage_grid_size() const;
    CoreCoord worker_core_from_logical_core(const CoreCoord& logical_core) const;
    bool close();

private:
    friend struct nanott_cpu::Access;
    MeshDevice() = default;
    std::shared_ptr<nanott_cpu::Device> device_;
    mutable MeshCommandQueue queue_;   // the real one hands out a queue from a const device
    MeshShape shape_;
};
}  // namespace tt::tt_metal::distributed
