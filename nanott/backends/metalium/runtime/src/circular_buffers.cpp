// circular_buffers.cpp: the CB calls of data-movement and compute kernels (docs/reference.md §3.1,
// §5.1, §5.2) on nanott's CPU device.
//
// A CB is two 16-bit free-running counters (received, acked) and two pointers that wrap only by
// landing exactly on the end of the ring. cb_reserve_back and cb_wait_front block (the kernel
// sleeps on its core's condition variable; the watchdog sees it blocked) until enough pages are
// free or visible; cb_push_back and cb_pop_front never block and wake the core's kernels. Rules
// 1-3 and 5-8 of §5.2 are checked, each failure naming its rule.
#define TRISC_UNPACK
#define TRISC_MATH
#define TRISC_PACK
#include "api/dataflow/dataflow_api.h"
#include "compute_kernel_api/cb_api.h"
#include "state.hpp"

#include <cstring>

namespace nanott_cpu {
namespace {
std::string call_text(const char* call, const Cb& cb, uint32_t n) {
    return std::string(call) + "(cb " + std::to_string(cb.index) + ", " + std::to_string(n) + ")";
}

Cb& cb_of(KernelThread& k, int64_t index, const char* call) {
    if (index < 0 || static_cast<std::size_t>(index) >= k.core->cbs.size() || !k.core->cbs[index].configured) {
        fail(std::string(call) + "(cb " + std::to_string(index) + "): no CB with this index on this core "
             "(CreateCircularBuffer)");
    }
    return k.core->cbs[index];
}

// Rule 1: one producer and one consumer per CB, each a single kernel.
void claim(KernelThread& k, Cb& cb, bool producer) {
    std::string& side = producer ? cb.producer : cb.consumer;
    if (side.empty()) {
        side = k.spec->name;
    } else if (side != k.spec->name) {
        fail("cb " + std::to_string(cb.index) + " has two " + (producer ? "producers" : "consumers") + ": " + side +
             " and " + k.spec->name + " (docs/reference.md §5.2 rule 1)");
    }
}

void check_count(const Cb& cb, const char* call, int64_t n) {
    if (n <= 0 || n > cb.num_pages) {
        fail(call_text(call, cb, static_cast<uint32_t>(n)) + ": cb " + std::to_string(cb.index) + " holds " +
             std::to_string(cb.num_pages) + " pages (docs/reference.md §5.2 rule 2: it would block forever)");
    }
}

// Rule 3: the region of a call lies from the pointer on, up to the end of the ring at most.
void check_region(const Cb& cb, const char* call, uint32_t ptr, uint32_t n) {
    if (ptr + n > cb.num_pages) {
        fail(call_text(call, cb, n) + " at page " + std::to_string(ptr) + " of a " + std::to_string(cb.num_pages) +
             "-page ring: the pointer would cross the end without landing on it (docs/reference.md §5.2 rule 3: the "
             "counts of one trip round the ring must add up to exactly its size)");
    }
}

uint32_t advance(const Cb& cb, const char* call, uint32_t ptr, uint32_t n) {
    check_region(cb, call, ptr, n);
    return ptr + n == cb.num_pages ? 0 : ptr + n;
}

// Transfers of this kernel still in flight into (or out of) the CB's L1 space (its pages
// first .. first + pages - 1 only, if pages is given: a push's, whose pages must have landed).
std::size_t in_flight(const std::vector<Transfer>& transfers, const Cb& cb, uint32_t first = 0,
                      uint32_t pages = 0) {
    std::size_t n = 0;
    const uint32_t begin = cb.base + (pages ? first * cb.page_size : 0);
    const uint32_t end = pages ? begin + pages * cb.page_size : cb.base + cb.num_pages * cb.page_size;
    for (const Transfer& t : transfers) {
        n += t.l1_addr < end && t.l1_addr + t.size > begin;
    }
    return n;
}

void reserve(int64_t index, int64_t n) {
    KernelThread& k = current();
    std::unique_lock<std::mutex> lock(k.core->m);
    Cb& cb = cb_of(k, index, "cb_reserve_back");
    claim(k, cb, true);
    check_count(cb, "cb_reserve_back", n);
    const auto pages = static_cast<uint32_t>(n);
    block_until(k, lock, {"cb_reserve_back", static_cast<int>(index), pages}, [&] { return cb.free() >= pages; });
    check_region(cb, "cb_reserve_back", cb.wr, pages);
    cb.reserved = std::max(cb.reserved, pages);
}

void push(int64_t index, int64_t n) {
    KernelThread& k = current();
    std::unique_lock<std::mutex> lock(k.core->m);
    Cb& cb = cb_of(k, index, "cb_push_back");
    claim(k, cb, true);
    const auto pages = static_cast<uint32_t>(n);
    if (n <= 0 || pages > cb.reserved) {
        fail(call_text("cb_push_back", cb, pages) + " with " + std::to_string(cb.reserved) +
             " pages reserved (docs/reference.md §5.2 rule 5: cb_reserve_back first)");
    }
    if (const std::size_t reads = in_flight(k.reads, cb, cb.wr, pages)) {
        fail(call_text("cb_push_back", cb, pages) + " with " + std::to_string(reads) + " NoC reads into its "
             "pages in flight (docs/reference.md §5.2 rule 7: noc_async_read_barrier before cb_push_back)");
    }
    cb.received = static_cast<uint16_t>(cb.received + pages);
    cb.wr = advance(cb, "cb_push_back", cb.wr, pages);
    cb.reserved -= pages;
    cb.pack_next = 0;
    made_progress(k);
}

void wait(int64_t index, int64_t n) {
    KernelThread& k = current();
    std::unique_lock<std::mutex> lock(k.core->m);
    Cb& cb = cb_of(k, index, "cb_wait_front");
    claim(k, cb, false);
    check_count(cb, "cb_wait_front", n);
    const auto pages = static_cast<uint32_t>(n);
    block_until(k, lock, {"cb_wait_front", static_cast<int>(index), pages}, [&] { return cb.visible() >= pages; });
    check_region(cb, "cb_wait_front", cb.rd, pages);
    cb.waited = std::max(cb.waited, pages);
}

void pop(int64_t index, int64_t n) {
    KernelThread& k = current();
    std::unique_lock<std::mutex> lock(k.core->m);
    Cb& cb = cb_of(k, index, "cb_pop_front");
    claim(k, cb, false);
    const auto pages = static_cast<uint32_t>(n);
    if (n <= 0 || pages > cb.visible()) {
        fail(call_text("cb_pop_front", cb, pages) + " with " + std::to_string(cb.visible()) +
             " pages visible (docs/reference.md §5.2 rule 5)");
    }
    if (const std::size_t writes = in_flight(k.writes, cb)) {
        fail(call_text("cb_pop_front", cb, pages) + " with " + std::to_string(writes) + " NoC writes out of it in "
             "flight (docs/reference.md §5.2 rule 8: noc_async_write_barrier before cb_pop_front)");
    }
    cb.acked = static_cast<uint16_t>(cb.acked + pages);
    cb.rd = advance(cb, "cb_pop_front", cb.rd, pages);
    cb.waited = cb.waited > pages ? cb.waited - pages : 0;
    made_progress(k);
}

uint32_t pointer(int64_t index, bool back) {
    KernelThread& k = current();
    std::lock_guard<std::mutex> lock(k.core->m);
    const Cb& cb = cb_of(k, index, back ? "get_write_ptr" : "get_read_ptr");
    return k.core->l1.base() + cb.base + (back ? cb.wr : cb.rd) * cb.page_size;
}

bool probe(int64_t index, int64_t n, bool back) {
    KernelThread& k = current();
    std::lock_guard<std::mutex> lock(k.core->m);
    const Cb& cb = cb_of(k, index, back ? "cb_pages_reservable_at_back" : "cb_pages_available_at_front");
    return n >= 0 && (back ? cb.free() : cb.visible()) >= static_cast<uint32_t>(n);
}
}  // namespace

// The L1 bytes of slot `slot` of a CB's waited front (back: reserved back) region, for compute
// (rule 6: compute reads only waited slots and writes only reserved ones).
uint8_t* cb_slot(KernelThread& k, uint32_t index, uint32_t slot, bool back, const char* call) {
    std::lock_guard<std::mutex> lock(k.core->m);
    Cb& cb = cb_of(k, index, call);
    const uint32_t limit = back ? cb.reserved : cb.waited;
    if (slot >= limit) {
        fail(std::string(call) + ": slot " + std::to_string(slot) + " of cb " + std::to_string(index) + ", but " +
             std::to_string(limit) + (back ? " pages are reserved" : " pages were waited for") +
             " (docs/reference.md §5.2 rule 6)");
    }
    return k.core->l1.data() + cb.base + ((back ? cb.wr : cb.rd) + slot) * cb.page_size;
}

const Cb& cb_config(KernelThread& k, uint32_t index, const char* call) { return cb_of(k, index, call); }

uint32_t next_pack_slot(KernelThread& k, uint32_t index) {
    std::lock_guard<std::mutex> lock(k.core->m);
    return cb_of(k, index, "pack_tile").pack_next++;
}
}  // namespace nanott_cpu

