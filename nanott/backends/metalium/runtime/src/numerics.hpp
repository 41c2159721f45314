// numerics.hpp: the roundings of nanott's CPU runtime, as nanott's model has them (docs/reference.md §7.5):
// float32 -> bfloat16 and float32 -> float16 (IEEE binary16, tt::DataFormat::Float16) to nearest,
// ties to even (NaN stays NaN; float16 overflows to infinity and keeps subnormals, as NumPy's cast
// does), and float32 -> int32 by truncation
// (NaN and out-of-range values become INT32_MIN, as NumPy's cast does on x86); Bfp8_b block floats.
#pragma once
#include <bit>
#include <cmath>
#include <cstdint>

namespace nanott_cpu {
inline uint16_t to_bfloat16_bits(float x) {
    const uint32_t bits = std::bit_cast<uint32_t>(x);
    if (std::isnan(x)) {
        return static_cast<uint16_t>((bits >> 16) | 0x40);
    }
    return static_cast<uint16_t>((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16);
}

// Float32 through srcA or srcB: TF32 keeps 10 of float32's 23 mantissa bits (docs/reference.md §7.4)
inline float to_tf32(float x) { return std::bit_cast<float>(std::bit_cast<uint32_t>(x) & 0xFFFFE000u); }

inline float from_bfloat16_bits(uint16_t bits) { return std::bit_cast<float>(uint32_t{bits} << 16); }

// IEEE binary16 through the compiler's _Float16 (GCC >= 12 and Clang on x86-64 and AArch64), whose
// conversion from float rounds to nearest, ties to even.
inline uint16_t to_float16_bits(float x) { return std::bit_cast<uint16_t>(static_cast<_Float16>(x)); }

inline float from_float16_bits(uint16_t bits) { return static_cast<float>(std::bit_cast<_Float16>(bits)); }

inline int32_t to_int32(float x) {
    if (std::isnan(x) || x >= 2147483648.0f || x < -2147483648.0f) {
        return INT32_MIN;
    }
    return static_cast<int32_t>(x);
}

// Bfp8_b (docs/reference.md §7.3): per 16 values of a face row one shared exponent byte E (the largest
// biased exponent among them), and per value sign << 7 | a 7-bit magnitude with its leading one:
// value = (-1)^s * m * 2^(E - 127 - 6). Rounding to nearest, ties to even, a magnitude rounding to
// 128 saturates at 127, denormals are zero: nanott's model (nanott/block_float.py).
inline float from_bfp8_b(uint8_t exponent, uint8_t datum) {
    const float v = std::ldexp(static_cast<float>(datum & 0x7F), int{exponent} - 127 - 6);
    return (datum & 0x80) ? -v : v;
}

// 16 values -> their bytes in `out`; returns the shared exponent.
inline uint8_t to_bfp8_b(const float* in, uint8_t* out) {
    int shared = 0;
    for (int i = 0; i < 16; ++i) {
        const int e = static_cast<int>((std::bit_cast<uint32_t>(in[i]) >> 23) & 0xFF);
        shared = (e != 0 && e > shared) ? e : shared;
    }
    for (int i = 0; i < 16; ++i) {
        const int e = static_cast<int>((std::bit_cast<uint32_t>(in[i]) >> 23) & 0xFF);
        const float m = e == 0 ? 0.0f : std::nearbyint(std::ldexp(std::fabs(in[i]), 127 + 6 - shared));
        const auto magnitude = static_cast<uint8_t>(m > 127.0f ? 127.0f : m);
        out[i] = static_cast<uint8_t>((std::signbit(in[i]) && magnitude ? 0x80 : 0) | magnitude);
    }
    return static_cast<uint8_t>(shared);
}
}  // namespace nanott_cpu
