// launch.cpp: running a workload on nanott's CPU device: EnqueueMeshWorkload's launch and
// Finish's join.
//
// Launch gives every core of the programs an L1 of bytes (0xFF: unwritten data reads as NaN) and
// places its CBs in it, from the bottom of the free region up, 16-B aligned; then starts one thread
// per kernel and core, with that core's runtime arguments and, for compute, a DST of the capacity
// the compute configuration implies (docs/reference.md §4.3). Finish joins them; a run ends clean only
// if every CB is empty again (each page pushed was popped, none is reserved: docs/reference.md §5.5).
#include <sys/mman.h>

#include <cstring>

#include "state.hpp"

namespace nanott_cpu {
L1::~L1() {
    if (bytes_ != nullptr) munmap(bytes_, size_);
}

void L1::assign(std::size_t bytes, uint8_t fill) {
    int flags = MAP_PRIVATE | MAP_ANONYMOUS;
#ifdef MAP_32BIT
    flags |= MAP_32BIT;                                 // x86-64 Linux: the low 2 GiB
#endif
    void* hint = reinterpret_cast<void*>(uintptr_t{0x10000000});
    void* m = mmap(hint, bytes, PROT_READ | PROT_WRITE, flags, -1, 0);
    if (m == MAP_FAILED || reinterpret_cast<uintptr_t>(m) + bytes > 0xFFFFFFFFull) {
        fail("no room below 4 GiB for a core's L1 of " + std::to_string(bytes) + " B (L1 addresses are 32-bit)");
    }
    bytes_ = static_cast<uint8_t*>(m);
    size_ = bytes;
    std::memset(bytes_, fill, bytes);
}

Core& core_at(Run& run, const CoreCoord& xy) {
    const Arch& arch = run.device->arch;
    if (xy.x >= arch.grid_x || xy.y >= arch.grid_y) {
        fail("core " + core_name(xy) + " is outside the " + std::to_string(arch.grid_x) + "x" +
             std::to_string(arch.grid_y) + " grid of " + arch.name);
    }
    auto& slot = run.cores[{xy.x, xy.y}];
    if (!slot) {
        slot = std::make_unique<Core>();
        slot->xy = xy;
        slot->l1.assign(arch.l1_bytes, 0xFF);
        slot->cbs.resize(arch.num_cbs);
        slot->l1_next = arch.l1_bytes - arch.l1_free;
        slot->semaphore_base = slot->l1_next - MAX_SEMAPHORES * SEMAPHORE_BYTES;
    }
    return *slot;
}

namespace {

void place_cbs(Run& run, const CbSpec& spec) {
    for (const CoreCoord& xy : spec.cores) {
        Core& core = core_at(run, xy);
        const uint32_t base = (core.l1_next + 15) / 16 * 16;
        if (uint64_t{base} + spec.total_size > core.l1.size()) {
            fail("the CBs of core " + core_name(xy) + " need more than its " +
                 std::to_string(run.device->arch.l1_free) + " B of free L1");
        }
        core.l1_next = base + spec.total_size;
        for (const auto& [index, format] : spec.formats) {
            if (index >= core.cbs.size() || core.cbs[index].configured) {
                fail("cb " + std::to_string(index) + " on core " + core_name(xy) + ": configured twice, or past the " +
                     std::to_string(core.cbs.size()) + " CB indices of " + run.device->arch.name);
            }
            Cb& cb = core.cbs[index];
            cb.configured = true;
            cb.index = index;
            cb.format = format;
            cb.page_size = spec.page_sizes.at(index);
            cb.num_pages = spec.total_size / cb.page_size;
            cb.base = base;
        }
    }
}

void run_kernel(KernelThread* k) {
    set_current(k);
    noc_index = k->spec->noc;
    k->spec->main();
    if (!k->reads.empty() || !k->writes.empty()) {
        fail("the kernel ends with " + std::to_string(k->reads.size()) + " NoC reads and " +
             std::to_string(k->writes.size()) + " writes in flight: a barrier is missing (docs/reference.md §5.4 rule 3)");
    }
    if (k->dst) {
        check_dst_idle(*k);
    }
    std::lock_guard<std::mutex> lock(k->core->m);
    k->status = Status::done;
    k->run->live--;
    made_progress(*k);
}

void check_empty(const Run& run) {
    for (const auto& [xy, core] : run.cores) {
        for (const Cb& cb : core->cbs) {
            if (cb.configured && (cb.visible() != 0 || cb.reserved != 0)) {
                fail("cb " + std::to_string(cb.index) + " on core " + core_name(core->xy) + " ends the run with " +
                     std::to_string(cb.visible()) + " pages pushed and not popped and " + std::to_string(cb.reserved) +
                     " reserved and not pushed (docs/reference.md §5.5: producer and consumer must agree on the counts)");
            }
        }
    }
}
}  // namespace

void made_progress(KernelThread& k) {
    k.run->progress++;
    k.core->cv.notify_all();
}

void launch(QueueState& queue, std::vector<const ProgramState*> programs) {
    auto run = std::make_unique<Run>();
    run->device = queue.device.get();
    for (const ProgramState* p : programs) {
        for (const CbSpec& cb : p->cbs) {
            place_cbs(*run, cb);
        }
        place_semaphores(*run, *p);
        run->kernels.insert(run->kernels.end(), p->kernels.begin(), p->kernels.end());
    }
    const Arch& arch = run->device->arch;
    for (const KernelSpec& spec : run->kernels) {
        for (const CoreCoord& xy : spec.cores) {
            auto k = std::make_unique<KernelThread>();
            k->run = run.get();
            k->core = &core_at(*run, xy);
            k->spec = &spec;
            if (const auto args = spec.args.find({xy.x, xy.y}); args != spec.args.end()) {
                k->args = args->second;
            }
            if (spec.compute) {
                k->dst = std::make_unique<Dst>();
                k->dst->sections = spec.dst_full_sync ? 1 : 2;
                k->dst->capacity = (spec.fp32_dest_acc ? arch.dst_tiles_32bit : arch.dst_tiles_16bit) *
                                   (spec.dst_full_sync ? 2 : 1);
                k->dst->regs.assign(std::size_t{k->dst->sections} * k->dst->capacity * TILE_ELEMENTS, 0.0f);
            }
            run->threads.push_back(std::move(k));
        }
    }
    run->live = static_cast<int>(run->threads.size());
    start_watchdog(*run);
    for (auto& k : run->threads) {
        k->thread = std::thread(run_kernel, k.get());
    }
    queue.running = std::move(run);
}

void finish(QueueState& queue) {
    if (!queue.running) {
        return;
    }
    for (auto& k : queue.running->threads) {
        k->thread.join();
    }
    stop_watchdog(*queue.running);
    check_empty(*queue.running);
    queue.running.reset();
}
}  // namespace nanott_cpu
