// dst.cpp: the DST register file of a compute kernel and its handshake (docs/reference.md §4.3, §5.3)
// on nanott's CPU device.
//
// The compute kernel runs UNPACK, MATH and PACK in program order on one thread, so the handshake
// is a state machine over `sections` DST sections (2 in half-sync, 1 in full-sync):
//   MATH  tile_regs_acquire (waits for a free section) -> ops on DST -> tile_regs_commit
//   PACK  tile_regs_wait (waits for a committed section) -> pack_tile -> tile_regs_release (zeroes it)
// A math op outside acquire..commit, a pack outside wait..release, a DST index at or above the
// capacity, or a kernel ending with a section open is a broken rule.
#define TRISC_UNPACK
#define TRISC_MATH
#define TRISC_PACK
#include <algorithm>
#include "compute_kernel_api/reg_api.h"
#include "state.hpp"

namespace nanott_cpu {
namespace {
Dst& dst_of(KernelThread& k) {
    if (!k.dst) {
        fail("a DST call in a data-movement kernel");
    }
    return *k.dst;
}
}  // namespace

float* dst_tile(KernelThread& k, uint32_t index, bool math, const char* call) {
    Dst& d = dst_of(k);
    if (!d.started) {
        fail(std::string(call) + " before the compute kernel's full init (compute_kernel_hw_startup, "
             "binary_op_init_common, mm_init or init_sfpu; docs/reference.md §5.3 rule 6)");
    }
    if (math && !d.acquired) {
        fail(std::string(call) + " writes the DST outside tile_regs_acquire..tile_regs_commit (docs/reference.md §5.3 rule 1)");
    }
    if (!math && !d.waiting) {
        fail(std::string(call) + " reads the DST outside tile_regs_wait..tile_regs_release (docs/reference.md §5.3 rule 2)");
    }
    if (index >= d.capacity) {
        fail(std::string(call) + ": DST index " + std::to_string(index) + ", but the DST holds " +
             std::to_string(d.capacity) + " tiles (docs/reference.md §4.3)");
    }
    const uint32_t section = math ? d.math_section : d.pack_section;
    return d.regs.data() + (static_cast<std::size_t>(section) * d.capacity + index) * TILE_ELEMENTS;
}

void check_dst_idle(KernelThread& k) {
    const Dst& d = *k.dst;
    if (d.acquired || d.waiting || d.committed != 0) {
        fail("the compute kernel ends with a DST section open: every tile_regs_acquire needs its commit, wait and "
             "release (docs/reference.md §5.3 rule 2)");
    }
}

void start_compute(KernelThread& k) { dst_of(k).started = true; }
}  // namespace nanott_cpu

using nanott_cpu::current;

namespace ckernel {
void tile_regs_acquire() {
    auto& k = current();
    auto& d = nanott_cpu::dst_of(k);
    std::unique_lock<std::mutex> lock(k.core->m);
    if (d.acquired) {
        nanott_cpu::fail("tile_regs_acquire twice without tile_regs_commit (docs/reference.md §5.3 rule 1)");
    }
    nanott_cpu::block_until(k, lock, {"tile_regs_acquire"}, [&] { return d.committed < d.sections; });
    d.acquired = true;
}

void tile_regs_commit() {
    auto& k = current();
    auto& d = nanott_cpu::dst_of(k);
    std::unique_lock<std::mutex> lock(k.core->m);
    if (!d.acquired) {
        nanott_cpu::fail("tile_regs_commit without tile_regs_acquire (docs/reference.md §5.3 rule 1)");
    }
    d.acquired = false;
    d.committed++;
    d.math_section = (d.math_section + 1) % d.sections;
    nanott_cpu::made_progress(k);
}

void tile_regs_wait() {
    auto& k = current();
    auto& d = nanott_cpu::dst_of(k);
    std::unique_lock<std::mutex> lock(k.core->m);
    if (d.waiting) {
        nanott_cpu::fail("tile_regs_wait twice without tile_regs_release (docs/reference.md §5.3 rule 2)");
    }
    nanott_cpu::block_until(k, lock, {"tile_regs_wait"}, [&] { return d.committed > 0; });
    d.waiting = true;
}

void tile_regs_release() {
    auto& k = current();
    auto& d = nanott_cpu::dst_of(k);
    std::unique_lock<std::mutex> lock(k.core->m);
    if (!d.waiting) {
        nanott_cpu::fail("tile_regs_release without tile_regs_wait (docs/reference.md §5.3 rule 2)");
    }
    float* section = d.regs.data() + static_cast<std::size_t>(d.pack_section) * d.capacity * nanott_cpu::TILE_ELEMENTS;
    std::fill(section, section + d.capacity * nanott_cpu::TILE_ELEMENTS, 0.0f);     // release zeroes (§5.3 rule 4)
    d.waiting = false;
    d.committed--;
    d.pack_section = (d.pack_section + 1) % d.sections;
    nanott_cpu::made_progress(k);
}

// One thread cannot wait for its own commit between acquire and pack: the deprecated pair is
// not modelled.
void acquire_dst() { nanott_cpu::unsupported("acquire_dst (deprecated: use tile_regs_acquire and tile_regs_wait)"); }
void release_dst() { nanott_cpu::unsupported("release_dst (deprecated: use tile_regs_commit and tile_regs_release)"); }
}  // namespace ckernel
