// bcast_reduce.cpp: the compute kernel's broadcasts and reductions (docs/reference.md §4.6) on nanott's
// CPU device, with the semantics of nanott's model (languages/l5_interp.py spread, reduce_tile):
//   {add,sub,mul}_tiles_bcast_{rows,cols,scalar}   DST[i] = A op B spread: B's row 0 down every row
//                                                  (rows), its column 0 across every column (cols),
//                                                  or B[0][0] everywhere (scalar)
//   unary_bcast<ROW|COL>                           DST[i] = one CB tile's row 0 (column 0) spread
//   reduce_tile<op, REDUCE_ROW|REDUCE_COL>         each row (column) of a CB tile reduced, times the
//                                                  scaler tile's [0][0], combined into column 0
//                                                  (row 0) of DST[i]; the rest of DST[i] is kept
#define TRISC_UNPACK
#define TRISC_MATH
#define TRISC_PACK
#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include "compute_kernel_api/bcast.h"
#define REDUCE_OP PoolType::SUM           // reduce.h's template defaults: the runtime names its own
#define REDUCE_DIM ReduceDim::REDUCE_ROW   // arguments, a kernel gets them from ComputeConfig.defines
#include "compute_kernel_api/reduce.h"
#include "state.hpp"

namespace nanott_cpu {
namespace {
enum class Spread { rows, cols, scalar };

Tile spread(const Tile& t, Spread how) {
    Tile out;
    for (uint32_t i = 0; i < TILE; ++i) {
        for (uint32_t j = 0; j < TILE; ++j) {
            out[i * TILE + j] = how == Spread::rows ? t[j] : how == Spread::cols ? t[i * TILE] : t[0];
        }
    }
    return out;
}

template <typename Op>
void bcast_binary(uint32_t a_cb, uint32_t b_cb, uint32_t a_index, uint32_t b_index, uint32_t idst, Spread how,
                  const char* call, Op op) {
    KernelThread& k = current();
    const Tile a = unpack(k, a_cb, a_index, call, 'A'), b = spread(unpack(k, b_cb, b_index, call, 'B'), how);
    float* d = dst_tile(k, idst, true, call);
    for (uint32_t e = 0; e < TILE_ELEMENTS; ++e) {
        d[e] = op(a[e], b[e]);
    }
}

// NumPy's maximum and minimum: NaN wins.
float combine(char op, float a, float b) {
    if (op == '+') {
        return a + b;
    }
    if (std::isnan(a) || std::isnan(b)) {
        return NAN;
    }
    return op == '>' ? std::max(a, b) : std::min(a, b);
}

const auto ADD = [](float a, float b) { return a + b; };
const auto SUB = [](float a, float b) { return a - b; };
const auto MUL = [](float a, float b) { return a * b; };
}  // namespace

namespace {
std::string bcast_init(uint32_t icb, bool row) {
    return std::string("unary_bcast_init<BroadcastType::") + (row ? "ROW" : "COL") + ">(" + std::to_string(icb) + ")";
}
}  // namespace

// it configures the unpacker for its input CB, broadcasting its row 0 or column 0 (the unpacker's
// source broadcast), and (in 0.66) the packer for its output CB
void unary_bcast_init(uint32_t icb, uint32_t ocb, bool row) {
    fpu_init(bcast_init(icb, row));
    configure_format(current(), 'A', icb);
    configure_format(current(), 'B', icb);
    configure_format(current(), 'P', ocb);
}

// Without its init the unpacker is set up for another op (a copy unpacks the tile as it is): the
// broadcast would not happen on the device, so it is an error here, naming both inits.
void unary_bcast(uint32_t icb, uint32_t in_tile_index, uint32_t dst_tile_index, bool row) {
    KernelThread& k = current();
    const std::string want = bcast_init(icb, row), now = k.dst ? k.dst->fpu : "";
    if (now != want) {
        fail(std::string("unary_bcast<") + (row ? "ROW" : "COL") + "> on cb" + std::to_string(icb) +
             " while the unpacker and math are configured by " + (now.empty() ? "no init" : now) + ": " + want +
             " before it would fix that (each FPU op needs its own init; docs/reference.md §4.4)");
    }
    const Tile t = spread(unpack(k, icb, in_tile_index, "unary_bcast", 'A'), row ? Spread::rows : Spread::cols);
    std::memcpy(dst_tile(k, dst_tile_index, true, "unary_bcast"), t.data(), sizeof t);
}

void reduce_init(uint32_t, uint32_t, uint32_t) { fpu_init("reduce_init"); }

void reduce_tile(char op, bool row, uint32_t icb, uint32_t icb_scaler, uint32_t itile, uint32_t itile_scaler,
                 uint32_t idst) {
    KernelThread& k = current();
    const Tile src = unpack(k, icb, itile, "reduce_tile", 'A');
    const float scaler = unpack(k, icb_scaler, itile_scaler, "reduce_tile", 'B')[0];
    float* d = dst_tile(k, idst, true, "reduce_tile");
    for (uint32_t line = 0; line < TILE; ++line) {
        float r = src[row ? line * TILE : line];
        for (uint32_t i = 1; i < TILE; ++i) {
            r = combine(op, r, src[row ? line * TILE + i : i * TILE + line]);
        }
        float& acc = d[row ? line * TILE : line];
        acc = combine(op, acc, r * scaler);
    }
}
}  // namespace nanott_cpu

