// tt-metal's tt-metalium/distributed.hpp (February 2026; docs/reference.md §6.1): the Mesh
// host API that replaced EnqueueWriteBuffer/EnqueueProgram/Finish(CommandQueue&) in Sep 2025.
// Note the argument orders: write is (queue, buffer, data), read is (queue, data, buffer).
// Implemented for the CPU in runtime/src/mesh.cpp and launch.cpp; the queue is in order, so a
// buffer write or read waits for the workload enqueued before it.
#pragma once
#include <memory>
#include <span>
#include <vector>
#include <tt-metalium/host_api.hpp>
#include <tt-metalium/mesh_buffer.hpp>
#include <tt-metalium/mesh_device.hpp>

namespace ttsl {
// tt_stl's StrongType: a value of T that only converts to and from itself (one type per Tag)
template <typename T, typename Tag>
class StrongType {
public:
    constexpr explicit StrongType(T value) noexcept : value_(value) {}
    constexpr const T& operator*() const noexcept { return value_; }

private:
    T value_;
};
}  // namespace ttsl

namespace tt::tt_metal {
struct SubDeviceIdTag {};
using SubDeviceId = ttsl::StrongType<uint8_t, SubDeviceIdTag>;   // tt-metalium/sub_device_types.hpp
}  // namespace tt::tt_metal

namespace tt::tt_metal::distributed {
class MeshCoordinateRange {
public:
    explicit MeshCoordinateRange(const MeshShape& shape);
};

class MeshWorkload {
public:
    MeshWorkload();
    void add_program(const MeshCoordinateRange& device_range, Program&& program);

private:
    friend struct nanott_cpu::Access;
    std::vector<Program> programs_;
};

void Finish(MeshCommandQueue& mesh_cq, std::span<const SubDeviceId> sub_device_ids = {});

template <typename DType>
void EnqueueWriteMeshBuffer(
    MeshCommandQueue& mesh_cq, std::shared_ptr<MeshBuffer>& mesh_buffer, const std::vector<DType>& src,
    bool /*blocking*/ = false) {
    Finish(mesh_cq);
    nanott_cpu::write_buffer(*mesh_buffer, src.data(), src.size() * sizeof(DType));
}
template <typename DType>
void EnqueueReadMeshBuffer(
    MeshCommandQueue& mesh_cq, std::vector<DType>& dst, std::shared_ptr<MeshBuffer>& mesh_buffer,
    bool /*blocking*/ = true) {
    Finish(mesh_cq);
    dst.resize(nanott_cpu::buffer_bytes(*mesh_buffer) / sizeof(DType));
    nanott_cpu::read_buffer(*mesh_buffer, dst.data(), dst.size() * sizeof(DType));
}
void EnqueueMeshWorkload(MeshCommandQueue& mesh_cq, MeshWorkload& mesh_workload, bool blocking);
}  // namespace tt::tt_metal::distributed
