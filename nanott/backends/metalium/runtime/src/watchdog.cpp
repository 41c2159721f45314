// watchdog.cpp: deadlock detection on nanott's CPU device (docs/reference.md §5.5).
//
// On silicon a deadlock is silent: Finish never returns. Here a watchdog thread looks every few
// milliseconds: when every unfinished kernel is blocked (in cb_reserve_back, cb_wait_front,
// tile_regs_acquire or tile_regs_wait) and none has made progress for NANOTT_CPU_DEADLOCK_MS
// (default 500) milliseconds, nothing can unblock them, so it prints the wait-for state (each
// blocked kernel: core, role, call, CB and its counts, and what the kernel that could unblock it
// is doing) and ends the process with exit code 3.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include "state.hpp"

namespace nanott_cpu {
namespace {
int deadlock_ms() {
    const char* text = std::getenv("NANOTT_CPU_DEADLOCK_MS");
    return text != nullptr ? std::max(1, std::atoi(text)) : 500;
}

// What the kernel that could unblock k is doing: the CB's other side on the same core.
std::string partner(const Run& run, const KernelThread& k, const Cb& cb, bool needs_producer) {
    const std::string& role = needs_producer ? cb.producer : cb.consumer;
    const char* side = needs_producer ? "producer" : "consumer";
    if (role.empty()) {
        return std::string("; its ") + side + " has not touched it yet";
    }
    if (role == k.spec->name) {
        return std::string("; this kernel is its ") + side + " too, so nothing else can unblock it";
    }
    for (const auto& other : run.threads) {
        if (other->core == k.core && other->spec->name == role) {
            const std::string state = other->status == Status::done ? "has finished"
                                      : other->status == Status::blocked ? "is blocked too, in " + other->blocked.call
                                                                         : "is running";
            return "; its " + std::string(side) + ", the " + role + ", " + state;
        }
    }
    return "; its " + std::string(side) + ", the " + role + ", does not run on this core";
}

// One blocked kernel, without its core (the report groups cores with the same line).
std::string blocked_line(const Run& run, const KernelThread& k) {
    const Blocked& b = k.blocked;
    if (b.call == "noc_semaphore_wait") {
        const uint32_t id = static_cast<uint32_t>(-2 - b.cb);
        const uint32_t now = *reinterpret_cast<const uint32_t*>(k.core->l1.data() + k.core->semaphore_base +
                                                                id * SEMAPHORE_BYTES);
        return k.spec->name + " waits in noc_semaphore_wait(semaphore " + std::to_string(id) + ", " +
               std::to_string(b.pages) + "): it is " + std::to_string(now) + "; only another core's "
               "noc_semaphore_inc or noc_semaphore_set_multicast (or this core's noc_semaphore_set) can raise it";
    }
    if (b.cb < 0) {
        const bool acquire = b.call == "tile_regs_acquire";
        return k.spec->name + " waits in " + b.call + "(): " +
               (acquire ? "every DST section is committed and not released; tile_regs_release would free one"
                        : "no DST section is committed; tile_regs_commit would hand one over") +
               ", and this kernel is the only one that could";
    }
    const Cb& cb = k.core->cbs[b.cb];
    const bool front = b.call == "cb_wait_front";
    const std::string counts = front ? std::to_string(cb.visible()) + " of the " + std::to_string(b.pages) +
                                           " pages it needs visible"
                                     : std::to_string(cb.free()) + " of the " + std::to_string(b.pages) +
                                           " pages it needs free";
    return k.spec->name + " waits in " + b.call + "(cb " + std::to_string(b.cb) + ", " + std::to_string(b.pages) +
           "): cb " + std::to_string(b.cb) + " has " + counts + partner(run, k, cb, front);
}

[[noreturn]] void report(Run& run, int ms) {
    std::vector<std::pair<std::string, std::vector<CoreCoord>>> groups;
    for (const auto& k : run.threads) {
        std::lock_guard<std::mutex> lock(k->core->m);
        if (k->status != Status::blocked) {
            continue;
        }
        const std::string line = blocked_line(run, *k);
        auto same = std::find_if(groups.begin(), groups.end(), [&](const auto& g) { return g.first == line; });
        if (same == groups.end()) {
            groups.push_back({line, {k->core->xy}});
        } else {
            same->second.push_back(k->core->xy);
        }
    }
    std::string text = "nanott-cpu: deadlock: every unfinished kernel is blocked, and none has made progress for " +
                       std::to_string(ms) + " ms\n";
    for (const auto& [line, cores] : groups) {
        const std::string where = cores.size() == 1 ? "core " + core_name(cores.front())
                                                    : "cores " + core_name(cores.front()) + ".." +
                                                          core_name(cores.back()) + " (" +
                                                          std::to_string(cores.size()) + " cores)";
        text += "  on " + where + ": " + line + "\n";
    }
    std::fputs(text.c_str(), stderr);
    std::fflush(stderr);
    std::_Exit(3);
}

void watch(Run* run) {
    const int limit = deadlock_ms();
    const auto tick = std::chrono::milliseconds(std::min(limit, 10));
    uint64_t last = run->progress;
    auto still_since = std::chrono::steady_clock::now();
    while (!run->stopping) {
        std::this_thread::sleep_for(tick);
        const uint64_t now = run->progress;
        const bool stuck = run->live > 0 && run->blocked == run->live && now == last;
        if (!stuck) {
            last = now;
            still_since = std::chrono::steady_clock::now();
        } else if (std::chrono::steady_clock::now() - still_since >= std::chrono::milliseconds(limit)) {
            report(*run, limit);
        }
    }
}
}  // namespace

void start_watchdog(Run& run) { run.watchdog = std::thread(watch, &run); }

void stop_watchdog(Run& run) {
    run.stopping = true;
    run.watchdog.join();
}
}  // namespace nanott_cpu
