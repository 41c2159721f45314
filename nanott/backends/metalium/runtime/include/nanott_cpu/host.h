// nanott_cpu/host.h: what the host-side Metalium headers need from nanott's CPU runtime.
//
// Not part of the Metalium API. The host classes (Program, MeshDevice, MeshBuffer, ...) keep
// their state in runtime objects declared here and defined in runtime/src/state.hpp; the
// runtime reaches it through `Access`, a friend of each class. The buffer templates of
// distributed.hpp move bytes through write_buffer / read_buffer.
#pragma once
#include <cstddef>
#include <cstdint>

namespace tt::tt_metal::distributed {
class MeshBuffer;
}

namespace nanott_cpu {
struct Access;
struct Device;
struct ProgramState;
struct QueueState;

// host data <-> an interleaved DRAM buffer, page by page (docs/reference.md §3.5)
void write_buffer(tt::tt_metal::distributed::MeshBuffer& buffer, const void* data, std::size_t bytes);
void read_buffer(tt::tt_metal::distributed::MeshBuffer& buffer, void* data, std::size_t bytes);
std::size_t buffer_bytes(const tt::tt_metal::distributed::MeshBuffer& buffer);
}  // namespace nanott_cpu
