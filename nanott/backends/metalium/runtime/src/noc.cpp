// noc.cpp: NoC addresses and transfers (docs/reference.md §3.2-§3.4, §5.4) on nanott's CPU device.
//
// A NoC address is (y << 42) | (x << 36) | local address, with this device's coordinates: DRAM
// bank b sits at (0, b), the worker core of logical (x, y) at (x + 1, y + 1). A read or write is
// only recorded when issued; its bytes move at the issuing kernel's barrier (a write reads its L1
// source then, which is why a writer must barrier before it pops the page).
#include <cstring>
#include "api/dataflow/dataflow_api.h"
#include "state.hpp"

thread_local uint8_t noc_index = 0;     // set by launch.cpp from the kernel's DataMovementConfig

namespace nanott_cpu {
namespace {
constexpr int LOCAL_BITS = 36;
constexpr uint64_t LOCAL_MASK = (uint64_t{1} << LOCAL_BITS) - 1;

}  // namespace

uint64_t noc_xy_addr(uint64_t x, uint64_t y, uint64_t addr) {
    return (y << (LOCAL_BITS + 6)) | (x << LOCAL_BITS) | (addr & LOCAL_MASK);
}

namespace {

std::string hex(uint64_t v) {
    char text[32];
    std::snprintf(text, sizeof text, "0x%llx", static_cast<unsigned long long>(v));
    return text;
}

// The offset in the core's L1 of an L1 address a kernel gave (get_write_ptr's value and up).
uint32_t l1_offset(const KernelThread& k, uint32_t addr, uint32_t size, const char* call) {
    const uint32_t base = k.core->l1.base();
    if (addr < base || uint64_t{addr - base} + size > k.core->l1.size()) {
        fail(std::string(call) + ": L1 address " + hex(addr) + " + " + std::to_string(size) +
             " bytes is outside the core's L1");
    }
    return addr - base;
}

}  // namespace

void land(const KernelThread& k, std::vector<Transfer>& transfers, bool reads) {
    for (const Transfer& t : transfers) {
        uint8_t* remote = memory_at(k, t.noc_addr, t.size);
        uint8_t* local = k.core->l1.data() + t.l1_addr;
        std::memcpy(reads ? local : remote, reads ? remote : local, t.size);
    }
    transfers.clear();
}

uint64_t dram_noc_addr(uint32_t bank, uint64_t bank_offset) { return noc_xy_addr(0, bank, bank_offset); }

uint8_t* memory_at(const KernelThread& k, uint64_t noc_addr, uint32_t size) {
    const uint64_t x = (noc_addr >> LOCAL_BITS) & 63, y = (noc_addr >> (LOCAL_BITS + 6)) & 63;
    const uint64_t addr = noc_addr & LOCAL_MASK;
    if (x == 0) {
        auto& banks = k.run->device->banks;
        if (y >= banks.size() || addr + size > banks[y].size()) {
            fail("NoC address " + hex(noc_addr) + ": " + std::to_string(size) + " bytes at " + hex(addr) +
                 " of DRAM bank " + std::to_string(y) + " are not in an allocated buffer (docs/reference.md §3.5)");
        }
        return banks[y].data() + addr;
    }
    // an L1 address names the same offset on every core: the issuing core's mapping translates it
    const auto core = k.run->cores.find({x - 1, y - 1});
    const uint64_t base = k.core->l1.base();
    if (core == k.run->cores.end() || addr < base || addr - base + size > core->second->l1.size()) {
        fail("NoC address " + hex(noc_addr) + " is not in the L1 of a core of this program");
    }
    return core->second->l1.data() + (addr - base);
}

void noc_read(uint64_t src_noc_addr, uint32_t dst_local_l1_addr, uint32_t size) {
    KernelThread& k = current();
    memory_at(k, src_noc_addr, size);
    k.reads.push_back({src_noc_addr, l1_offset(k, dst_local_l1_addr, size, "noc_async_read"), size, k.read_trid});
}

void noc_write(uint32_t src_local_l1_addr, uint64_t dst_noc_addr, uint32_t size) {
    KernelThread& k = current();
    memory_at(k, dst_noc_addr, size);
    k.writes.push_back({dst_noc_addr, l1_offset(k, src_local_l1_addr, size, "noc_async_write"), size});
}
}  // namespace nanott_cpu

using nanott_cpu::current;

uint64_t get_noc_addr(uint32_t noc_x, uint32_t noc_y, uint32_t addr, uint8_t) {
    return nanott_cpu::noc_xy_addr(noc_x, noc_y, addr);
}

uint64_t get_noc_addr(uint32_t addr, uint8_t) {
    const CoreCoord xy = current().core->xy;
    return nanott_cpu::noc_xy_addr(xy.x + 1, xy.y + 1, addr);
}

void noc_async_read(uint64_t src_noc_addr, uint32_t dst_local_l1_addr, uint32_t size, uint8_t) {
    nanott_cpu::noc_read(src_noc_addr, dst_local_l1_addr, size);
}

void noc_async_write(uint32_t src_local_l1_addr, uint64_t dst_noc_addr, uint32_t size, uint8_t) {
    nanott_cpu::noc_write(src_local_l1_addr, dst_noc_addr, size);
}

void noc_async_read_barrier(uint8_t) { nanott_cpu::land(current(), current().reads, true); }

// Transaction ids (docs/reference.md §3.3): the reads issued after set_trid carry the id; the barrier
// with an id lands that id's reads only, the others stay in flight.
void noc_async_read_set_trid(uint32_t trid, uint8_t) {
    if (trid > 0xF) {
        nanott_cpu::fail("noc_async_read_set_trid(" + std::to_string(trid) + "): a transaction id is 0..15");
    }
    current().read_trid = trid;
}

void noc_async_read_barrier_with_trid(uint32_t trid, uint8_t) {
    auto& reads = current().reads;
    std::vector<nanott_cpu::Transfer> landing, staying;
    for (const nanott_cpu::Transfer& t : reads) {
        (t.trid == trid ? landing : staying).push_back(t);
    }
    nanott_cpu::land(current(), landing, true);
    reads = std::move(staying);
}
void noc_async_write_barrier(uint8_t) { nanott_cpu::land(current(), current().writes, false); }
void noc_async_writes_flushed(uint8_t) { nanott_cpu::land(current(), current().writes, false); }

void noc_async_full_barrier(uint8_t) {
    noc_async_read_barrier(0);
    noc_async_write_barrier(0);
}
