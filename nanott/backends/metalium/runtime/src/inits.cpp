// inits.cpp: the compute kernel's init calls (docs/reference.md §4.4) on nanott's CPU device.
//
// On silicon an init programs the unpacker, math engine and packer for the op that follows. Here
// every op computes in float32 from the CB's own format, so an init configures only what the
// numbers or a format check need: the transpose flag of a matmul init (matmul_tiles then
// multiplies by B^T) and the data formats of srcA, srcB and the packer (docs/reference.md §4.4). The
// full inits and the reconfig calls set formats; the short inits do not, as on the device, so an
// op that unpacks a CB of another format than its source register's, or a pack into a CB of
// another format than the packer's, fails naming both formats and the call that would fix it.
// Kept too is the order of docs/reference.md §5.3 rule 6: a full init (compute_kernel_hw_startup,
// binary_op_init_common, mm_init, init_sfpu / unary_op_init_common) comes first. Every FPU init
// (full or short) names itself in Dst::fpu, so an op whose unpacker configuration differs from
// any other's (unary_bcast: the source broadcast) can check that its own init ran; checking that
// every op has its matching short init is nanott's simulator's job (languages/l9_interp.py).
#define TRISC_UNPACK
#define TRISC_MATH
#define TRISC_PACK
#include "compute_kernel_api.h"
#include "compute_kernel_api/binary_max_min.h"
#include "compute_kernel_api/compute_kernel_hw_startup.h"
#include "compute_kernel_api/eltwise_binary.h"
#include "compute_kernel_api/eltwise_binary_sfpu.h"
#include "compute_kernel_api/eltwise_unary/binop_with_scalar.h"
#include "compute_kernel_api/eltwise_unary/eltwise_unary.h"
#include "compute_kernel_api/eltwise_unary/exp.h"
#include "compute_kernel_api/eltwise_unary/fill.h"
#include "compute_kernel_api/eltwise_unary/negative.h"
#include "compute_kernel_api/eltwise_unary/relu.h"
#include "compute_kernel_api/eltwise_unary/comp.h"
#include "compute_kernel_api/eltwise_unary/where.h"
#include "compute_kernel_api/eltwise_unary/bitwise.h"
#include "compute_kernel_api/binary_bitwise_sfpu.h"
#include "compute_kernel_api/eltwise_unary/rsqrt.h"
#include "compute_kernel_api/eltwise_unary/sqrt.h"
#include "compute_kernel_api/matmul.h"
#include "compute_kernel_api/pack.h"
#include "compute_kernel_api/reconfig_data_format.h"
#include "compute_kernel_api/tile_move_copy.h"
#include "compute_kernel_api/transpose_wh.h"
#include "state.hpp"

void nanott_cpu::after_full_init(const char* call) {
    KernelThread& k = current();
    if (!k.dst || !k.dst->started) {
        fail(std::string(call) + " before the compute kernel's full init (compute_kernel_hw_startup, "
             "binary_op_init_common, mm_init or init_sfpu; docs/reference.md §5.3 rule 6)");
    }
}

void nanott_cpu::fpu_init(const std::string& init) {
    after_full_init(init.c_str());
    current().dst->fpu = init;
}

namespace {
const char* format_name(tt::DataFormat f) {
    switch (f) {
        case tt::DataFormat::Float16_b: return "Float16_b";
        case tt::DataFormat::Float16: return "Float16";
        case tt::DataFormat::Bfp8_b: return "Bfp8_b";
        case tt::DataFormat::Float32: return "Float32";
        case tt::DataFormat::Int32: return "Int32";
        case tt::DataFormat::Int8: return "Int8";
        case tt::DataFormat::UInt8: return "UInt8";
        case tt::DataFormat::UInt16: return "UInt16";
        case tt::DataFormat::UInt32: return "UInt32";
        case tt::DataFormat::Invalid: return "an unknown format";
        default: return "another format";
    }
}

tt::DataFormat& slot(nanott_cpu::KernelThread& k, char which) {
    auto& d = *k.dst;
    return which == 'A' ? d.srca : which == 'B' ? d.srcb : d.pack;
}
}  // namespace

void nanott_cpu::configure_format(KernelThread& k, char which, uint32_t cb) {
    slot(k, which) = cb_config(k, cb, "an init").format;
}

void nanott_cpu::unknown_format(KernelThread& k, char which) { slot(k, which) = tt::DataFormat::Invalid; }

