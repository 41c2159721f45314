// api/debug/dprint.h: the device print of a kernel (DPRINT), as nanott's CPU runtime implements it.
//
// tt-metal prints through a buffer in L1 that a host server drains; here a printed line goes to
// the program's standard output at once, prefixed, as the server prefixes it, with who printed it:
//   [C++ core (1,0) compute] k = 2
// Both spellings of the releases nanott targets compile against this header:
//   ttnn 0.65 / 0.66   DPRINT_MATH(DPRINT << "k = " << k << ENDL());     the stream form
//   ttnn 0.81          DPRINT_MATH("k = {}\n", k);                       an fmt-style format
// A compute kernel runs as one thread here (UNPACK, MATH and PACK together), so DPRINT_MATH,
// DPRINT_UNPACK and DPRINT_PACK all print; nanott emits DPRINT_MATH only, once per statement.
// Format strings take `{}` placeholders and `{{`, `}}` escapes; any other spec is unsupported.
#pragma once
#include <cstdint>
#include <sstream>
#include <string>
#include "nanott_cpu/kernel.h"

struct ENDL {};

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
