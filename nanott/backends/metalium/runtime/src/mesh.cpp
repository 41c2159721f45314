// mesh.cpp: the Mesh host API on nanott's CPU device (docs/reference.md §6.1): the device and its
// command queue, interleaved DRAM buffers, TensorAccessorArgs, workloads.
//
// A DRAM buffer of `size` bytes in pages of `page_size` is allocated at one base address in every
// bank; page i lives in bank i % banks at base + (i / banks) * (page size aligned to the DRAM
// alignment) (docs/reference.md §3.5). Fresh DRAM holds 0xFF bytes (NaN as float and bfloat16), so a
// page the device never writes shows up in the results.
#include <algorithm>
#include <cstring>
#include <tt-metalium/tensor_accessor_args.hpp>
#include "state.hpp"

using namespace tt::tt_metal;
using nanott_cpu::Access;
using nanott_cpu::fail;

namespace nanott_cpu {
namespace {
// (bank, byte offset in the bank) of byte `offset` of a buffer.
std::pair<uint32_t, uint64_t> locate(const Device& d, uint64_t base, uint64_t page_size, uint64_t offset) {
    const uint64_t page = offset / page_size, align = d.arch.dram_alignment;
    const uint64_t aligned = (page_size + align - 1) / align * align;
    return {static_cast<uint32_t>(page % d.arch.dram_banks), base + (page / d.arch.dram_banks) * aligned + offset % page_size};
}

template <typename Copy>
void each_page(distributed::MeshBuffer& b, std::size_t bytes, const char* call, Copy copy) {
    if (bytes > Access::size(b)) {
        fail(std::string(call) + ": " + std::to_string(bytes) + " bytes for a buffer of " +
             std::to_string(Access::size(b)));
    }
    Device& d = *Access::device(b);
    const uint64_t page = Access::page_size(b);
    for (uint64_t at = 0; at < bytes; at += page) {
        const auto [bank, offset] = locate(d, Access::address(b), page, at);
        copy(d.banks[bank].data() + offset, at, std::min<uint64_t>(page, bytes - at));
    }
}
}  // namespace

void write_buffer(distributed::MeshBuffer& buffer, const void* data, std::size_t bytes) {
    const auto* from = static_cast<const uint8_t*>(data);
    each_page(buffer, bytes, "EnqueueWriteMeshBuffer",
              [&](uint8_t* dram, uint64_t at, uint64_t n) { std::memcpy(dram, from + at, n); });
}

void read_buffer(distributed::MeshBuffer& buffer, void* data, std::size_t bytes) {
    auto* to = static_cast<uint8_t*>(data);
    each_page(buffer, bytes, "EnqueueReadMeshBuffer",
              [&](uint8_t* dram, uint64_t at, uint64_t n) { std::memcpy(to + at, dram, n); });
}

std::size_t buffer_bytes(const distributed::MeshBuffer& buffer) { return buffer.size(); }
}  // namespace nanott_cpu

