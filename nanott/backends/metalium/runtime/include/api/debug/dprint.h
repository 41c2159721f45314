// api/debug/dprint.h: the device print of a kernel (DPRINT), as nanott's CPU runtime implements it.
//
// tt-metal prints through a buffer in L1 that a host server drains; here a printed line goes to
// the program's standard output at once, prefixed, as the server prefixes it, with who printed it:
//   [C++ core (1,0) compute] k = 2
// Both spellings of the releases nanott targets compile against this header:
//   ttnn 0.65 / 0.66   DPRINT_MATH(DPRINT << "k = " << k << ENDL());     the stream form
//   ttnn 0.81          DPRINT_MATH("k = {}\n", k);                       an fmt-style format
// A compute kernel runs as one thread here (UNPACK, MATH and PACK together), so DPRINT_MATH,
// DPRINT_UNPACK and DPRINT_PACK all print; nanott emits one of them per statement: DPRINT_MATH for
// a scalar, DPRINT_UNPACK for a tile of a CB's waited front, `TSLICE(cb, tile, SliceRange)`: the
// values of a numpy-style slice of the tile's rows and columns (h0:h1:hs, w0:w1:ws), read in the
// CB's data format and shown row after row, rows separated by " | " (nanott/languages/printed.py
// shows the same); a slice of a tile beyond the waited pages fails as a read would (rule 6).
// Format strings take `{}` placeholders and `{{`, `}}` escapes; any other spec is unsupported.
#pragma once
#include <cstdint>
#include <ostream>
#include <sstream>
#include <string>
#include <vector>
#include "nanott_cpu/kernel.h"

struct ENDL {};

// a numpy-style slice of a tile: rows h0:h1:hs, columns w0:w1:ws
struct SliceRange {
    uint8_t h0, h1, hs, w0, w1, ws;
    static SliceRange hw0_32_16() { return SliceRange{0, 32, 16, 0, 32, 16}; }
    static SliceRange hw0_32_8() { return SliceRange{0, 32, 8, 0, 32, 8}; }
    static SliceRange hw0_32_4() { return SliceRange{0, 32, 4, 0, 32, 4}; }
    static SliceRange h0_w0_32() { return SliceRange{0, 1, 1, 0, 32, 1}; }
    static SliceRange h0_32_w0() { return SliceRange{0, 32, 1, 0, 1, 1}; }
};

namespace nanott_cpu {
// the sliced values of tile `tile` of CB `cb`'s waited front, row-major (runtime/src/tile_math.cpp)
std::vector<float> tile_slice(uint32_t cb, int tile, uint8_t h0, uint8_t h1, uint8_t hs, uint8_t w0, uint8_t w1,
                              uint8_t ws);
}  // namespace nanott_cpu

// The compute kernel's form (UNPACK reads the front of a CB); its values are read when it is made.
// The data-movement form, which also names the CB's side, is not modelled.
template <int MAX_BYTES = 64>
struct TileSlice {
    TileSlice(uint8_t cb, int tile_idx, const SliceRange& r, bool endl_rows = true, bool print_untilized = true)
        : range(r), values(nanott_cpu::tile_slice(cb, tile_idx, r.h0, r.h1, r.hs, r.w0, r.w1, r.ws)) {
        if (!endl_rows || !print_untilized) {
            nanott_cpu::unsupported("a TileSlice without endl_rows or print_untilized");
        }
    }
    SliceRange range;
    std::vector<float> values;
};
using TSLICE = TileSlice<64>;

template <int MAX_BYTES>
std::ostream& operator<<(std::ostream& out, const TileSlice<MAX_BYTES>& t) {
    const std::size_t per_row = (t.range.w1 - t.range.w0 + t.range.ws - 1) / t.range.ws;
    for (std::size_t i = 0; i < t.values.size(); ++i) {
        out << (i == 0 ? "" : i % per_row == 0 ? " | " : " ") << t.values[i];
    }
    return out;
}

namespace nanott_cpu {
void dprint_line(const std::string& text);   // one line of the calling kernel (runtime/src/device.cpp)

inline void dprint_format(std::ostringstream& out, const char* f) {
    for (; *f != '\0'; ++f) {
        if ((*f == '{' && f[1] == '{') || (*f == '}' && f[1] == '}')) {
            ++f;
        } else if (*f == '{' || *f == '}') {
            unsupported("a DPRINT format with more placeholders than arguments, or a format spec");
        }
        out << *f;
    }
}

template <typename T, typename... Rest>
void dprint_format(std::ostringstream& out, const char* f, const T& value, const Rest&... rest) {
    for (; *f != '\0'; ++f) {
        if ((*f == '{' && f[1] == '{') || (*f == '}' && f[1] == '}')) {
            out << *f++;
        } else if (*f == '{' && f[1] == '}') {
            out << value;
            return dprint_format(out, f + 2, rest...);
        } else if (*f == '{' || *f == '}') {
            unsupported("a DPRINT format spec other than {}");
        } else {
            out << *f;
        }
    }
    unsupported("a DPRINT format with fewer placeholders than arguments");
}

// what DPRINT makes: a line being written (stream form) or a call taking a format (0.81 form)
class DebugPrinter {
  public:
    template <typename T>
    DebugPrinter& operator<<(const T& value) {
        line_ << value;
        return *this;
    }
    DebugPrinter& operator<<(const ENDL&) {
        dprint_line(line_.str());
        line_.str("");
        return *this;
    }
    template <typename... Args>
    void operator()(const char* format, const Args&... args) {
        std::ostringstream text;
        dprint_format(text, format, args...);
        std::string all = text.str(), line;
        std::istringstream lines(all);
        while (std::getline(lines, line)) {
            dprint_line(line);
        }
    }

  private:
    std::ostringstream line_;
};

inline void dprint_thread(const DebugPrinter&) {}        // the stream form printed at its ENDL()
template <typename... Args>
void dprint_thread(const char* format, const Args&... args) {
    DebugPrinter()(format, args...);
}
}  // namespace nanott_cpu

#define DPRINT nanott_cpu::DebugPrinter()
#define DPRINT_MATH(...) nanott_cpu::dprint_thread(__VA_ARGS__)
#define DPRINT_UNPACK(...) nanott_cpu::dprint_thread(__VA_ARGS__)
#define DPRINT_PACK(...) nanott_cpu::dprint_thread(__VA_ARGS__)
