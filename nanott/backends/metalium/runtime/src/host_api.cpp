// host_api.cpp: programs on nanott's CPU device (docs/reference.md §6.1, §6.2): core ranges, CB
// configurations, CreateKernel, CreateCircularBuffer and the runtime arguments.
//
// Kernels are not JIT-compiled here: `nanott compile --execute` compiles each kernel source once,
// into the program, and the kernel registers itself under its file's stem (nanott_cpu/kernel.h).
// CreateKernel finds it by the stem of the path it is given, and checks that the compile-time
// arguments the host computes are the ones the kernel was compiled with.
#include <algorithm>
#include <sstream>
#include "state.hpp"

using namespace tt::tt_metal;

namespace nanott_cpu {
namespace {
struct Registered {
    KernelMain main;
    std::vector<uint32_t> compile_args;
};

std::map<std::string, Registered>& registry() {
    static std::map<std::string, Registered> kernels;
    return kernels;
}

std::string list(const std::vector<uint32_t>& values) {
    std::ostringstream out;
    out << "{";
    for (std::size_t i = 0; i < values.size(); ++i) {
        out << (i ? ", " : "") << values[i];
    }
    out << "}";
    return out.str();
}

KernelSpec& kernel_of(const Program& program, KernelHandle kernel) {
    auto& kernels = Access::program(program).kernels;
    if (kernel >= kernels.size()) {
        fail("SetRuntimeArgs: no kernel " + std::to_string(kernel) + " in this program");
    }
    return kernels[kernel];
}

void set_args(KernelSpec& k, const CoreCoord& core, std::vector<uint32_t> args) {
    const bool placed = std::any_of(k.cores.begin(), k.cores.end(),
                                    [&](const CoreCoord& c) { return c.x == core.x && c.y == core.y; });
    if (!placed) {
        fail("SetRuntimeArgs: the " + k.name + " kernel does not run on core " + core_name(core));
    }
    if (args.size() > max_runtime_args) {
        fail("SetRuntimeArgs: " + std::to_string(args.size()) + " runtime arguments for core " + core_name(core) +
             ", at most " + std::to_string(max_runtime_args) + " (docs/reference.md §2)");
    }
    k.args[{core.x, core.y}] = std::move(args);
}
}  // namespace

KernelRegistration::KernelRegistration(const char* name, KernelMain main, const uint32_t* compile_args,
                                       uint32_t count) {
    registry()[name] = Registered{main, std::vector<uint32_t>(compile_args, compile_args + count)};
}

std::vector<CoreCoord> cores_of(const std::variant<CoreCoord, CoreRange, CoreRangeSet>& spec) {
    std::vector<CoreRange> ranges;
    if (const auto* c = std::get_if<CoreCoord>(&spec)) {
        ranges.emplace_back(*c);
    } else if (const auto* r = std::get_if<CoreRange>(&spec)) {
        ranges.push_back(*r);
    } else {
        ranges = std::get<CoreRangeSet>(spec).ranges();
    }
    std::vector<CoreCoord> cores;
    for (const CoreRange& r : ranges) {
        for (std::size_t y = r.start_coord.y; y <= r.end_coord.y; ++y) {
            for (std::size_t x = r.start_coord.x; x <= r.end_coord.x; ++x) {
                cores.emplace_back(x, y);
            }
        }
    }
    return cores;
}
}  // namespace nanott_cpu

using nanott_cpu::Access;
using nanott_cpu::fail;

CoreRange::CoreRange(const CoreCoord& point) : start_coord(point), end_coord(point) {}

CoreRange::CoreRange(const CoreCoord& start, const CoreCoord& end) : start_coord(start), end_coord(end) {
    if (end.x < start.x || end.y < start.y) {
        fail("CoreRange " + nanott_cpu::core_name(start) + ".." + nanott_cpu::core_name(end) + " is empty");
    }
}

