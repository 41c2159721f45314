// sfpu.cpp: the compute kernel's SFPU operations (docs/reference.md §4.7) on nanott's CPU device: float32
// math in place on DST tiles, exact (the approximation modes of silicon are not modelled), with the
// functions of nanott's model (languages/l0_interp.py UNARY, l5_interp.py TILE_OPS):
//   *_binary_tile(a, b, out), binary_max/min_tile    DST[out] = DST[a] op DST[b]
//   *_unary_tile(i, bits)                            DST[i] = DST[i] op the float32 of `bits`
//   exp, exp2, log, sqrt, rsqrt, abs, sigmoid, tanh, relu, negative _tile(i)    DST[i] = f(DST[i])
//   fill_tile(i, v), typecast_tile<IN, OUT>(i)       DST[i] = v; DST[i] rounded to OUT and back
//   eqz, nez, ltz, lez, gtz, gez _tile(i)            DST[i] = 1.0 where DST[i] (op) 0, else 0.0
//   where_tile(c, a, b, out), where_fp32_tile        DST[out] = DST[c] != 0 ? DST[a] : DST[b]
//   bitwise_and_tile(i, v), ..., right_shift_tile    DST[i] op v on int32 (two's complement, >> arithmetic)
//   bitwise_and_binary_tile(a, b, out), ...,         DST[out] = DST[a] op DST[b] on int32
//   binary_right_shift_tile<Int32>(a, b, out)        (the DST holds the integers as float32 values)
#define TRISC_UNPACK
#define TRISC_MATH
#define TRISC_PACK
#include <algorithm>
#include <cmath>
#include <cstring>
#include "compute_kernel_api.h"
#include "compute_kernel_api/binary_max_min.h"
#include "compute_kernel_api/eltwise_binary_sfpu.h"
#include "compute_kernel_api/eltwise_unary/binop_with_scalar.h"
#include "compute_kernel_api/eltwise_unary/comp.h"
#include "compute_kernel_api/eltwise_unary/exp.h"
#include "compute_kernel_api/eltwise_unary/fill.h"
#include "compute_kernel_api/eltwise_unary/negative.h"
#include "compute_kernel_api/eltwise_unary/relu.h"
#include "compute_kernel_api/eltwise_unary/rsqrt.h"
#include "compute_kernel_api/eltwise_unary/sqrt.h"
#include "compute_kernel_api/eltwise_unary/typecast.h"
#include "compute_kernel_api/eltwise_unary/where.h"
#include "compute_kernel_api/eltwise_unary/bitwise.h"
#include "compute_kernel_api/binary_bitwise_sfpu.h"
#include "numerics.hpp"
#include "state.hpp"

