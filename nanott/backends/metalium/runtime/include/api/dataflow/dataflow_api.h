// api/dataflow/dataflow_api.h (tt-metal, February 2026), as nanott declares it: the
// data-movement kernel API with the signatures of docs/reference.md §2 and §3. Implemented for the CPU
// by runtime/src (circular_buffers.cpp, noc.cpp); the templates call it through nanott_cpu/kernel.h.
#pragma once
#include <bit>
#include <cstdint>
#include "api/compile_time_args.h"
#include "api/tensor/tensor_accessor.h"
#include "nanott_cpu/kernel.h"

// Runtime arguments are 4-byte words (§2).
template <typename T>
T get_arg_val(int arg_idx) {
    static_assert(sizeof(T) == 4, "Error: only 4B args are supported");
    return std::bit_cast<T>(nanott_cpu::runtime_arg(arg_idx));
}
template <typename T>
T get_common_arg_val(int arg_idx) {
    static_assert(sizeof(T) == 4, "Error: only 4B args are supported");
    return std::bit_cast<T>(nanott_cpu::common_runtime_arg(arg_idx));
}
uint32_t get_arg_addr(int arg_idx);

// Circular buffers (§3.1).
void cb_reserve_back(int32_t operand, int32_t num_pages);
void cb_push_back(int32_t operand, int32_t num_pages);
void cb_wait_front(int32_t operand, int32_t num_pages);
void cb_pop_front(int32_t operand, int32_t num_pages);
bool cb_pages_reservable_at_back(int32_t operand, int32_t num_pages);
bool cb_pages_available_at_front(int32_t operand, int32_t num_pages);
uint32_t get_write_ptr(uint32_t operand);
uint32_t get_read_ptr(uint32_t operand);
// On the device, an attribute saying a pointer points into L1 (risc_attribs.h); a kernel writes a
// CB page through `reinterpret_cast<volatile tt_l1_ptr T*>(get_write_ptr(cb))`. The CPU runtime maps
// each core's L1 below 4 GiB, so the address is the pointer.
#ifndef tt_l1_ptr
#define tt_l1_ptr
#endif
int32_t get_tile_size(uint32_t operand);

// NoC addresses and transfers (§3.2, §3.3): read is (src noc, dst L1), write is (src L1, dst noc).
uint64_t get_noc_addr(uint32_t noc_x, uint32_t noc_y, uint32_t addr, uint8_t noc = noc_index);
uint64_t get_noc_addr(uint32_t addr, uint8_t noc = noc_index);
void noc_async_read(uint64_t src_noc_addr, uint32_t dst_local_l1_addr, uint32_t size, uint8_t noc = noc_index);
void noc_async_write(uint32_t src_local_l1_addr, uint64_t dst_noc_addr, uint32_t size, uint8_t noc = noc_index);

// One page: the generator maps page id -> NoC address; a write of size 0 writes the whole page.
template <typename AddrGen>
void noc_async_read_page(uint32_t id, const AddrGen& addrgen, uint32_t dst_local_l1_addr,
                         uint32_t offset = 0, uint8_t noc = noc_index) {
    static_assert(requires { addrgen.get_noc_addr(id, offset, noc); }, "AddrGen must have get_noc_addr()");
    nanott_cpu::noc_read(addrgen.get_noc_addr(id, offset, noc), dst_local_l1_addr, addrgen.page_size);
}
template <typename AddrGen>
void noc_async_write_page(uint32_t id, const AddrGen& addrgen, uint32_t src_local_l1_addr,
                          uint32_t write_size_bytes = 0, uint32_t offset = 0, uint8_t noc = noc_index) {
    static_assert(requires { addrgen.get_noc_addr(id, offset, noc); }, "AddrGen must have get_noc_addr()");
    const uint32_t size = write_size_bytes != 0 ? write_size_bytes : addrgen.page_size;
    nanott_cpu::noc_write(src_local_l1_addr, addrgen.get_noc_addr(id, offset, noc), size);
}
template <typename AddrGen>
[[deprecated("use noc_async_read_page")]] void noc_async_read_tile(
    uint32_t id, const AddrGen& addrgen, uint32_t dst_local_l1_addr, uint32_t offset = 0, uint8_t noc = noc_index) {
    noc_async_read_page(id, addrgen, dst_local_l1_addr, offset, noc);
}
template <typename AddrGen>
[[deprecated("use noc_async_write_page")]] void noc_async_write_tile(
    uint32_t id, const AddrGen& addrgen, uint32_t src_local_l1_addr, uint8_t noc = noc_index) {
    noc_async_write_page(id, addrgen, src_local_l1_addr, 0, 0, noc);
}

// Barriers (§3.4).
// Semaphores and multicast (§3.2, §3.3): a semaphore is an L1 word of every core it was created
// on (CreateSemaphore), get_semaphore(id) its address. ProgrammableCoreType's values are nanott's own.
enum class ProgrammableCoreType { TENSIX, ACTIVE_ETH, IDLE_ETH };
template <ProgrammableCoreType type = ProgrammableCoreType::TENSIX>
uint32_t get_semaphore(uint32_t semaphore_id) {
    static_assert(type == ProgrammableCoreType::TENSIX, "nanott's CPU device has Tensix cores only");
    return nanott_cpu::semaphore_addr(semaphore_id);
}
void noc_semaphore_set(volatile tt_l1_ptr uint32_t* sem_addr, uint32_t val);
void noc_semaphore_wait(volatile tt_l1_ptr uint32_t* sem_addr, uint32_t val);
void noc_semaphore_inc(uint64_t addr, uint32_t incr, uint8_t noc_id = noc_index);
uint64_t get_noc_multicast_addr(uint32_t noc_x_start, uint32_t noc_y_start, uint32_t noc_x_end, uint32_t noc_y_end,
                                uint32_t addr, uint8_t noc = noc_index);
void noc_async_write_multicast(uint32_t src_local_l1_addr, uint64_t dst_noc_addr_multicast, uint32_t size,
                               uint32_t num_dests, bool linked = false, uint8_t noc = noc_index);
void noc_semaphore_set_multicast(uint32_t src_local_l1_addr, uint64_t dst_noc_addr_multicast, uint32_t num_dests,
                                 bool linked = false, uint8_t noc = noc_index);

void noc_async_read_barrier(uint8_t noc = noc_index);
void noc_async_read_set_trid(uint32_t trid = 0, uint8_t noc = noc_index);
void noc_async_read_barrier_with_trid(uint32_t trid, uint8_t noc = noc_index);
void noc_async_write_barrier(uint8_t noc = noc_index);
void noc_async_writes_flushed(uint8_t noc = noc_index);
void noc_async_full_barrier(uint8_t noc_idx = noc_index);
