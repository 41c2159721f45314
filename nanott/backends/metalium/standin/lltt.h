// nanott's stand-in for the SFPI toolchain's <lltt.h> (replay-buffer helpers): declarations with
// the shapes tt-llk calls them with, enough for an x86 `g++ -fsyntax-only` of compute kernels.
#pragma once
#include <cstdint>
namespace lltt {
enum ExecBool : bool { NoExec = false, Exec = true };
template <ExecBool E = NoExec> inline void record(unsigned, unsigned) {}
template <ExecBool E = NoExec> inline void replay(unsigned, unsigned) {}
constexpr std::uint32_t replay_insn(unsigned start, unsigned len) { return start << 8 | len; }
}  // namespace lltt