void nanott_cpu::check_format(KernelThread& k, char which, uint32_t cb, const char* call) {
    const tt::DataFormat want = cb_config(k, cb, call).format, now = slot(k, which);
    if (want != now) {
        const std::string reg = which == 'A' ? "srcA" : which == 'B' ? "srcB" : "the packer";
        const std::string fix = which == 'A'   ? "reconfig_data_format_srca(" + std::to_string(cb) + ")"
                                : which == 'B' ? "reconfig_data_format_srcb(" + std::to_string(cb) + ")"
                                               : "pack_reconfig_data_format(" + std::to_string(cb) + ")";
        fail(std::string(call) + " on cb" + std::to_string(cb) + " (" + format_name(want) + ") while " + reg +
             " is configured for " + format_name(now) + ": " + fix + " before it would fix that (a short init "
             "does not reconfigure data formats; docs/reference.md §4.4)");
    }
}

namespace {
void formats(uint32_t a, uint32_t b, uint32_t out) {
    auto& k = nanott_cpu::current();
    nanott_cpu::configure_format(k, 'A', a);
    nanott_cpu::configure_format(k, 'B', b);
    nanott_cpu::configure_format(k, 'P', out);
}

void full_init(const char* call) {
    nanott_cpu::start_compute(nanott_cpu::current());
    nanott_cpu::fpu_init(call);
}
void short_init(const char* call) { nanott_cpu::after_full_init(call); }
void fpu_init(const char* call) { nanott_cpu::fpu_init(call); }

void matmul_transpose(uint32_t transpose) { nanott_cpu::current().dst->matmul_transpose = transpose != 0; }

void not_modelled(uint32_t flag, const char* call) {
    if (flag != 0) {
        nanott_cpu::unsupported(call);
    }
}
}  // namespace