namespace ckernel {
using nanott_cpu::bcast_binary;
using nanott_cpu::Spread;

#define NANOTT_BCAST(op, how, OP)                                                                             \
    void op##_tiles_bcast_##how(uint32_t icb0, uint32_t icb1, uint32_t itile0, uint32_t itile1, uint32_t idst) { \
        bcast_binary(icb0, icb1, itile0, itile1, idst, Spread::how, #op "_tiles_bcast_" #how, nanott_cpu::OP);     \
    }
NANOTT_BCAST(add, rows, ADD)
NANOTT_BCAST(add, cols, ADD)
NANOTT_BCAST(add, scalar, ADD)
NANOTT_BCAST(sub, rows, SUB)
NANOTT_BCAST(sub, cols, SUB)
NANOTT_BCAST(sub, scalar, SUB)
NANOTT_BCAST(mul, rows, MUL)
NANOTT_BCAST(mul, cols, MUL)
NANOTT_BCAST(mul, scalar, MUL)

void add_bcast_rows_init_short(uint32_t, uint32_t) { nanott_cpu::fpu_init("add_bcast_rows_init_short"); }
void add_bcast_cols_init_short(uint32_t, uint32_t) { nanott_cpu::fpu_init("add_bcast_cols_init_short"); }
void add_bcast_scalar_init_short(uint32_t, uint32_t) { nanott_cpu::fpu_init("add_bcast_scalar_init_short"); }
void sub_bcast_rows_init_short(uint32_t, uint32_t) { nanott_cpu::fpu_init("sub_bcast_rows_init_short"); }
void sub_bcast_cols_init_short(uint32_t, uint32_t) { nanott_cpu::fpu_init("sub_bcast_cols_init_short"); }
void sub_tiles_bcast_scalar_init_short(uint32_t, uint32_t) {
    nanott_cpu::fpu_init("sub_tiles_bcast_scalar_init_short");
}
void mul_bcast_rows_init_short(uint32_t, uint32_t) { nanott_cpu::fpu_init("mul_bcast_rows_init_short"); }
void mul_bcast_cols_init_short(uint32_t, uint32_t) { nanott_cpu::fpu_init("mul_bcast_cols_init_short"); }
void mul_tiles_bcast_scalar_init_short(uint32_t, uint32_t) {
    nanott_cpu::fpu_init("mul_tiles_bcast_scalar_init_short");
}
void reduce_uninit() { nanott_cpu::after_full_init("reduce_uninit"); }
}  // namespace ckernel
