// semaphores.cpp: CreateSemaphore on the host, and the semaphore and multicast calls of
// data-movement kernels (docs/reference.md §3.2, §3.3) on nanott's CPU device.
//
// A semaphore is a 16-byte L1 word of every core it was created on, just below the CB region;
// get_semaphore(id) is its address. noc_semaphore_wait sleeps on the core's condition variable
// (the watchdog sees it blocked and names the value it waits for); set, inc and the semaphore
// multicast write under the target core's lock and wake its kernels. An inc is applied when issued.
// A multicast address is a rectangle of NoC coordinates, named from its top-left corner on NoC 0 and
// from its bottom-right corner on NoC 1 (mirrored; the kernel's NoC is its DataMovementConfig's):
// noc_async_write_multicast queues one write
// per core of it, landing at the kernel's write barrier, or before a semaphore multicast (the
// flag that follows the data on one NoC lands after it). The sender is not in its rectangle (the
// plain multicast does not loop back), and num_dests must count the rectangle's cores.
#include "api/dataflow/dataflow_api.h"
#include "state.hpp"

using namespace tt::tt_metal;

namespace nanott_cpu {
namespace {
constexpr int LOCAL_BITS = 36;
constexpr uint64_t MCAST = uint64_t{1} << 63;

struct Rect {
    uint64_t x0, y0, x1, y1, addr;
};

Rect rect_of(uint64_t a, const char* call) {
    if (!(a & MCAST)) {
        fail(std::string(call) + ": the address is not a multicast address (get_noc_multicast_addr)");
    }
    return {(a >> LOCAL_BITS) & 63, (a >> (LOCAL_BITS + 6)) & 63, (a >> (LOCAL_BITS + 12)) & 63,
            (a >> (LOCAL_BITS + 18)) & 63, a & ((uint64_t{1} << LOCAL_BITS) - 1)};
}

// The cores of a multicast rectangle, checked: inside the run, not the sender, num_dests of them.
std::vector<Core*> receivers(KernelThread& k, const Rect& r, uint32_t num_dests, const char* call) {
    std::vector<Core*> out;
    for (uint64_t y = r.y0; y <= r.y1; ++y) {
        for (uint64_t x = r.x0; x <= r.x1; ++x) {
            const auto core = k.run->cores.find({x - 1, y - 1});
            if (x == 0 || y == 0 || core == k.run->cores.end()) {
                fail(std::string(call) + ": NoC (" + std::to_string(x) + ", " + std::to_string(y) +
                     ") of the rectangle is not a core of this program");
            }
            if (core->second.get() == k.core) {
                fail(std::string(call) + " from " + kernel_name(k) + " to a rectangle that holds it: the plain "
                     "multicast does not loop back");
            }
            out.push_back(core->second.get());
        }
    }
    if (out.size() != num_dests) {
        fail(std::string(call) + ": num_dests is " + std::to_string(num_dests) + ", the rectangle has " +
             std::to_string(out.size()) + " cores (the sender would wait for acknowledgements forever)");
    }
    return out;
}

// The semaphore at an L1 address this kernel holds (the same offset on every core) on `core`.
uint32_t& word(const KernelThread& k, Core& core, uint32_t l1_addr, const char* call) {
    const uint32_t base = k.core->l1.base() + core.semaphore_base;
    const uint32_t id = (l1_addr - base) / SEMAPHORE_BYTES;
    if (l1_addr < base || (l1_addr - base) % SEMAPHORE_BYTES || id >= core.semaphores) {
        fail(std::string(call) + ": address " + std::to_string(l1_addr) + " is no semaphore of core " +
             core_name(core.xy) + " (CreateSemaphore made " + std::to_string(core.semaphores) + ")");
    }
    return *reinterpret_cast<uint32_t*>(core.l1.data() + (l1_addr - k.core->l1.base()));
}

void wake(KernelThread& k, Core& core) {
    k.run->progress++;
    core.cv.notify_all();
}
}  // namespace

void place_semaphores(Run& run, const ProgramState& p) {
    if (p.semaphores.size() > MAX_SEMAPHORES) {
        fail("CreateSemaphore: " + std::to_string(p.semaphores.size()) + " semaphores, nanott's CPU device has room "
             "for " + std::to_string(MAX_SEMAPHORES));
    }
    for (uint32_t id = 0; id < p.semaphores.size(); ++id) {
        for (const CoreCoord& xy : p.semaphores[id].cores) {
            Core& core = core_at(run, xy);
            core.semaphores = std::max(core.semaphores, id + 1);
            *reinterpret_cast<uint32_t*>(core.l1.data() + core.semaphore_base + id * SEMAPHORE_BYTES) =
                p.semaphores[id].initial;
        }
    }
}

uint32_t semaphore_addr(uint32_t id) {
    Core& core = *current().core;
    if (id >= core.semaphores) {
        fail("get_semaphore(" + std::to_string(id) + ") on core " + core_name(core.xy) + ": CreateSemaphore made " +
             std::to_string(core.semaphores) + " semaphores here");
    }
    return core.l1.base() + core.semaphore_base + id * SEMAPHORE_BYTES;
}
}  // namespace nanott_cpu