namespace nanott_cpu {
namespace {
template <typename Op>
void binary(uint32_t idst0, uint32_t idst1, uint32_t odst, const char* call, Op op) {
    KernelThread& k = current();
    const float* x = dst_tile(k, idst0, true, call);
    const float* y = dst_tile(k, idst1, true, call);
    float* out = dst_tile(k, odst, true, call);
    for (uint32_t e = 0; e < TILE_ELEMENTS; ++e) {
        out[e] = op(x[e], y[e]);             // elementwise: out may be x or y
    }
}

template <typename Op>
void scalar(uint32_t idst, uint32_t bits, const char* call, Op op) {
    binary(idst, idst, idst, call, [&](float x, float) { return op(x, std::bit_cast<float>(bits)); });
}

template <typename F>
void unary(uint32_t idst, const char* call, F f) {
    float* d = dst_tile(current(), idst, true, call);
    for (uint32_t e = 0; e < TILE_ELEMENTS; ++e) {
        d[e] = f(d[e]);
    }
}

void fill(uint32_t idst, float value, const char* call) { unary(idst, call, [&](float) { return value; }); }

// NumPy's maximum and minimum: NaN wins.
float maximum(float a, float b) { return std::isnan(a) || std::isnan(b) ? NAN : std::max(a, b); }
float minimum(float a, float b) { return std::isnan(a) || std::isnan(b) ? NAN : std::min(a, b); }

constexpr uint32_t FLOAT32 = 0, FLOAT16 = 1, FLOAT16_B = 5, INT32 = 8;     // tt::DataFormat values (§6.2)

void check_typecast(uint32_t in_format, uint32_t out_format) {
    if (in_format == INT32 && out_format == FLOAT32) {
        return;                              // back from the int32 a bit operation left: the same value
    }
    if (in_format != FLOAT32 ||
        (out_format != FLOAT32 && out_format != FLOAT16 && out_format != FLOAT16_B && out_format != INT32)) {
        unsupported("this typecast (from Float32 to Float32, Float16, Float16_b or Int32, and from Int32 to "
                    "Float32, are modelled)");
    }
}

const auto ADD = [](float a, float b) { return a + b; };
const auto SUB = [](float a, float b) { return a - b; };
const auto MUL = [](float a, float b) { return a * b; };
const auto DIV = [](float a, float b) { return a / b; };
const auto RSUB = [](float a, float b) { return b - a; };
}  // namespace

void where(uint32_t idst0, uint32_t idst1, uint32_t idst2, uint32_t odst, const char* call) {
    KernelThread& k = current();
    const float* c = dst_tile(k, idst0, true, call);
    const float* a = dst_tile(k, idst1, true, call);
    const float* b = dst_tile(k, idst2, true, call);
    float* out = dst_tile(k, odst, true, call);
    for (uint32_t e = 0; e < TILE_ELEMENTS; ++e) {
        out[e] = c[e] != 0.0f ? a[e] : b[e];     // elementwise: out may be any of them; NaN is not 0
    }
}

namespace {
// a bit operation on the int32 two float32 values hold (integers, exact below 2**24), back to float32;
// a shift by less than 0 or more than 31 is outside the model (C leaves it undefined)
float bits(float x, float y, char op) {
    const int32_t a = to_int32(x), b = to_int32(y);
    const uint32_t u = static_cast<uint32_t>(a);
    switch (op) {
        case '&': return static_cast<float>(a & b);
        case '|': return static_cast<float>(a | b);
        case '^': return static_cast<float>(a ^ b);
        case '<': return static_cast<float>(static_cast<int32_t>(u << (b & 31)));
        default: return static_cast<float>(a >> (b & 31));       // arithmetic, as C++20 defines it
    }
}
}  // namespace

void bits_scalar(uint32_t idst, uint32_t param0, char op, const char* call) {
    const float v = static_cast<float>(static_cast<int32_t>(param0));
    unary(idst, call, [&](float x) { return bits(x, v, op); });
}

void bits_binary(uint32_t idst0, uint32_t idst1, uint32_t odst, char op, const char* call) {
    binary(idst0, idst1, odst, call, [&](float x, float y) { return bits(x, y, op); });
}

void typecast_init(uint32_t in_format, uint32_t out_format) {
    check_typecast(in_format, out_format);
    after_full_init("typecast_tile_init");
}

void typecast(uint32_t idst, uint32_t in_format, uint32_t out_format) {
    check_typecast(in_format, out_format);
    unary(idst, "typecast_tile", [&](float x) {
        return out_format == FLOAT16_B ? from_bfloat16_bits(to_bfloat16_bits(x))
               : out_format == FLOAT16 ? from_float16_bits(to_float16_bits(x))
               : out_format == INT32   ? static_cast<float>(to_int32(x))
                                       : x;
    });
}
}  // namespace nanott_cpu

