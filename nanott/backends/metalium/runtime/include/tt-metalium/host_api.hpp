// tt-metal's tt-metalium/host_api.hpp (February 2026; docs/reference.md §6.1): programs,
// kernels, circular buffers and runtime arguments. The legacy device and queue calls are gone.
// Implemented for the CPU in runtime/src/host_api.cpp.
#pragma once
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <span>
#include <string>
#include <variant>
#include <vector>
#include <tt-metalium/buffer_types.hpp>
#include <tt-metalium/circular_buffer_config.hpp>
#include <tt-metalium/core_coord.hpp>
#include <tt-metalium/kernel_types.hpp>
#include "nanott_cpu/host.h"

namespace tt {
// umd's core types; the values are nanott's own
enum class CoreType { ARC, DRAM, ACTIVE_ETH, IDLE_ETH, PCIE, TENSIX, ROUTER_ONLY, HARVESTED, ETH, WORKER, SECURITY, L2CPU };
}  // namespace tt

namespace tt::tt_metal {
class Program {
public:
    Program();
    Program(Program&& other) noexcept;
    Program& operator=(Program&& other) noexcept;
    Program(const Program&) = delete;
    Program& operator=(const Program&) = delete;
    ~Program();

private:
    friend struct nanott_cpu::Access;
    std::unique_ptr<nanott_cpu::ProgramState> state_;
};

Program CreateProgram();

// Which release's declarations these are: NANOTT_TT_METAL_MINOR, the ttnn minor version (65, 66,
// 81; the default release, 81, when not given). nanott's build passes the plan's release, so that
// main.cpp meets the overloads a user of that release would. In 0.81 the Ethernet kernels got an
// overload of their own (as the real libtt_metal.so's exported symbols show); the runtime
// defines both sets.
#ifndef NANOTT_TT_METAL_MINOR
#define NANOTT_TT_METAL_MINOR 81
#endif
#if NANOTT_TT_METAL_MINOR >= 81
KernelHandle CreateKernel(
    Program& program,
    const std::string& file_name,
    const std::variant<CoreCoord, CoreRange, CoreRangeSet>& core_spec,
    const std::variant<DataMovementConfig, ComputeConfig>& config);
KernelHandle CreateKernel(
    Program& program,
    const std::string& file_name,
    const std::variant<CoreCoord, CoreRange, CoreRangeSet>& core_spec,
    const EthernetConfig& config);
#else
KernelHandle CreateKernel(
    Program& program,
    const std::string& file_name,
    const std::variant<CoreCoord, CoreRange, CoreRangeSet>& core_spec,
    const std::variant<DataMovementConfig, ComputeConfig, EthernetConfig>& config);
#endif

CBHandle CreateCircularBuffer(
    Program& program,
    const std::variant<CoreCoord, CoreRange, CoreRangeSet>& core_spec,
    const CircularBufferConfig& config);

// A semaphore on every core of core_spec, starting at initial_value; returns its id (§3.6). 0.81
// adds the overload without the core type; both are exported (nm -DC libtt_metal.so).
#if NANOTT_TT_METAL_MINOR >= 81
uint32_t CreateSemaphore(
    Program& program, const std::variant<CoreRange, CoreRangeSet>& core_spec, uint32_t initial_value);
uint32_t CreateSemaphore(
    Program& program, const std::variant<CoreRange, CoreRangeSet>& core_spec, uint32_t initial_value,
    tt::CoreType core_type);
#else
uint32_t CreateSemaphore(
    Program& program, const std::variant<CoreRange, CoreRangeSet>& core_spec, uint32_t initial_value,
    tt::CoreType core_type = tt::CoreType::WORKER);
#endif

void SetRuntimeArgs(
    const Program& program,
    KernelHandle kernel,
    const std::variant<CoreCoord, CoreRange, CoreRangeSet>& core_spec,
    std::span<const uint32_t> runtime_args);
void SetRuntimeArgs(
    const Program& program,
    KernelHandle kernel,
    const std::variant<CoreCoord, CoreRange, CoreRangeSet>& core_spec,
    std::initializer_list<uint32_t> runtime_args);
void SetRuntimeArgs(
    const Program& program,
    KernelHandle kernel,
    const std::vector<CoreCoord>& core_spec,
    const std::vector<std::vector<uint32_t>>& runtime_args);
void SetCommonRuntimeArgs(const Program& program, KernelHandle kernel_id, std::span<const uint32_t> runtime_args);
}  // namespace tt::tt_metal
