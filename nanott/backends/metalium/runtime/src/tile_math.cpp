// tile_math.cpp: the compute kernel's unpack, FPU and pack operations (docs/reference.md §4.5, §4.6,
// §7) on nanott's CPU device, with the numerics of nanott's model (languages/l9_interp.py):
//   unpack   a CB page (32x32, four 16x16 faces, docs/reference.md §7.1) -> a float32 tile in row-major order
//            (and DPRINT's TSLICE: some of its values)
//   FPU      copy_tile, transpose_wh_tile, add/sub/mul_tiles overwrite DST[i]; matmul_tiles adds
//            A @ B to it (A @ B^T after an mm_init with transpose), in float32
//   pack     DST[i] -> a reserved CB slot in the CB's format; bfloat16 rounds to nearest even, Bfp8_b
//            shares an exponent per 16 values of a face row (numerics.hpp)
// The SFPU operations are in sfpu.cpp. Math fidelity and 16-bit DST rounding are not modelled
// (neither is in nanott's model).
#define TRISC_UNPACK
#define TRISC_MATH
#define TRISC_PACK
#include <array>
#include <cstring>
#include "compute_kernel_api/eltwise_binary.h"
#include "compute_kernel_api/matmul.h"
#include "compute_kernel_api/pack.h"
#include "compute_kernel_api/tile_move_copy.h"
#include "compute_kernel_api/transpose_wh.h"
#include "api/debug/dprint.h"
#include "numerics.hpp"
#include "state.hpp"

