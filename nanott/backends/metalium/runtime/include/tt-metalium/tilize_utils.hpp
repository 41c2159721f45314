// tt-metal's tt-metalium/tilize_utils.hpp: row-major <-> 32x32 tiles of four 16x16 faces
// (docs/reference.md §7.1), for an m x n matrix. Implemented for the CPU in runtime/src/tilize.cpp.
#pragma once
#include <cstdint>
#include <vector>

template <typename T>
std::vector<T> tilize_nfaces(const std::vector<T>& input, uint32_t m, uint32_t n);
template <typename T>
std::vector<T> untilize_nfaces(const std::vector<T>& input, uint32_t m, uint32_t n);
