// state.hpp: the state of nanott's CPU implementation of the Metalium API, shared by the files of
// runtime/src (not an API: kernels and host programs see only the headers of runtime/include).
//
// One process is one device. The host side builds Programs (kernels, CBs, runtime arguments) and
// DRAM buffers on a Device; EnqueueMeshWorkload turns the programs into a Run: per core an L1 of
// bytes holding its circular buffers, and per kernel and core a thread (reader, compute, writer),
// each with its runtime arguments, its NoC transfers in flight and, for compute, its DST. Every
// docs/reference.md rule the runtime can see is checked; a broken one ends the process through fail().
#pragma once
#include <array>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>
#include <tt-metalium/circular_buffer_config.hpp>
#include <tt-metalium/distributed.hpp>
#include <tt-metalium/host_api.hpp>
#include "nanott_cpu/host.h"
#include "nanott_cpu/kernel.h"

extern thread_local uint8_t noc_index;  // the running kernel's NoC (noc.cpp; set by launch.cpp)

using tt::tt_metal::CoreCoord;          // the runtime's own sources name them unqualified
using tt::tt_metal::CoreRange;
using tt::tt_metal::CoreRangeSet;

namespace nanott_cpu {
constexpr uint32_t TILE = 32;
constexpr uint32_t TILE_ELEMENTS = TILE * TILE;

// The machine (docs/reference.md §8.1, §4.3): Wormhole n150 unless NANOTT_CPU_DEVICE says otherwise,
// e.g. "name=blackhole_p150,grid=13x10,l1=1572864,l1_free=1469440,cbs=64,dram_banks=8,dram_alignment=64,dst16=8,dst32=4".
struct Arch {
    std::string name = "wormhole_n150";
    uint32_t grid_x = 8, grid_y = 8;
    uint32_t l1_bytes = 1464 * 1024;
    uint32_t l1_free = 1363 * 1024;        // above the firmware and kernel-config region: for CBs
    uint32_t num_cbs = 32;
    uint32_t dram_banks = 12, dram_alignment = 32;
    uint64_t dram_bank_bytes = uint64_t{1} << 30;
    uint32_t dst_tiles_16bit = 8, dst_tiles_32bit = 4;
};
Arch arch_from_environment();

// DRAM: banks of bytes; a buffer has one base address valid in every bank (lock-step allocation).
struct Device {
    Arch arch;
    std::vector<std::vector<uint8_t>> banks;
    uint64_t next_address = 64 * 1024;     // this device allocates from 64 KiB up: 0 is never valid
};

// ----- what the host builds -----
struct CbSpec {
    std::vector<CoreCoord> cores;
    uint32_t total_size;
    std::map<uint8_t, tt::DataFormat> formats;
    std::map<uint8_t, uint32_t> page_sizes;
};

struct KernelSpec {
    std::string name;                      // the source's stem: reader, compute, writer
    KernelMain main;
    bool compute = false;
    uint8_t noc = 0;                       // a data-movement kernel's NoC (DataMovementConfig::noc)
    bool fp32_dest_acc = false, dst_full_sync = false;
    std::vector<UnpackToDestMode> unpack_to_dest;   // per CB: UnpackToDestFp32 skips srcA's TF32
    std::vector<CoreCoord> cores;
    std::map<std::pair<std::size_t, std::size_t>, std::vector<uint32_t>> args;   // by (x, y)
    std::vector<uint32_t> common_args;
};

// A semaphore (CreateSemaphore): its cores and initial value; its id is its index.
struct SemSpec {
    std::vector<CoreCoord> cores;
    uint32_t initial;
};
constexpr uint32_t MAX_SEMAPHORES = 16;     // nanott's limit: 16-byte words just below the CB region
constexpr uint32_t SEMAPHORE_BYTES = 16;    // one L1_ALIGNMENT each (get_semaphore: base + id * 16)

struct ProgramState {
    std::vector<KernelSpec> kernels;
    std::vector<CbSpec> cbs;
    std::vector<SemSpec> semaphores;
};

// ----- a run -----
// One CB of one core: docs/reference.md §5.1's counters and pointers (pointers in pages).
struct Cb {
    bool configured = false;
    uint32_t index = 0;
    tt::DataFormat format = tt::DataFormat::Invalid;
    uint32_t page_size = 0, num_pages = 0, base = 0;     // base: L1 byte address
    uint16_t received = 0, acked = 0;                    // 16-bit, free-running
    uint32_t wr = 0, rd = 0;                             // fifo_wr_ptr, fifo_rd_ptr
    uint32_t reserved = 0, waited = 0;                   // pages reserved at the back, waited at the front
    uint32_t pack_next = 0;                              // pack_tile's slot without <true>; reset by push
    std::string producer, consumer;                      // the roles that use each side (rule 1)