void cb_reserve_back(int32_t operand, int32_t num_pages) { nanott_cpu::reserve(operand, num_pages); }
void cb_push_back(int32_t operand, int32_t num_pages) { nanott_cpu::push(operand, num_pages); }
void cb_wait_front(int32_t operand, int32_t num_pages) { nanott_cpu::wait(operand, num_pages); }
void cb_pop_front(int32_t operand, int32_t num_pages) { nanott_cpu::pop(operand, num_pages); }
bool cb_pages_reservable_at_back(int32_t operand, int32_t num_pages) { return nanott_cpu::probe(operand, num_pages, true); }
bool cb_pages_available_at_front(int32_t operand, int32_t num_pages) { return nanott_cpu::probe(operand, num_pages, false); }
uint32_t get_write_ptr(uint32_t operand) { return nanott_cpu::pointer(operand, true); }
uint32_t get_read_ptr(uint32_t operand) { return nanott_cpu::pointer(operand, false); }

int32_t get_tile_size(uint32_t operand) {
    auto& k = nanott_cpu::current();
    return static_cast<int32_t>(nanott_cpu::cb_config(k, operand, "get_tile_size").page_size);
}

namespace ckernel {
void cb_wait_front(uint32_t cbid, uint32_t ntiles) { nanott_cpu::wait(cbid, ntiles); }
void cb_pop_front(uint32_t cbid, uint32_t ntiles) { nanott_cpu::pop(cbid, ntiles); }
void cb_reserve_back(uint32_t cbid, uint32_t ntiles) { nanott_cpu::reserve(cbid, ntiles); }
void cb_push_back(uint32_t cbid, uint32_t ntiles) { nanott_cpu::push(cbid, ntiles); }
uint32_t read_tile_value(uint32_t cb_id, uint32_t tile_index, uint32_t element_offset) {
    auto& k = nanott_cpu::current();
    const uint8_t* page = nanott_cpu::cb_slot(k, cb_id, tile_index, false, "read_tile_value");
    if (element_offset * 4 + 4 > nanott_cpu::cb_config(k, cb_id, "read_tile_value").page_size) {
        nanott_cpu::fail("read_tile_value: word " + std::to_string(element_offset) + " is outside the page of cb " +
                         std::to_string(cb_id));
    }
    uint32_t word;
    std::memcpy(&word, page + element_offset * 4, 4);
    return word;
}
}  // namespace ckernel
