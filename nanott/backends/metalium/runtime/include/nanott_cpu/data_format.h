// The global DataFormat of compute kernels (tt-metal's tensix_types.h declares it outside any
// namespace), with the values docs/reference.md §6.2 lists: the template argument of 0.81's
// where_tile<DataFormat::Float32> and of the integer ops' <DataFormat::Int32> (0.66 and 0.81).
#pragma once
#include <cstdint>

enum class DataFormat : std::uint8_t { Float32 = 0, Float16 = 1, Float16_b = 5, Int32 = 8, UInt16 = 9, UInt32 = 24 };