namespace tt::tt_metal {
uint32_t CreateSemaphore(Program& program, const std::variant<CoreRange, CoreRangeSet>& core_spec,
                         uint32_t initial_value) {
    auto& sems = nanott_cpu::Access::program(program).semaphores;
    std::variant<CoreCoord, CoreRange, CoreRangeSet> spec;
    std::visit([&](const auto& c) { spec = c; }, core_spec);
    sems.push_back({nanott_cpu::cores_of(spec), initial_value});
    return static_cast<uint32_t>(sems.size() - 1);
}

uint32_t CreateSemaphore(Program& program, const std::variant<CoreRange, CoreRangeSet>& core_spec,
                         uint32_t initial_value, tt::CoreType core_type) {
    if (core_type != tt::CoreType::WORKER && core_type != tt::CoreType::TENSIX) {
        nanott_cpu::fail("CreateSemaphore: nanott's CPU device has worker (Tensix) cores only");
    }
    return CreateSemaphore(program, core_spec, initial_value);
}
}  // namespace tt::tt_metal

using nanott_cpu::current;

void noc_semaphore_set(volatile tt_l1_ptr uint32_t* sem_addr, uint32_t val) {
    nanott_cpu::KernelThread& k = current();
    std::unique_lock<std::mutex> lock(k.core->m);
    nanott_cpu::word(k, *k.core, static_cast<uint32_t>(reinterpret_cast<uintptr_t>(sem_addr)), "noc_semaphore_set") = val;
    nanott_cpu::wake(k, *k.core);
}

void noc_semaphore_wait(volatile tt_l1_ptr uint32_t* sem_addr, uint32_t val) {
    nanott_cpu::KernelThread& k = current();
    std::unique_lock<std::mutex> lock(k.core->m);
    uint32_t& w = nanott_cpu::word(k, *k.core, static_cast<uint32_t>(reinterpret_cast<uintptr_t>(sem_addr)),
                                   "noc_semaphore_wait");
    const int id = static_cast<int>((reinterpret_cast<uintptr_t>(&w) - reinterpret_cast<uintptr_t>(k.core->l1.data()) -
                                     k.core->semaphore_base) / nanott_cpu::SEMAPHORE_BYTES);
    nanott_cpu::block_until(k, lock, {"noc_semaphore_wait", -2 - id, val}, [&] { return w == val; });
}