CoreRangeSet::CoreRangeSet(std::span<const CoreRange> core_ranges) : ranges_(core_ranges.begin(), core_ranges.end()) {}
CoreRangeSet::CoreRangeSet(const std::set<CoreRange>& core_ranges) : ranges_(core_ranges.begin(), core_ranges.end()) {}
CoreRangeSet::CoreRangeSet(const CoreRange& core_range) : ranges_{core_range} {}
CoreRangeSet::CoreRangeSet(std::vector<CoreRange>&& core_ranges) : ranges_(std::move(core_ranges)) {}

CoreRangeSet::CoreRangeSet(std::span<const CoreCoord> core_coords) {
    for (const CoreCoord& c : core_coords) {
        ranges_.emplace_back(c);
    }
}

std::size_t CoreRangeSet::size() const { return ranges_.size(); }
unsigned CoreRangeSet::num_cores() const { return static_cast<unsigned>(nanott_cpu::cores_of(*this).size()); }
const std::vector<CoreRange>& CoreRangeSet::ranges() const { return ranges_; }

namespace tt::tt_metal {
CircularBufferConfig::CircularBufferConfig(uint32_t total_size, const std::map<uint8_t, tt::DataFormat>& data_format_spec)
    : total_size_(total_size), formats_(data_format_spec) {}

CircularBufferConfig& CircularBufferConfig::set_page_size(uint8_t buffer_index, uint32_t page_size) {
    if (!formats_.contains(buffer_index)) {
        fail("CircularBufferConfig::set_page_size(" + std::to_string(buffer_index) + "): no data format for this index");
    }
    page_sizes_[buffer_index] = page_size;
    return *this;
}

CircularBufferConfig& CircularBufferConfig::set_total_size(uint32_t total_size) {
    total_size_ = total_size;
    return *this;
}

Program::Program() : state_(std::make_unique<nanott_cpu::ProgramState>()) {}
Program::Program(Program&& other) noexcept = default;
Program& Program::operator=(Program&& other) noexcept = default;
Program::~Program() = default;

Program CreateProgram() { return Program(); }

// ttnn 0.81's overloads (the header's default) and 0.65/0.66's single one, both defined here
KernelHandle CreateKernel(Program& program, const std::string& file_name,
                          const std::variant<CoreCoord, CoreRange, CoreRangeSet>& core_spec,
                          const std::variant<DataMovementConfig, ComputeConfig, EthernetConfig>& config);

KernelHandle CreateKernel(Program& program, const std::string& file_name,
                          const std::variant<CoreCoord, CoreRange, CoreRangeSet>& core_spec,
                          const std::variant<DataMovementConfig, ComputeConfig>& config) {
    return std::visit([&](const auto& c) { return CreateKernel(program, file_name, core_spec,
        std::variant<DataMovementConfig, ComputeConfig, EthernetConfig>(c)); }, config);
}

KernelHandle CreateKernel(Program& program, const std::string& file_name,
                          const std::variant<CoreCoord, CoreRange, CoreRangeSet>& core_spec, const EthernetConfig&) {
    fail("CreateKernel(" + file_name + "): nanott's CPU runtime has no Ethernet cores");
}

KernelHandle CreateKernel(Program& program, const std::string& file_name,
                          const std::variant<CoreCoord, CoreRange, CoreRangeSet>& core_spec,
                          const std::variant<DataMovementConfig, ComputeConfig, EthernetConfig>& config) {
    const std::size_t slash = file_name.find_last_of('/');
    std::string stem = file_name.substr(slash == std::string::npos ? 0 : slash + 1);
    stem = stem.substr(0, stem.find_last_of('.'));
    const auto found = nanott_cpu::registry().find(stem);
    if (found == nanott_cpu::registry().end()) {
        fail("CreateKernel(" + file_name + "): no kernel named '" + stem + "' was compiled into this program");
    }
    nanott_cpu::KernelSpec k;
    k.name = stem;
    k.main = found->second.main;
    k.cores = nanott_cpu::cores_of(core_spec);
    const std::vector<uint32_t>* compile_args = nullptr;
    if (const auto* dm = std::get_if<DataMovementConfig>(&config)) {
        compile_args = &dm->compile_args;
        k.noc = static_cast<uint8_t>(dm->noc);
    } else if (const auto* c = std::get_if<ComputeConfig>(&config)) {
        k.compute = true;
        k.fp32_dest_acc = c->fp32_dest_acc_en;
        k.unpack_to_dest = c->unpack_to_dest_mode;
        k.dst_full_sync = c->dst_full_sync_en;
        compile_args = &c->compile_args;
    } else {
        nanott_cpu::unsupported("Ethernet kernels");
    }
    if (*compile_args != found->second.compile_args) {
        fail("CreateKernel(" + file_name + "): the host passes compile-time arguments " +
             nanott_cpu::list(*compile_args) + ", the kernel was compiled with " +
             nanott_cpu::list(found->second.compile_args) + " (rebuild it with these)");
    }
    auto& kernels = Access::program(program).kernels;
    kernels.push_back(std::move(k));
    return static_cast<KernelHandle>(kernels.size() - 1);
}

CBHandle CreateCircularBuffer(Program& program, const std::variant<CoreCoord, CoreRange, CoreRangeSet>& core_spec,
                              const CircularBufferConfig& config) {
    nanott_cpu::CbSpec cb = Access::cb_spec(config);
    cb.cores = nanott_cpu::cores_of(core_spec);
    for (const auto& [index, format] : cb.formats) {
        const auto page = cb.page_sizes.find(index);
        if (page == cb.page_sizes.end() || page->second == 0 || cb.total_size % page->second != 0 ||
            page->second % 16 != 0) {
            fail("CreateCircularBuffer: cb " + std::to_string(index) + " needs a page size, a multiple of 16 B, that "
                 "divides the total size " + std::to_string(cb.total_size) + " (docs/reference.md §5.2 rule 9)");
        }
    }
    auto& cbs = Access::program(program).cbs;
    cbs.push_back(std::move(cb));
    return cbs.size() - 1;
}

void SetRuntimeArgs(const Program& program, KernelHandle kernel,
                    const std::variant<CoreCoord, CoreRange, CoreRangeSet>& core_spec,
                    std::span<const uint32_t> runtime_args) {
    auto& k = nanott_cpu::kernel_of(program, kernel);
    for (const CoreCoord& core : nanott_cpu::cores_of(core_spec)) {
        nanott_cpu::set_args(k, core, std::vector<uint32_t>(runtime_args.begin(), runtime_args.end()));
    }
}

void SetRuntimeArgs(const Program& program, KernelHandle kernel,
                    const std::variant<CoreCoord, CoreRange, CoreRangeSet>& core_spec,
                    std::initializer_list<uint32_t> runtime_args) {
    SetRuntimeArgs(program, kernel, core_spec, std::span<const uint32_t>(runtime_args.begin(), runtime_args.size()));
}

void SetRuntimeArgs(const Program& program, KernelHandle kernel, const std::vector<CoreCoord>& core_spec,
                    const std::vector<std::vector<uint32_t>>& runtime_args) {
    if (core_spec.size() != runtime_args.size()) {
        fail("SetRuntimeArgs: " + std::to_string(core_spec.size()) + " cores and " +
             std::to_string(runtime_args.size()) + " argument lists");
    }
    auto& k = nanott_cpu::kernel_of(program, kernel);
    for (std::size_t i = 0; i < core_spec.size(); ++i) {
        nanott_cpu::set_args(k, core_spec[i], runtime_args[i]);
    }
}

void SetCommonRuntimeArgs(const Program& program, KernelHandle kernel_id, std::span<const uint32_t> runtime_args) {
    nanott_cpu::kernel_of(program, kernel_id).common_args.assign(runtime_args.begin(), runtime_args.end());
}
}  // namespace tt::tt_metal
