// tilize.cpp: the host's data layout helpers on nanott's CPU device: bfloat16 (round to nearest
// even from float, docs/reference.md §7.5) and tilize_nfaces / untilize_nfaces, which turn an m x n
// row-major matrix into 32x32 tiles of four 16x16 faces and back (docs/reference.md §7.1): tiles
// row-major over the tile grid, faces F0 F1 F2 F3, each face row-major; and Bfp8_b tiles from floats
// (pack_as_bfp8_tiles, docs/reference.md §7.3) and back (unpack_bfp8_tiles_into_float_vec).
#include <string>
#include <tt-metalium/bfloat16.hpp>
#include <tt-metalium/bfloat8.hpp>
#include <tt-metalium/tilize_utils.hpp>
#include "numerics.hpp"
#include "state.hpp"

bfloat16::bfloat16(float value) : uint16_data(nanott_cpu::to_bfloat16_bits(value)) {}

float bfloat16::to_float() const { return nanott_cpu::from_bfloat16_bits(uint16_data); }

namespace {
using nanott_cpu::TILE;

// Where element (i, j) of an m x n matrix sits among its tiles.
std::size_t tiled_index(uint32_t i, uint32_t j, uint32_t n) {
    const std::size_t tile = static_cast<std::size_t>(i / TILE) * (n / TILE) + j / TILE;
    const uint32_t r = i % TILE, c = j % TILE;
    return tile * TILE * TILE + ((r / 16) * 2 + c / 16) * 256 + (r % 16) * 16 + c % 16;
}

void check_shape(std::size_t size, uint32_t m, uint32_t n, const char* call) {
    if (m % TILE != 0 || n % TILE != 0 || size != static_cast<std::size_t>(m) * n) {
        nanott_cpu::fail(std::string(call) + ": " + std::to_string(size) + " values as a " + std::to_string(m) + " x " +
                         std::to_string(n) + " matrix of whole 32x32 tiles");
    }
}
}  // namespace

template <typename T>
std::vector<T> tilize_nfaces(const std::vector<T>& input, uint32_t m, uint32_t n) {
    check_shape(input.size(), m, n, "tilize_nfaces");
    std::vector<T> out(input.size());
    for (uint32_t i = 0; i < m; ++i) {
        for (uint32_t j = 0; j < n; ++j) {
            out[tiled_index(i, j, n)] = input[static_cast<std::size_t>(i) * n + j];
        }
    }
    return out;
}

template <typename T>
std::vector<T> untilize_nfaces(const std::vector<T>& input, uint32_t m, uint32_t n) {
    check_shape(input.size(), m, n, "untilize_nfaces");
    std::vector<T> out(input.size());
    for (uint32_t i = 0; i < m; ++i) {
        for (uint32_t j = 0; j < n; ++j) {
            out[static_cast<std::size_t>(i) * n + j] = input[tiled_index(i, j, n)];
        }
    }
    return out;
}

#define NANOTT_TILIZE(T)                                                            \
    template std::vector<T> tilize_nfaces<T>(const std::vector<T>&, uint32_t, uint32_t); \
    template std::vector<T> untilize_nfaces<T>(const std::vector<T>&, uint32_t, uint32_t);
// the types libtt_metal.so instantiates them for, no more (api.TILIZED_HOST_TYPES)
NANOTT_TILIZE(bfloat16)
NANOTT_TILIZE(float)
NANOTT_TILIZE(uint32_t)
NANOTT_TILIZE(uint16_t)

// Bfp8_b tiles (tt-metalium/bfloat8.hpp): 1088 bytes = 272 words each, 64 shared exponents (one
// per 16-value face row, faces in order) then the 1024 values in face order.
namespace {
constexpr std::size_t BFP8_TILE_BYTES = 1088, BFP8_EXPONENTS = 64;

// Where element e of a tile sits among its faces: e itself when the tile is in face order already.
std::size_t face_index(std::size_t e, bool row_major) {
    return row_major ? tiled_index(static_cast<uint32_t>(e / TILE), static_cast<uint32_t>(e % TILE), TILE) : e;
}
}  // namespace

template <typename T>
std::vector<uint32_t> pack_as_bfp8_tiles(tt::stl::Span<const T> data, bool row_major_input, bool is_exp_a,
                                         const std::optional<tt::tt_metal::Tile>&) {
    constexpr std::size_t N = TILE * TILE;
    if (is_exp_a || data.size() % N != 0) {
        nanott_cpu::fail("pack_as_bfp8_tiles: " + std::to_string(data.size()) + " values as whole 32x32 tiles of "
                         "Bfp8_b (is_exp_a, Bfp8, is not modelled)");
    }
    std::vector<uint32_t> out(data.size() / N * BFP8_TILE_BYTES / 4);
    auto* bytes = reinterpret_cast<uint8_t*>(out.data());
    std::vector<float> faced(N);
    for (std::size_t tile = 0; tile < data.size() / N; ++tile) {
        for (std::size_t e = 0; e < N; ++e) {
            faced[face_index(e, row_major_input)] = static_cast<float>(data[tile * N + e]);
        }
        uint8_t* page = bytes + tile * BFP8_TILE_BYTES;
        for (std::size_t g = 0; g < BFP8_EXPONENTS; ++g) {
            page[g] = nanott_cpu::to_bfp8_b(&faced[g * 16], page + BFP8_EXPONENTS + g * 16);
        }
    }
    return out;
}
std::vector<float> unpack_bfp8_tiles_into_float_vec(tt::stl::Span<const uint32_t> bfp_tiles, bool row_major_output,
                                                    bool is_exp_a, const std::optional<tt::tt_metal::Tile>&) {
    constexpr std::size_t N = TILE * TILE, WORDS = BFP8_TILE_BYTES / 4;
    if (is_exp_a || bfp_tiles.size() % WORDS != 0) {
        nanott_cpu::fail("unpack_bfp8_tiles_into_float_vec: " + std::to_string(bfp_tiles.size()) + " words as whole "
                         "Bfp8_b tiles (is_exp_a, Bfp8, is not modelled)");
    }
    std::vector<float> out(bfp_tiles.size() / WORDS * N);
    const auto* bytes = reinterpret_cast<const uint8_t*>(bfp_tiles.data());
    for (std::size_t tile = 0; tile < out.size() / N; ++tile) {
        const uint8_t* page = bytes + tile * BFP8_TILE_BYTES;
        for (std::size_t e = 0; e < N; ++e) {
            const std::size_t f = face_index(e, row_major_output);
            out[tile * N + e] = nanott_cpu::from_bfp8_b(page[f / 16], page[BFP8_EXPONENTS + f]);
        }
    }
    return out;
}

template std::vector<uint32_t> pack_as_bfp8_tiles<float>(tt::stl::Span<const float>, bool, bool,
                                                         const std::optional<tt::tt_metal::Tile>&);