namespace nanott_cpu {
namespace {

// FACE[e]: where element e = 32 * row + col of a tile sits in its page (docs/reference.md §7.1).
const std::array<uint16_t, TILE_ELEMENTS> FACE = [] {
    std::array<uint16_t, TILE_ELEMENTS> at{};
    for (uint32_t i = 0; i < TILE; ++i) {
        for (uint32_t j = 0; j < TILE; ++j) {
            at[i * TILE + j] = static_cast<uint16_t>(((i / 16) * 2 + j / 16) * 256 + (i % 16) * 16 + j % 16);
        }
    }
    return at;
}();

constexpr uint32_t BFP8_EXPONENTS = 64;      // a Bfp8_b page: 64 shared exponents, then 1024 values

template <typename T>
T load(const uint8_t* page, uint32_t element) {
    T v;
    std::memcpy(&v, page + element * sizeof(T), sizeof(T));
    return v;
}

template <typename T>
void store(uint8_t* page, uint32_t element, T v) {
    std::memcpy(page + element * sizeof(T), &v, sizeof(T));
}

}  // namespace

namespace {
// One datum of a CB page in the CB's data format, as a float; `at` is its place in the page.
float element(tt::DataFormat format, const uint8_t* page, uint32_t at) {
    switch (format) {
        case tt::DataFormat::Float16_b:
            return from_bfloat16_bits(load<uint16_t>(page, at));
        case tt::DataFormat::Float16:
            return from_float16_bits(load<uint16_t>(page, at));
        case tt::DataFormat::Float32:
            return load<float>(page, at);
        case tt::DataFormat::Int32:
            return static_cast<float>(load<int32_t>(page, at));
        case tt::DataFormat::Int8:
            return static_cast<float>(load<int8_t>(page, at));
        case tt::DataFormat::UInt8:
            return static_cast<float>(load<uint8_t>(page, at));
        case tt::DataFormat::Bfp8_b:          // 64 exponents (one per face row), then the values
            return from_bfp8_b(page[at / 16], page[BFP8_EXPONENTS + at]);
        default:
            unsupported("this CB data format in compute (Float16_b, Float16, Float32, Int32, Int8, UInt8 and "
                        "Bfp8_b are)");
    }
}
}  // namespace

// DPRINT's TSLICE (api/debug/dprint.h): the slice of a tile of the CB's waited front
std::vector<float> tile_slice(uint32_t cb, int tile, uint8_t h0, uint8_t h1, uint8_t hs, uint8_t w0, uint8_t w1,
                              uint8_t ws) {
    KernelThread& k = current();
    if (hs == 0 || ws == 0 || h1 > TILE || w1 > TILE || tile < 0) {
        unsupported("a TSLICE whose SliceRange leaves the 32x32 tile or steps by 0, or a negative tile index");
    }
    const uint8_t* page = cb_slot(k, cb, static_cast<uint32_t>(tile), false, "TSLICE");
    const tt::DataFormat format = cb_config(k, cb, "TSLICE").format;
    std::vector<float> out;
    for (uint32_t h = h0; h < h1; h += hs) {
        for (uint32_t w = w0; w < w1; w += ws) {
            out.push_back(element(format, page, FACE[h * TILE + w]));
        }
    }
    return out;
}

Tile unpack(KernelThread& k, uint32_t cb, uint32_t slot, const char* call, char src) {
    check_format(k, src, cb, call);
    const uint8_t* page = cb_slot(k, cb, slot, false, call);
    const tt::DataFormat format = cb_config(k, cb, call).format;
    Tile t;
    for (uint32_t e = 0; e < TILE_ELEMENTS; ++e) {
        t[e] = element(format, page, FACE[e]);
    }
    return t;
}

namespace {
void pack(KernelThread& k, const float* tile, uint32_t cb, uint32_t slot, const char* call) {
    check_format(k, 'P', cb, call);
    uint8_t* page = cb_slot(k, cb, slot, true, call);
    switch (cb_config(k, cb, call).format) {
        case tt::DataFormat::Float16_b:
            for (uint32_t e = 0; e < TILE_ELEMENTS; ++e) {
                store<uint16_t>(page, FACE[e], to_bfloat16_bits(tile[e]));
            }
            break;
        case tt::DataFormat::Float16:
            for (uint32_t e = 0; e < TILE_ELEMENTS; ++e) {
                store<uint16_t>(page, FACE[e], to_float16_bits(tile[e]));
            }
            break;
        case tt::DataFormat::Float32:
            for (uint32_t e = 0; e < TILE_ELEMENTS; ++e) {
                store<float>(page, FACE[e], tile[e]);
            }
            break;
        case tt::DataFormat::Int32:
            for (uint32_t e = 0; e < TILE_ELEMENTS; ++e) {
                store<int32_t>(page, FACE[e], to_int32(tile[e]));
            }
            break;
        case tt::DataFormat::Int8:
            for (uint32_t e = 0; e < TILE_ELEMENTS; ++e) {
                store<int8_t>(page, FACE[e], static_cast<int8_t>(to_int32(tile[e])));
            }
            break;
        case tt::DataFormat::UInt8:
            for (uint32_t e = 0; e < TILE_ELEMENTS; ++e) {
                store<uint8_t>(page, FACE[e], static_cast<uint8_t>(to_int32(tile[e])));
            }
            break;
        case tt::DataFormat::Bfp8_b: {
            std::array<float, TILE_ELEMENTS> faced{};
            for (uint32_t e = 0; e < TILE_ELEMENTS; ++e) {
                faced[FACE[e]] = tile[e];
            }
            for (uint32_t g = 0; g < BFP8_EXPONENTS; ++g) {
                page[g] = to_bfp8_b(&faced[g * 16], page + BFP8_EXPONENTS + g * 16);
            }
            break;
        }
        default:
            unsupported("this CB data format in compute (Float16_b, Float16, Float32, Int32, Int8, UInt8 and "
                        "Bfp8_b are)");
    }
}

template <typename Op>
void fpu_binary(uint32_t a_cb, uint32_t b_cb, uint32_t a_index, uint32_t b_index, uint32_t idst, const char* call,
                Op op) {
    KernelThread& k = current();
    const Tile a = unpack(k, a_cb, a_index, call, 'A'), b = unpack(k, b_cb, b_index, call, 'B');
    float* d = dst_tile(k, idst, true, call);
    for (uint32_t e = 0; e < TILE_ELEMENTS; ++e) {
        d[e] = op(a[e], b[e]);
    }
}

Tile transposed(const Tile& t) {
    Tile out;
    for (uint32_t i = 0; i < TILE; ++i) {
        for (uint32_t j = 0; j < TILE; ++j) {
            out[j * TILE + i] = t[i * TILE + j];
        }
    }
    return out;
}

// DST[idst] += A @ B, A and B row-major 32x32 float32 tiles.
void matmul_into(float* d, const Tile& a, const Tile& b) {
    Tile c{};
    for (uint32_t i = 0; i < TILE; ++i) {
        for (uint32_t kk = 0; kk < TILE; ++kk) {
            const float x = a[i * TILE + kk];
            for (uint32_t j = 0; j < TILE; ++j) {
                c[i * TILE + j] += x * b[kk * TILE + j];
            }
        }
    }
    for (uint32_t e = 0; e < TILE_ELEMENTS; ++e) {
        d[e] += c[e];
    }
}

void pack_one(uint32_t ifrom_dst, uint32_t icb, uint32_t slot) {
    KernelThread& k = current();
    pack(k, dst_tile(k, ifrom_dst, false, "pack_tile"), icb, slot, "pack_tile");
}

}  // namespace
}  // namespace nanott_cpu

