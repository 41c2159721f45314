// tt-metal's tt-metalium/bfloat8.hpp: the host's conversions of float values to Bfp8_b tiles and back
// (the two main.cpp calls: an fp8 input is packed, an fp8 output read back)
// (docs/reference.md §7.3): each tile 1088 bytes, 64 shared exponents then 1024 values, 272 words.
// `data` holds whole 32x32 tiles one after another; row_major_input says whether each tile's
// values are row-major (else already in face order, as tilize_nfaces leaves them). is_exp_a
// (Bfp8's 5-bit exponent) is not modelled. Implemented for the CPU in runtime/src/tilize.cpp.
#pragma once
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace tt::stl {
template <typename T>
using Span = std::span<T>;
}  // namespace tt::stl

namespace tt::tt_metal {
struct Tile {};             // tile.hpp's tile shape: only 32x32 tiles here, so it holds nothing
}  // namespace tt::tt_metal

// Bfp8_b tiles -> their values, in each tile's face order (row_major_output=false) or row-major.
std::vector<float> unpack_bfp8_tiles_into_float_vec(tt::stl::Span<const uint32_t> bfp_tiles, bool row_major_output,
                                                    bool is_exp_a,
                                                    const std::optional<tt::tt_metal::Tile>& tile = std::nullopt);

template <typename T>
std::vector<uint32_t> pack_as_bfp8_tiles(tt::stl::Span<const T> data, bool row_major_input, bool is_exp_a,
                                         const std::optional<tt::tt_metal::Tile>& tile = std::nullopt);