void noc_semaphore_inc(uint64_t addr, uint32_t incr, uint8_t) {
    nanott_cpu::KernelThread& k = current();
    const uint64_t x = (addr >> nanott_cpu::LOCAL_BITS) & 63, y = (addr >> (nanott_cpu::LOCAL_BITS + 6)) & 63;
    const auto core = k.run->cores.find({x - 1, y - 1});
    if (x == 0 || y == 0 || core == k.run->cores.end()) {
        nanott_cpu::fail("noc_semaphore_inc: NoC (" + std::to_string(x) + ", " + std::to_string(y) +
                         ") is not a core of this program");
    }
    nanott_cpu::Core& target = *core->second;
    std::unique_lock<std::mutex> lock(target.m);
    nanott_cpu::word(k, target, static_cast<uint32_t>(addr & 0xFFFFFFFFu), "noc_semaphore_inc") += incr;
    nanott_cpu::wake(k, target);
}

uint64_t get_noc_multicast_addr(uint32_t noc_x_start, uint32_t noc_y_start, uint32_t noc_x_end, uint32_t noc_y_end,
                                uint32_t addr, uint8_t noc) {
    constexpr int B = nanott_cpu::LOCAL_BITS;
    if (noc == 1) {                    // NoC 1 runs mirrored: its rectangles start at the bottom-right corner
        if (noc_x_start < noc_x_end || noc_y_start < noc_y_end) {
            nanott_cpu::fail("get_noc_multicast_addr on NoC 1 from (" + std::to_string(noc_x_start) + ", " +
                             std::to_string(noc_y_start) + ") to (" + std::to_string(noc_x_end) + ", " +
                             std::to_string(noc_y_end) + "): NoC 1 is mirrored, its rectangle starts at the "
                             "bottom-right corner (swap start and end)");
        }
        std::swap(noc_x_start, noc_x_end);
        std::swap(noc_y_start, noc_y_end);
    } else if (noc_x_start > noc_x_end || noc_y_start > noc_y_end) {
        nanott_cpu::fail("get_noc_multicast_addr on NoC 0 from (" + std::to_string(noc_x_start) + ", " +
                         std::to_string(noc_y_start) + ") to (" + std::to_string(noc_x_end) + ", " +
                         std::to_string(noc_y_end) + "): a NoC 0 rectangle starts at its top-left corner");
    }
    return nanott_cpu::MCAST | (uint64_t{noc_y_end} << (B + 18)) | (uint64_t{noc_x_end} << (B + 12)) |
           (uint64_t{noc_y_start} << (B + 6)) | (uint64_t{noc_x_start} << B) | addr;
}

void noc_async_write_multicast(uint32_t src_local_l1_addr, uint64_t dst_noc_addr_multicast, uint32_t size,
                               uint32_t num_dests, bool, uint8_t) {
    nanott_cpu::KernelThread& k = current();
    const nanott_cpu::Rect r = nanott_cpu::rect_of(dst_noc_addr_multicast, "noc_async_write_multicast");
    for (nanott_cpu::Core* core : nanott_cpu::receivers(k, r, num_dests, "noc_async_write_multicast")) {
        nanott_cpu::noc_write(src_local_l1_addr, nanott_cpu::noc_xy_addr(core->xy.x + 1, core->xy.y + 1, r.addr), size);
    }
}

void noc_semaphore_set_multicast(uint32_t src_local_l1_addr, uint64_t dst_noc_addr_multicast, uint32_t num_dests,
                                 bool, uint8_t) {
    nanott_cpu::KernelThread& k = current();
    const nanott_cpu::Rect r = nanott_cpu::rect_of(dst_noc_addr_multicast, "noc_semaphore_set_multicast");
    const std::vector<nanott_cpu::Core*> cores = nanott_cpu::receivers(k, r, num_dests, "noc_semaphore_set_multicast");
    nanott_cpu::land(k, k.writes, false);          // the data multicast before it lands first
    uint32_t value;
    {
        std::unique_lock<std::mutex> lock(k.core->m);
        value = nanott_cpu::word(k, *k.core, src_local_l1_addr, "noc_semaphore_set_multicast");
    }
    for (nanott_cpu::Core* core : cores) {
        std::unique_lock<std::mutex> lock(core->m);
        nanott_cpu::word(k, *core, static_cast<uint32_t>(r.addr), "noc_semaphore_set_multicast") = value;
        nanott_cpu::wake(k, *core);
    }
}