namespace ckernel {
using nanott_cpu::current;

// copy_tile of a Float32 CB reaches DST unrounded only in UnpackToDestFp32 mode for that CB (and a
// 32-bit DST); otherwise it goes through srcA and keeps TF32's precision (docs/reference.md §4.4, §7.4).
void copy_tile(uint32_t in_cb_id, uint32_t in_tile_index, uint32_t dst_tile_index) {
    auto& k = current();
    auto t = nanott_cpu::unpack(k, in_cb_id, in_tile_index, "copy_tile", 'A');
    const auto& mode = k.spec->unpack_to_dest;
    const bool direct = k.spec->fp32_dest_acc && in_cb_id < mode.size() &&
                        mode[in_cb_id] == UnpackToDestMode::UnpackToDestFp32;
    if (nanott_cpu::cb_config(k, in_cb_id, "copy_tile").format == tt::DataFormat::Float32 && !direct) {
        for (float& x : t) {
            x = nanott_cpu::to_tf32(x);
        }
    }
    std::memcpy(nanott_cpu::dst_tile(k, dst_tile_index, true, "copy_tile"), t.data(), sizeof t);
}

void transpose_wh_tile(uint32_t icb, uint32_t itile, uint32_t idst) {
    auto& k = current();
    const auto t = nanott_cpu::transposed(nanott_cpu::unpack(k, icb, itile, "transpose_wh_tile", 'A'));
    std::memcpy(nanott_cpu::dst_tile(k, idst, true, "transpose_wh_tile"), t.data(), sizeof t);
}

void copy_block_matmul_partials(uint32_t in_cb_id, uint32_t start_in_tile_index, uint32_t start_dst_tile_index,
                                uint32_t ntiles) {
    for (uint32_t i = 0; i < ntiles; ++i) {
        copy_tile(in_cb_id, start_in_tile_index + i, start_dst_tile_index + i);
    }
}

void add_tiles(uint32_t icb0, uint32_t icb1, uint32_t itile0, uint32_t itile1, uint32_t idst) {
    nanott_cpu::fpu_binary(icb0, icb1, itile0, itile1, idst, "add_tiles", [](float a, float b) { return a + b; });
}
void sub_tiles(uint32_t icb0, uint32_t icb1, uint32_t itile0, uint32_t itile1, uint32_t idst) {
    nanott_cpu::fpu_binary(icb0, icb1, itile0, itile1, idst, "sub_tiles", [](float a, float b) { return a - b; });
}
void mul_tiles(uint32_t icb0, uint32_t icb1, uint32_t itile0, uint32_t itile1, uint32_t idst) {
    nanott_cpu::fpu_binary(icb0, icb1, itile0, itile1, idst, "mul_tiles", [](float a, float b) { return a * b; });
}

void matmul_tiles(uint32_t in0_cb_id, uint32_t in1_cb_id, uint32_t in0_tile_index, uint32_t in1_tile_index,
                  uint32_t idst) {
    auto& k = current();
    const auto a = nanott_cpu::unpack(k, in0_cb_id, in0_tile_index, "matmul_tiles", 'B');
    auto b = nanott_cpu::unpack(k, in1_cb_id, in1_tile_index, "matmul_tiles", 'A');
    if (k.dst && k.dst->matmul_transpose) {
        b = nanott_cpu::transposed(b);
    }
    nanott_cpu::matmul_into(nanott_cpu::dst_tile(k, idst, true, "matmul_tiles"), a, b);
}

// ttnn 0.65's form (its header declares it when NANOTT_TT_METAL_MINOR < 66): the transpose again
void matmul_tiles(uint32_t in0_cb_id, uint32_t in1_cb_id, uint32_t in0_tile_index, uint32_t in1_tile_index,
                  uint32_t idst, const uint32_t transpose) {
    if ((transpose != 0) != (current().dst && current().dst->matmul_transpose)) {
        nanott_cpu::unsupported("matmul_tiles with another transpose than its init's");
    }
    matmul_tiles(in0_cb_id, in1_cb_id, in0_tile_index, in1_tile_index, idst);
}

// DST[idst + r * ct_dim + c] += A[in0 + r * kt_dim] @ B[in1 + c] (docs/reference.md §4.6).
void matmul_block(uint32_t in0_cb_id, uint32_t in1_cb_id, uint32_t in0_tile_index, uint32_t in1_tile_index,
                  uint32_t idst, const uint32_t transpose, uint32_t ct_dim, uint32_t rt_dim, uint32_t kt_dim) {
    if (transpose != 0) {
        nanott_cpu::unsupported("matmul_block with transpose");     // mm_block_init's flag is not modelled
    }
    for (uint32_t r = 0; r < rt_dim; ++r) {
        for (uint32_t c = 0; c < ct_dim; ++c) {
            matmul_tiles(in0_cb_id, in1_cb_id, in0_tile_index + r * kt_dim, in1_tile_index + c, idst + r * ct_dim + c);
        }
    }
}

// Without <true>, the slot argument is ignored: packs fill the reserved region in order (§4.5).
template <bool out_of_order_output>
void pack_tile(uint32_t ifrom_dst, uint32_t icb, uint32_t output_tile_index) {
    const uint32_t slot = out_of_order_output ? output_tile_index : nanott_cpu::next_pack_slot(current(), icb);
    nanott_cpu::pack_one(ifrom_dst, icb, slot);
}
template void pack_tile<false>(uint32_t, uint32_t, uint32_t);
template void pack_tile<true>(uint32_t, uint32_t, uint32_t);

void pack_tile_block(uint32_t ifrom_dst, uint32_t icb, uint32_t ntiles) {
    for (uint32_t i = 0; i < ntiles; ++i) {
        pack_tile<false>(ifrom_dst + i, icb, 0);
    }
}
}  // namespace ckernel
