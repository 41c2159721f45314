// tt-metal's tt-metalium/base_types.hpp (docs/reference.md §6.2).
#pragma once
#include <cstdint>

enum class MathFidelity : uint8_t { LoFi = 0, HiFi2 = 2, HiFi3 = 3, HiFi4 = 4, Invalid = 0xff };
enum class UnpackToDestMode : uint8_t { UnpackToDestFp32, Default };