    uint32_t visible() const { return uint16_t(received - acked); }
    uint32_t free() const { return num_pages - visible(); }
};

// A core's L1: bytes mapped below 4 GiB, so that an L1 address a kernel holds (get_write_ptr's
// uint32_t) is also a pointer it can write through, as a data-movement kernel does on the device
// (`reinterpret_cast<volatile tt_l1_ptr float*>(get_write_ptr(cb))`). base() is the address of
// byte 0; CB bases and transfers inside the runtime are offsets from it.
class L1 {
public:
    L1() = default;
    L1(const L1&) = delete;
    L1& operator=(const L1&) = delete;
    ~L1();
    void assign(std::size_t bytes, uint8_t fill);
    uint8_t* data() const { return bytes_; }
    std::size_t size() const { return size_; }
    uint32_t base() const { return static_cast<uint32_t>(reinterpret_cast<uintptr_t>(bytes_)); }

private:
    uint8_t* bytes_ = nullptr;
    std::size_t size_ = 0;
};

struct Core {
    CoreCoord xy;
    L1 l1;
    std::vector<Cb> cbs;
    uint32_t l1_next = 0;                  // the next free L1 byte for a CB
    uint32_t semaphores = 0;               // semaphores 0..n-1 created on this core
    uint32_t semaphore_base = 0;           // the L1 offset of semaphore 0
    std::mutex m;                          // guards the CBs, the DST handshake and the kernels' status
    std::condition_variable cv;
};

struct Transfer {
    uint64_t noc_addr;
    uint32_t l1_addr;
    uint32_t size;
    uint32_t trid = 0;      // a read's transaction id (noc_async_read_set_trid)
};

// The DST of a compute kernel: `sections` (2 in half-sync, 1 in full-sync) of `capacity` tiles,
// and the handshake of docs/reference.md §4.3 / §5.3 on them.
struct Dst {
    uint32_t capacity = 0, sections = 2;
    std::vector<float> regs;
    uint32_t math_section = 0, pack_section = 0, committed = 0;
    bool acquired = false, waiting = false, started = false;
    bool matmul_transpose = false;
    tt::DataFormat srca = tt::DataFormat::Invalid, srcb = tt::DataFormat::Invalid,   // configured formats
                   pack = tt::DataFormat::Invalid;         // the transpose flag of the last mm_init: B^T in matmul_tiles
    std::string fpu;                       // the init that last configured the unpacker and math for an FPU op
};

enum class Status { running, blocked, done };

// What a blocked kernel waits for, for the deadlock report.
struct Blocked {
    std::string call;                      // "cb_wait_front"
    int cb = -1;
    uint32_t pages = 0;
};

struct Run;
struct KernelThread {
    Run* run = nullptr;
    Core* core = nullptr;
    const KernelSpec* spec = nullptr;
    std::vector<uint32_t> args;
    std::vector<Transfer> reads, writes;   // issued, landing at the barrier
    uint32_t read_trid = 0;                // the id the next reads carry
    std::unique_ptr<Dst> dst;              // compute kernels only
    Status status = Status::running;       // guarded by core->m
    Blocked blocked;
    std::thread thread;
};

struct Run {
    Device* device = nullptr;
    std::vector<KernelSpec> kernels;
    std::map<std::pair<std::size_t, std::size_t>, std::unique_ptr<Core>> cores;
    std::vector<std::unique_ptr<KernelThread>> threads;
    std::atomic<uint64_t> progress{0};
    std::atomic<int> live{0}, blocked{0};
    std::atomic<bool> stopping{false};
    std::thread watchdog;
};

struct QueueState {
    std::shared_ptr<Device> device;
    std::unique_ptr<Run> running;
};

// ----- shared helpers -----
KernelThread& current();                                   // the kernel of the calling thread
void set_current(KernelThread* k);
[[noreturn]] void fail(const std::string& message);        // report a broken rule and exit
std::string core_name(const CoreCoord& c);                 // "(1,0)"
std::string kernel_name(const KernelThread& k);            // "reader on core (1,0)"
std::vector<CoreCoord> cores_of(const std::variant<CoreCoord, CoreRange, CoreRangeSet>& spec);
uint8_t* memory_at(const KernelThread& k, uint64_t noc_addr, uint32_t size);   // a NoC address's bytes
void launch(QueueState& queue, std::vector<const ProgramState*> programs);    // launch.cpp
void finish(QueueState& queue);
void start_watchdog(Run& run);                              // watchdog.cpp
void stop_watchdog(Run& run);
void made_progress(KernelThread& k);                        // count it and wake the core's kernels
void place_semaphores(Run& run, const ProgramState& p);
Core& core_at(Run& run, const CoreCoord& xy);               // launch.cpp: a core of the run, made on first use     // semaphores.cpp: their initial values
void land(const KernelThread& k, std::vector<Transfer>& transfers, bool reads);   // noc.cpp
uint64_t noc_xy_addr(uint64_t x, uint64_t y, uint64_t addr);                      // noc.cpp
uint8_t* cb_slot(KernelThread& k, uint32_t cb, uint32_t slot, bool back, const char* call);  // circular_buffers.cpp
const Cb& cb_config(KernelThread& k, uint32_t cb, const char* call);
uint32_t next_pack_slot(KernelThread& k, uint32_t cb);
using Tile = std::array<float, TILE_ELEMENTS>;            // row-major 32x32 float32
Tile unpack(KernelThread& k, uint32_t cb, uint32_t slot, const char* call, char src);  // via srcA or srcB
// the engine's data formats (docs/reference.md §4.4): which = 'A' (srcA), 'B' (srcB) or 'P' (the packer)
void configure_format(KernelThread& k, char which, uint32_t cb);
void unknown_format(KernelThread& k, char which);
void check_format(KernelThread& k, char which, uint32_t cb, const char* call);     // tile_math.cpp: a waited CB slot
float* dst_tile(KernelThread& k, uint32_t index, bool math, const char* call);   // dst.cpp
void start_compute(KernelThread& k);                       // a full init ran
void after_full_init(const char* call);                    // inits.cpp: a short init needs the full one
void fpu_init(const std::string& init);                    // an init of an FPU op: after the full one, kept in Dst::fpu
void check_dst_idle(KernelThread& k);

// Block the calling kernel (holding its core's lock) until ready(); what it waits for is kept
// for the watchdog's report.
template <typename Ready>
void block_until(KernelThread& k, std::unique_lock<std::mutex>& lock, Blocked what, Ready ready) {
    if (ready()) {
        return;
    }
    k.blocked = std::move(what);
    k.status = Status::blocked;
    k.run->blocked++;
    k.core->cv.wait(lock, ready);
    k.run->blocked--;
    k.status = Status::running;
}

// The runtime's door into the host classes' private state (each class names it a friend).
struct Access {
    static ProgramState& program(const tt::tt_metal::Program& p) { return *p.state_; }
    static CbSpec cb_spec(const tt::tt_metal::CircularBufferConfig& c) {
        return CbSpec{{}, c.total_size_, c.formats_, c.page_sizes_};
    }
    static std::shared_ptr<QueueState>& queue(tt::tt_metal::distributed::MeshCommandQueue& q) { return q.state_; }
    static std::vector<tt::tt_metal::Program>& programs(tt::tt_metal::distributed::MeshWorkload& w) {
        return w.programs_;
    }
    static tt::tt_metal::distributed::MeshDevice* new_device() { return new tt::tt_metal::distributed::MeshDevice(); }
    static std::shared_ptr<Device>& device(tt::tt_metal::distributed::MeshDevice& d) { return d.device_; }
    static tt::tt_metal::distributed::MeshCommandQueue& queue_of(tt::tt_metal::distributed::MeshDevice& d) {
        return d.queue_;
    }
    static tt::tt_metal::distributed::MeshBuffer* new_buffer() { return new tt::tt_metal::distributed::MeshBuffer(); }
    static std::shared_ptr<Device>& device(tt::tt_metal::distributed::MeshBuffer& b) { return b.device_; }
    static tt::tt_metal::DeviceAddr& address(tt::tt_metal::distributed::MeshBuffer& b) { return b.address_; }
    static tt::tt_metal::DeviceAddr& size(tt::tt_metal::distributed::MeshBuffer& b) { return b.size_; }
    static tt::tt_metal::DeviceAddr& page_size(tt::tt_metal::distributed::MeshBuffer& b) { return b.page_size_; }
};
}  // namespace nanott_cpu
