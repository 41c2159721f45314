// device.cpp: the machine nanott's CPU runtime plays (its numbers, from NANOTT_CPU_DEVICE), the
// kernel each thread runs, and how a broken rule is reported: a message naming the kernel (role
// and core) and the rule of docs/reference.md, then the process ends with exit code 4; and DPRINT's
// lines, each prefixed with the core and kernel that printed it.
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include "state.hpp"

namespace nanott_cpu {
namespace {
thread_local KernelThread* running_kernel = nullptr;
std::mutex report_lock;
}  // namespace

void set_current(KernelThread* k) { running_kernel = k; }

KernelThread& current() {
    if (running_kernel == nullptr) {
        fail("a kernel API call outside a kernel");
    }
    return *running_kernel;
}

std::string core_name(const CoreCoord& c) {
    return "(" + std::to_string(c.x) + "," + std::to_string(c.y) + ")";
}

std::string kernel_name(const KernelThread& k) {
    return k.spec->name + " on core " + core_name(k.core->xy);
}

void fail(const std::string& message) {
    std::lock_guard<std::mutex> hold(report_lock);
    const std::string who = running_kernel != nullptr ? kernel_name(*running_kernel) : "host";
    std::fprintf(stderr, "nanott-cpu: error: %s: %s\n", who.c_str(), message.c_str());
    std::fflush(stderr);
    std::_Exit(4);
}

void dprint_line(const std::string& text) {
    std::lock_guard<std::mutex> hold(report_lock);
    const KernelThread& k = current();
    std::printf("[C++ core %s %s] %s\n", core_name(k.core->xy).c_str(), k.spec->name.c_str(), text.c_str());
    std::fflush(stdout);
}

void unsupported(const char* what) {
    fail(std::string("nanott's CPU runtime does not implement ") + what);
}

Arch arch_from_environment() {
    Arch a;
    const char* text = std::getenv("NANOTT_CPU_DEVICE");
    if (text == nullptr) {
        return a;
    }
    std::stringstream items(text);
    std::string item;
    while (std::getline(items, item, ',')) {
        const auto eq = item.find('=');
        const std::string key = item.substr(0, eq);
        const std::string value = eq == std::string::npos ? "" : item.substr(eq + 1);
        const auto number = [&] { return static_cast<uint32_t>(std::stoul(value)); };
        if (key == "name") {
            a.name = value;
        } else if (key == "grid") {
            a.grid_x = static_cast<uint32_t>(std::stoul(value.substr(0, value.find('x'))));
            a.grid_y = static_cast<uint32_t>(std::stoul(value.substr(value.find('x') + 1)));
        } else if (key == "l1") {
            a.l1_bytes = number();
        } else if (key == "l1_free") {
            a.l1_free = number();
        } else if (key == "cbs") {
            a.num_cbs = number();
        } else if (key == "dram_banks") {
            a.dram_banks = number();
        } else if (key == "dram_alignment") {
            a.dram_alignment = number();
        } else if (key == "dst16") {
            a.dst_tiles_16bit = number();
        } else if (key == "dst32") {
            a.dst_tiles_32bit = number();
        } else {
            fail("NANOTT_CPU_DEVICE: unknown key '" + key + "'");
        }
    }
    return a;
}

uint32_t dram_banks() { return current().run->device->arch.dram_banks; }
uint32_t dram_alignment() { return current().run->device->arch.dram_alignment; }

uint32_t runtime_arg(int index) {
    const KernelThread& k = current();
    if (index < 0 || static_cast<std::size_t>(index) >= k.args.size()) {
        fail("get_arg_val(" + std::to_string(index) + "): the host set " + std::to_string(k.args.size()) +
             " runtime arguments for this kernel on this core (SetRuntimeArgs)");
    }
    return k.args[index];
}

uint32_t common_runtime_arg(int index) {
    const KernelThread& k = current();
    if (index < 0 || static_cast<std::size_t>(index) >= k.spec->common_args.size()) {
        fail("get_common_arg_val(" + std::to_string(index) + "): the host set " +
             std::to_string(k.spec->common_args.size()) + " common runtime arguments (SetCommonRuntimeArgs)");
    }
    return k.spec->common_args[index];
}

uint32_t runtime_arg_addr(int) { unsupported("get_arg_addr (runtime arguments do not live in L1 here)"); }
}  // namespace nanott_cpu

uint32_t get_arg_addr(int arg_idx) { return nanott_cpu::runtime_arg_addr(arg_idx); }