namespace tt::tt_metal::distributed {
std::size_t MeshShape::mesh_size() const { return 1; }
uint32_t MeshCommandQueue::id() const { return 0; }

std::shared_ptr<MeshDevice> MeshDevice::create_unit_mesh(int device_id, std::size_t, std::size_t, std::size_t,
                                                     const DispatchCoreConfig&, std::span<const std::uint32_t>,
                                                     std::size_t) {
    if (device_id != 0) {
        fail("create_unit_mesh(" + std::to_string(device_id) + "): nanott's CPU runtime has one device, 0");
    }
    std::shared_ptr<MeshDevice> mesh(Access::new_device());
    auto device = std::make_shared<nanott_cpu::Device>();
    device->arch = nanott_cpu::arch_from_environment();
    device->banks.resize(device->arch.dram_banks);
    Access::device(*mesh) = device;
    Access::queue(Access::queue_of(*mesh)) = std::make_shared<nanott_cpu::QueueState>(nanott_cpu::QueueState{device, {}});
    return mesh;
}

MeshCommandQueue& MeshDevice::mesh_command_queue(std::optional<uint8_t> cq_id) const {
    if (cq_id.value_or(0) != 0) {
        fail("mesh_command_queue(" + std::to_string(*cq_id) + "): nanott's CPU runtime has one queue, 0");
    }
    return queue_;
}

const MeshShape& MeshDevice::shape() const { return shape_; }

CoreCoord MeshDevice::compute_with_storage_grid_size() const { return {device_->arch.grid_x, device_->arch.grid_y}; }

// This device's NoC coordinates of a worker core: logical + (1, 1) (noc.cpp).
CoreCoord MeshDevice::worker_core_from_logical_core(const CoreCoord& logical_core) const {
    return {logical_core.x + 1, logical_core.y + 1};
}

bool MeshDevice::close() {
    Finish(queue_);
    return true;
}

std::shared_ptr<MeshBuffer> MeshBuffer::create(const MeshBufferConfig& mesh_buffer_config,
                                               const DeviceLocalBufferConfig& device_local_config,
                                               MeshDevice* mesh_device, std::optional<DeviceAddr> address) {
    const auto* replicated = std::get_if<ReplicatedBufferConfig>(&mesh_buffer_config);
    if (replicated == nullptr || device_local_config.buffer_type != BufferType::DRAM || address.has_value()) {
        nanott_cpu::unsupported("buffers other than replicated DRAM buffers at an address the allocator picks");
    }
    const uint64_t page = device_local_config.page_size;
    if (page == 0 || replicated->size % page != 0) {
        fail("MeshBuffer::create: size " + std::to_string(replicated->size) + " is not a whole number of pages of " +
             std::to_string(page) + " B");
    }
    auto& device = Access::device(*mesh_device);
    const nanott_cpu::Arch& arch = device->arch;
    const uint64_t align = arch.dram_alignment, pages = replicated->size / page;
    const uint64_t per_bank = (pages + arch.dram_banks - 1) / arch.dram_banks;
    const uint64_t base = (device->next_address + align - 1) / align * align;
    device->next_address = base + per_bank * ((page + align - 1) / align * align);
    if (device->next_address > arch.dram_bank_bytes) {
        fail("MeshBuffer::create: out of DRAM (" + std::to_string(arch.dram_bank_bytes) + " B per bank)");
    }
    for (auto& bank : device->banks) {
        bank.resize(device->next_address, 0xFF);
    }
    std::shared_ptr<MeshBuffer> buffer(Access::new_buffer());
    Access::device(*buffer) = device;
    Access::address(*buffer) = base;
    Access::size(*buffer) = replicated->size;
    Access::page_size(*buffer) = page;
    return buffer;
}

DeviceAddr MeshBuffer::size() const { return size_; }

MeshCoordinateRange::MeshCoordinateRange(const MeshShape&) {}
MeshWorkload::MeshWorkload() = default;

void MeshWorkload::add_program(const MeshCoordinateRange&, Program&& program) { programs_.push_back(std::move(program)); }

void EnqueueMeshWorkload(MeshCommandQueue& mesh_cq, MeshWorkload& mesh_workload, bool blocking) {
    Finish(mesh_cq);
    std::vector<const nanott_cpu::ProgramState*> programs;
    for (const Program& p : Access::programs(mesh_workload)) {
        programs.push_back(&Access::program(p));
    }
    nanott_cpu::launch(*Access::queue(mesh_cq), programs);
    if (blocking) {
        Finish(mesh_cq);
    }
}

void Finish(MeshCommandQueue& mesh_cq, std::span<const SubDeviceId>) { nanott_cpu::finish(*Access::queue(mesh_cq)); }
}  // namespace tt::tt_metal::distributed

namespace tt::tt_metal {
TensorAccessorArgs::TensorAccessorArgs(const Buffer&, tensor_accessor::ArgsConfig) {
    nanott_cpu::unsupported("TensorAccessorArgs of a single-device Buffer (use a MeshBuffer)");
}

// An interleaved DRAM buffer takes one compile-time word, its flags: IsDram (docs/reference.md §3.5).
TensorAccessorArgs::TensorAccessorArgs(const distributed::MeshBuffer&, tensor_accessor::ArgsConfig args_config) {
    if (args_config != tensor_accessor::ArgsConfig{}) {
        nanott_cpu::unsupported("TensorAccessorArgs with runtime arguments");
    }
    flags_ = static_cast<uint32_t>(tensor_accessor::ArgConfig::IsDram);
}

void TensorAccessorArgs::append_to(std::vector<uint32_t>& compile_time_args) const {
    compile_time_args.push_back(flags_);
}

void TensorAccessorArgs::append_to(std::vector<uint32_t>& compile_time_args, std::vector<uint32_t>&) const {
    compile_time_args.push_back(flags_);
}

std::vector<uint32_t> TensorAccessorArgs::get_compile_time_args() const { return {flags_}; }
std::vector<uint32_t> TensorAccessorArgs::get_common_runtime_args() const { return {}; }
}  // namespace tt::tt_metal