namespace ckernel {
using nanott_cpu::binary;
using nanott_cpu::scalar;
using nanott_cpu::unary;

void add_binary_tile(uint32_t i0, uint32_t i1, uint32_t o) { binary(i0, i1, o, "add_binary_tile", nanott_cpu::ADD); }
void sub_binary_tile(uint32_t i0, uint32_t i1, uint32_t o) { binary(i0, i1, o, "sub_binary_tile", nanott_cpu::SUB); }
void mul_binary_tile(uint32_t i0, uint32_t i1, uint32_t o) { binary(i0, i1, o, "mul_binary_tile", nanott_cpu::MUL); }
void div_binary_tile(uint32_t i0, uint32_t i1, uint32_t o) { binary(i0, i1, o, "div_binary_tile", nanott_cpu::DIV); }
void rsub_binary_tile(uint32_t i0, uint32_t i1, uint32_t o) { binary(i0, i1, o, "rsub_binary_tile", nanott_cpu::RSUB); }
void binary_max_tile(uint32_t i0, uint32_t i1, uint32_t o) { binary(i0, i1, o, "binary_max_tile", nanott_cpu::maximum); }
void binary_min_tile(uint32_t i0, uint32_t i1, uint32_t o) { binary(i0, i1, o, "binary_min_tile", nanott_cpu::minimum); }

void add_unary_tile(uint32_t idst, uint32_t param1) { scalar(idst, param1, "add_unary_tile", nanott_cpu::ADD); }
void sub_unary_tile(uint32_t idst, uint32_t param1) { scalar(idst, param1, "sub_unary_tile", nanott_cpu::SUB); }
void mul_unary_tile(uint32_t idst, uint32_t param1) { scalar(idst, param1, "mul_unary_tile", nanott_cpu::MUL); }
void div_unary_tile(uint32_t idst, uint32_t param1) { scalar(idst, param1, "div_unary_tile", nanott_cpu::DIV); }
void rsub_unary_tile(uint32_t idst, uint32_t param1) { scalar(idst, param1, "rsub_unary_tile", nanott_cpu::RSUB); }

template <bool approx, bool fast_and_approx, bool scale_en, bool skip_positive_check, int iterations>
void exp_tile(uint32_t idst, int, uint16_t) {
    unary(idst, "exp_tile", [](float x) { return std::exp(x); });
}
template void exp_tile<false, true, false, false, 8>(uint32_t, int, uint16_t);

void exp2_tile(uint32_t idst) { unary(idst, "exp2_tile", [](float x) { return std::exp2(x); }); }
void log_tile(uint32_t idst) { unary(idst, "log_tile", [](float x) { return std::log(x); }); }
void rsqrt_tile(uint32_t idst) { unary(idst, "rsqrt_tile", [](float x) { return 1.0f / std::sqrt(x); }); }
void abs_tile(uint32_t idst) { unary(idst, "abs_tile", [](float x) { return std::fabs(x); }); }
void sigmoid_tile(uint32_t idst) { unary(idst, "sigmoid_tile", [](float x) { return 1.0f / (1.0f + std::exp(-x)); }); }
void tanh_tile(uint32_t idst) { unary(idst, "tanh_tile", [](float x) { return std::tanh(x); }); }
void relu_tile(uint32_t idst) { unary(idst, "relu_tile", [](float x) { return nanott_cpu::maximum(x, 0.0f); }); }
void negative_tile(uint32_t idst) { unary(idst, "negative_tile", [](float x) { return -x; }); }
void eqz_tile(uint32_t idst) { unary(idst, "eqz_tile", [](float x) { return x == 0.0f ? 1.0f : 0.0f; }); }
void nez_tile(uint32_t idst) { unary(idst, "nez_tile", [](float x) { return x != 0.0f ? 1.0f : 0.0f; }); }
void ltz_tile(uint32_t idst) { unary(idst, "ltz_tile", [](float x) { return x < 0.0f ? 1.0f : 0.0f; }); }
void lez_tile(uint32_t idst) { unary(idst, "lez_tile", [](float x) { return x <= 0.0f ? 1.0f : 0.0f; }); }
void gtz_tile(uint32_t idst) { unary(idst, "gtz_tile", [](float x) { return x > 0.0f ? 1.0f : 0.0f; }); }
void gez_tile(uint32_t idst) { unary(idst, "gez_tile", [](float x) { return x >= 0.0f ? 1.0f : 0.0f; }); }
// up to 0.66 (declared when NANOTT_TT_METAL_MINOR < 81): one call per DST format; 0.81's template is inline
void where_tile(uint32_t c, uint32_t a, uint32_t b, uint32_t o) { nanott_cpu::where(c, a, b, o, "where_tile"); }
void where_fp32_tile(uint32_t c, uint32_t a, uint32_t b, uint32_t o) { nanott_cpu::where(c, a, b, o, "where_fp32_tile"); }

template <bool FAST_APPROX>
void sqrt_tile(uint32_t idst) {
    unary(idst, "sqrt_tile", [](float x) { return std::sqrt(x); });
}
template void sqrt_tile<false>(uint32_t);

void relu_max_tile(uint32_t, uint32_t) { nanott_cpu::unsupported("relu_max_tile"); }
void relu_min_tile(uint32_t, uint32_t) { nanott_cpu::unsupported("relu_min_tile"); }

void fill_tile(uint32_t idst, float param0) { nanott_cpu::fill(idst, param0, "fill_tile"); }
void fill_tile_bitcast(uint32_t idst, uint32_t param0) {
    nanott_cpu::fill(idst, std::bit_cast<float>(param0), "fill_tile_bitcast");
}
// ttnn 0.65's plain form (declared when NANOTT_TT_METAL_MINOR < 66): typecast_tile<IN, OUT> names the formats
void typecast_tile_init() { nanott_cpu::after_full_init("typecast_tile_init"); }
}  // namespace ckernel
