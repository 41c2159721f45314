// Mock of tt-metal's tt-metalium/distributed.hpp (February 2026; metalium.md §6.1): the Mesh
// host API that replaced EnqueueWriteBuffer/EnqueueProgram/Finish(CommandQueue&) in Sep 2025.
// Note the argument orders: write is (queue, buffer, data), read is (queue, data, buffer).
#pragma once
#include <memory>
#include <span>
#include <vector>
#include <tt-metalium/host_api.hpp>
#include <tt-metalium/mesh_buffer.hpp>
#include <tt-metalium/mesh_device.hpp>

namespace tt::tt_metal::distributed {
class MeshCoordinateRange {
public:
    explicit MeshCoordinateRange(const MeshShape& shape);
};

class MeshWorkload {
public:
    MeshWorkload();
    void add_program(const MeshCoordinateRange& device_range, Program&& program);
};

struct SubDeviceId {
    uint8_t id;
};

template <typename DType>
void EnqueueWriteMeshBuffer(
    MeshCommandQueue& mesh_cq, std::shared_ptr<MeshBuffer>& mesh_buffer, const std::vector<DType>& src,
    bool blocking = false);
template <typename DType>
void EnqueueReadMeshBuffer(
    MeshCommandQueue& mesh_cq, std::vector<DType>& dst, std::shared_ptr<MeshBuffer>& mesh_buffer,
    bool blocking = true);
void EnqueueMeshWorkload(MeshCommandQueue& mesh_cq, MeshWorkload& mesh_workload, bool blocking);
void Finish(MeshCommandQueue& mesh_cq, std::span<const SubDeviceId> sub_device_ids = {});
}  // namespace tt::tt_metal::distributed
