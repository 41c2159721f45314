// tt-metal's tt-metalium/bfloat16.hpp: the host's 2-byte bfloat16, rounded to nearest even from
// float (docs/reference.md §7.5). Implemented for the CPU in runtime/src/tilize.cpp.
#pragma once
#include <cstdint>

class bfloat16 {
public:
    bfloat16() = default;
    bfloat16(float value);
    float to_float() const;

private:
    uint16_t uint16_data = 0;
};
static_assert(sizeof(bfloat16) == 2);