namespace ckernel {
// the full inits configure all three formats; matmul unpacks in1 into srcA and in0 into srcB
void compute_kernel_hw_startup(uint32_t a, uint32_t b, uint32_t out) {
    full_init("compute_kernel_hw_startup"), formats(a, b, out);
}
void compute_kernel_hw_startup(uint32_t a, uint32_t out) {
    full_init("compute_kernel_hw_startup"), formats(a, a, out);
}
void binary_op_init_common(uint32_t a, uint32_t b, uint32_t out) {
    full_init("binary_op_init_common"), formats(a, b, out);
}
void unary_op_init_common(uint32_t a, uint32_t out) {
    full_init("unary_op_init_common"), formats(a, a, out);
}
void init_sfpu(uint32_t a, uint32_t out) {
    full_init("init_sfpu"), formats(a, a, out);
}

void transpose_wh_init(uint32_t a, uint32_t out) {
    full_init("transpose_wh_init"), formats(a, a, out);
}
void transpose_wh_init_short(uint32_t) { fpu_init("transpose_wh_init_short"); }

// The transpose flag of a matmul init: matmul_tiles then multiplies by B^T.
void mm_init(uint32_t in0, uint32_t in1, uint32_t out, const uint32_t transpose) {
    full_init("mm_init"), formats(in1, in0, out);
    matmul_transpose(transpose);
}

void mm_init_short(uint32_t, uint32_t, const uint32_t transpose) {
    fpu_init("mm_init_short");
    matmul_transpose(transpose);
}

// The block's dimensions configure the unpacker's and the math engine's loops on the device; here
// matmul_block takes them itself. A transposed block is not modelled (matmul_block refuses it).
void mm_block_init_short(uint32_t, uint32_t, const uint32_t transpose, uint32_t, uint32_t, uint32_t) {
    fpu_init("mm_block_init_short");
    matmul_transpose(transpose);
}

void mm_init_short_with_dt(uint32_t, uint32_t in1, uint32_t, const uint32_t transpose) {
    fpu_init("mm_init_short_with_dt");
    nanott_cpu::configure_format(nanott_cpu::current(), 'A', in1);
    matmul_transpose(transpose);
}

void add_tiles_init(uint32_t, uint32_t, bool acc_to_dest) {
    not_modelled(acc_to_dest, "add_tiles_init with acc_to_dest");
    fpu_init("add_tiles_init");
}

void sub_tiles_init(uint32_t, uint32_t, bool acc_to_dest) {
    not_modelled(acc_to_dest, "sub_tiles_init with acc_to_dest");
    fpu_init("sub_tiles_init");
}

void mul_tiles_init(uint32_t, uint32_t) { fpu_init("mul_tiles_init"); }

void copy_tile_to_dst_init_short(uint32_t, uint32_t transpose, uint32_t transpose_within_16x16_face) {
    not_modelled(transpose | transpose_within_16x16_face, "copy_tile_to_dst_init_short with transpose");
    fpu_init("copy_tile_to_dst_init_short");
}

void copy_tile_init(uint32_t) { fpu_init("copy_tile_init"); }

void copy_tile_to_dst_init_short_with_dt(uint32_t, uint32_t new_cb, uint32_t transpose) {
    not_modelled(transpose, "copy_tile_to_dst_init_short_with_dt with transpose");
    fpu_init("copy_tile_to_dst_init_short_with_dt");
    nanott_cpu::configure_format(nanott_cpu::current(), 'A', new_cb);
}

void add_binary_tile_init() { short_init("add_binary_tile_init"); }
void sub_binary_tile_init() { short_init("sub_binary_tile_init"); }
void mul_binary_tile_init() { short_init("mul_binary_tile_init"); }
void div_binary_tile_init() { short_init("div_binary_tile_init"); }
void rsub_binary_tile_init() { short_init("rsub_binary_tile_init"); }
void binary_max_tile_init() { short_init("binary_max_tile_init"); }
void binary_min_tile_init() { short_init("binary_min_tile_init"); }
void binop_with_scalar_tile_init() { short_init("binop_with_scalar_tile_init"); }

template <bool approx, bool fast_and_approx>
void exp_tile_init() {
    short_init("exp_tile_init");
}
template void exp_tile_init<false, true>();
void exp2_tile_init() { short_init("exp2_tile_init"); }
void log_tile_init() { short_init("log_tile_init"); }
void sqrt_tile_init() { short_init("sqrt_tile_init"); }
void rsqrt_tile_init() { short_init("rsqrt_tile_init"); }
void abs_tile_init() { short_init("abs_tile_init"); }
void sigmoid_tile_init() { short_init("sigmoid_tile_init"); }
void tanh_tile_init() { short_init("tanh_tile_init"); }
void relu_tile_init() { short_init("relu_tile_init"); }
void negative_tile_init() { short_init("negative_tile_init"); }
void fill_tile_init() { short_init("fill_tile_init"); }
void eqz_tile_init() { short_init("eqz_tile_init"); }
void nez_tile_init() { short_init("nez_tile_init"); }
void ltz_tile_init() { short_init("ltz_tile_init"); }
void lez_tile_init() { short_init("lez_tile_init"); }
void gtz_tile_init() { short_init("gtz_tile_init"); }
void gez_tile_init() { short_init("gez_tile_init"); }
void where_tile_init() { short_init("where_tile_init"); }
void bitwise_and_tile_init() { short_init("bitwise_and_tile_init"); }
void bitwise_or_tile_init() { short_init("bitwise_or_tile_init"); }
void bitwise_xor_tile_init() { short_init("bitwise_xor_tile_init"); }
void left_shift_tile_init() { short_init("left_shift_tile_init"); }
void right_shift_tile_init() { short_init("right_shift_tile_init"); }
void binary_bitwise_tile_init() { short_init("binary_bitwise_tile_init"); }
void binary_shift_tile_init() { short_init("binary_shift_tile_init"); }
void reconfig_data_format(const uint32_t a, const uint32_t b) {
    short_init("reconfig_data_format");
    nanott_cpu::configure_format(nanott_cpu::current(), 'A', a);
    nanott_cpu::configure_format(nanott_cpu::current(), 'B', b);
}
void reconfig_data_format_srca(const uint32_t a) {
    short_init("reconfig_data_format_srca");
    nanott_cpu::configure_format(nanott_cpu::current(), 'A', a);
}
void reconfig_data_format_srcb(const uint32_t b) {
    short_init("reconfig_data_format_srcb");
    nanott_cpu::configure_format(nanott_cpu::current(), 'B', b);
}

template <bool is_tile_dim_reconfig_en>
void pack_reconfig_data_format(const uint32_t out) {
    short_init("pack_reconfig_data_format");
    nanott_cpu::configure_format(nanott_cpu::current(), 'P', out);
}
template <bool is_tile_dim_reconfig_en>
void pack_reconfig_data_format(const uint32_t, const uint32_t out) {
    short_init("pack_reconfig_data_format");
    nanott_cpu::configure_format(nanott_cpu::current(), 'P', out);
}
template void pack_reconfig_data_format<false>(const uint32_t);
template void pack_reconfig_data_format<true>(const uint32_t);
template void pack_reconfig_data_format<false>(const uint32_t, const uint32_t);
template void pack_reconfig_data_format<true>(const uint32_t, const uint32_t);
}  // namespace ckernel
