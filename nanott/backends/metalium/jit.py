"""Emitted kernels checked as tt-metal's JIT build would compile them, against a real release.

tt-metal compiles each kernel on first launch (docs/reference.md §4.1): a data-movement kernel inside
the firmware file `brisck.cc` or `ncrisck.cc` (which includes it through `kernel_includes.hpp`),
a compute kernel three times inside `trisck.cc`, as `chlkc_unpack.cpp`, `chlkc_math.cpp` and
`chlkc_pack.cpp` with TRISC_UNPACK, TRISC_MATH or TRISC_PACK defined, next to generated headers
that give every CB's data format and the ComputeConfig (`chlkc_*.h`, `defines_generated.h`).
`check(layout, out, plan, role, thread)` does the same with the wheel's headers and tt-llk: the
generated files come from tt.plan.json, the compile-time arguments too.

The compiler is the host's g++ with `-m32 -fsyntax-only` (ILP32 like the RISC-V cores; the
kernel is parsed, type-checked and its templates instantiated, no code is generated) instead of
the SFPI cross-compiler, which no package index ships; the few SFPI builtins and headers tt-llk
uses come from standin/ (nanott's own, loose declarations). So a compile has two kinds of errors:

  real      in the kernel file, or in any tt-metal header outside the SFPU code: a call the
            release lacks, a wrong signature, a missing define (reduce.h without REDUCE_OP).
            Also an error inside SFPU code that the kernel's own calls cause. These fail the tests.
  artefact  what GCC 12 rejects and the SFPI compiler's newer GCC accepts (`static_assert(false)`
            in a template, a template-dependent `#pragma GCC unroll`, a parameter pack read in a
            constant expression; tt-metal's headers use all three, the last in 0.81's DPRINT), or an error inside SFPU code (written in SFPI) or the stand-in that is present
            as well when the same headers compile around an empty kernel. They say nothing about
            nanott's C++; the tests report them apart.
"""
from __future__ import annotations

import re
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from nanott.backends.metalium.api import DATA_FORMATS, MATH_FIDELITIES
from nanott.backends.metalium.plan import Plan
from nanott.backends.metalium.wheels import Layout

STANDIN = Path(__file__).resolve().parent / "standin"
FLAGS = ("-m32", "-std=c++17", "-fsyntax-only", "-fno-exceptions", "-w")
# a Wormhole n150's banks and PCIe core, as the JIT build passes them (docs/reference.md §8.1)
DEVICE = ("-DARCH_WORMHOLE", "-DTENSIX_FIRMWARE", "-DLOCAL_MEM_EN=0", "-DKERNEL_BUILD", "-DNUM_DRAM_BANKS=12",
          "-DIS_NOT_POW2_NUM_DRAM_BANKS=1", "-DNUM_L1_BANKS=64", "-DLOG_BASE_2_OF_NUM_L1_BANKS=6",
          "-DPCIE_NOC_X=0", "-DPCIE_NOC_Y=3", "-DDISPATCH_MESSAGE_ADDR=0", "-DPROGRAMMABLE_CORE_TYPE=0")
DM = {"reader": ("brisck.cc", "-DCOMPILE_FOR_BRISC", "-DPROCESSOR_INDEX=0", "-DNOC_INDEX=0"),
      "writer": ("ncrisck.cc", "-DCOMPILE_FOR_NCRISC", "-DPROCESSOR_INDEX=1", "-DNOC_INDEX=1")}
THREADS = ("UNPACK", "MATH", "PACK")
TILE_BYTES = {"Float16_b": 2048, "Float16": 2048, "Float32": 4096, "Int32": 4096, "UInt32": 4096,
              "Bfp8_b": 1088, "UInt16": 2048}
UNUSED = 255                                # the JIT build's format of a CB index no CB uses
ERROR = re.compile(r"^(?P<file>[^:\s][^:]*):(?P<line>\d+):\d+: (?:fatal )?error: (?P<msg>.*)$")


@dataclass(frozen=True)
class Error:
    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


@dataclass(frozen=True)
class Outcome:
    """One build of one kernel: the errors that are nanott's, and the stand-in's artefacts."""
    what: str
    real: tuple[Error, ...]
    artefacts: tuple[Error, ...]
    standin: str = "the stand-in compiler"      # what causes the artefacts

    @property
    def of_the_standin(self) -> tuple[Error, ...]:
        """The artefacts that are not GCC 12's: what the SFPI stand-in still lacks."""
        return tuple(e for e in self.artefacts if not _older_gcc(e))

    def report(self) -> str:
        lines = [f"{self.what}: {len(self.real)} real mismatches with tt-metal"]
        lines += [f"  real: {e}" for e in self.real]
        if self.artefacts:
            lines.append(f"  ({len(self.artefacts)} artefacts of {self.standin}, not nanott's: "
                         f"first {self.artefacts[0]})")
        return "\n".join(lines)


def check(layout: Layout, out: Path, plan: Plan, role: str, thread: str = "", defines: tuple[str, ...] = ()) -> Outcome:
    """Compile `out/<role>.cpp` (compute: for one TRISC thread) as the JIT build would; `defines`
    adds the build's optional ones (-DDEBUG_PRINT_ENABLED, as a run with DPRINT on has)."""
    source = out / next(k.source for k in plan.kernels if k.role == role)
    what = f"ttnn {layout.release}: {source.name}" + (f" (TRISC_{thread})" if thread else "") + "".join(
        f" {d}" for d in defines)
    return check_source(layout, source.read_text(), role, thread, plan, what, defines)


def check_source(layout: Layout, text: str, role: str, thread: str, plan: Plan, what: str,
                 defines: tuple[str, ...] = ()) -> Outcome:
    """Like check, for a kernel given as text (the probe of the API table)."""
    args = next((k.compile_args for k in plan.kernels if k.role == role), ())
    define = (f"-DKERNEL_COMPILE_TIME_ARGS={','.join(map(str, args))}",) if args else ()
    define += defines
    generated = _generated(plan, layout.typed_fidelity)
    errors = _compile(layout, text, role, thread, generated, define)
    suspects = [e for e in errors if _in_standin_territory(e.file)]
    artefacts = set(_baseline(layout, _includes(text), role, thread, generated)) if suspects else set()
    real = tuple(e for e in errors if not _older_gcc(e) and (e not in suspects or e not in artefacts))
    return Outcome(what, real, tuple(e for e in errors if e not in real))


def _older_gcc(e: Error) -> bool:
    """What GCC 12 rejects and the SFPI compiler's newer GCC accepts: `static_assert(false, ...)`
    in a template (allowed since P2593) and a `#pragma GCC unroll` count that is a template
    parameter; and a function parameter pack read in a constant expression (P2280, GCC 14: 0.81's
    DPRINT counts its arguments so, `count_arguments(args...)`). Recognised by the message and the
    line of the header the error points at."""
    if "#pragma GCC unroll" in e.message or ("‘args#" in e.message and "not a constant expression" in e.message):
        return True
    if not Path(e.file).is_file():
        return False
    lines = Path(e.file).read_text(errors="replace").splitlines()
    line = lines[e.line - 1] if 0 < e.line <= len(lines) else ""
    if "non-constant condition for static assertion" in e.message:     # its condition, a few lines on
        return "(args...)" in "".join(lines[max(e.line - 2, 0):e.line + 4])
    return "static assertion failed" in e.message and "static_assert(false" in line


def _in_standin_territory(file: str) -> bool:
    """SFPU code (tt-llk's, written in SFPI) and the stand-in itself."""
    return file.startswith(str(STANDIN)) or "/sfpu/" in file or "/llk_sfpu/" in file


def _includes(text: str) -> str:
    return "".join(line + "\n" for line in text.splitlines() if line.startswith("#include"))


_BASELINES: dict[tuple, tuple[Error, ...]] = {}


def _baseline(layout: Layout, includes: str, role: str, thread: str,
              generated: tuple[tuple[str, str], ...]) -> tuple[Error, ...]:
    """The errors of the same headers around an empty kernel (once per header set)."""
    key = (layout.release, includes, role, thread)
    if key not in _BASELINES:
        _BASELINES[key] = tuple(_compile(layout, includes + "\nvoid kernel_main() {}\n", role, thread, generated, ()))
    return _BASELINES[key]


def _compile(layout: Layout, text: str, role: str, thread: str, generated: tuple[tuple[str, str], ...],
             defines: tuple[str, ...]) -> list[Error]:
    """The errors of g++ on one kernel inside its firmware file, with the generated files beside it."""
    with tempfile.TemporaryDirectory(prefix="nanott-jit-") as tmp:
        work = Path(tmp)
        kernel = work / "kernel.cpp"
        kernel.write_text(text)
        for file, content in generated:
            (work / file).write_text(content)
        if role == "compute":
            n, name = THREADS.index(thread), thread.lower()
            shim = (f"namespace chlkc_{name} {{ void {name}_main() {{ kernel_main(); }} }}\n"
                    if layout.simple_compute_syntax and "void kernel_main()" in text else "")
            (work / f"chlkc_{name}.cpp").write_text(
                f'#define TRISC_{thread}\n#include "defines_generated.h"\n#include "{kernel}"\n{shim}')
            extra = [f"-DUCK_CHLKC_{thread}", f"-DNAMESPACE=chlkc_{thread.lower()}", f"-DCOMPILE_FOR_TRISC={n}",
                     f"-DPROCESSOR_INDEX={n + 2}", f"-I{STANDIN}"]
            firmware = layout.firmware("trisck.cc")
        else:
            (work / "kernel_includes.hpp").write_text(f'#include "{kernel}"\n')
            firmware_name, *extra = DM[role]
            extra.append("-DNOC_MODE=0")
            firmware = layout.firmware(firmware_name)
        cmd = ["g++", *FLAGS, *DEVICE, *extra, *defines, f"-I{work}", *(f"-I{d}" for d in layout.includes),
               str(firmware)]
        run = subprocess.run(cmd, capture_output=True, text=True, cwd=work)
        return [Error("<kernel>" if m["file"] == str(kernel) else m["file"], int(m["line"]), m["msg"])
                for m in map(ERROR.match, run.stderr.splitlines()) if m]


def _generated(plan: Plan, typed_fidelity: bool) -> tuple[tuple[str, str], ...]:
    """The files the JIT build generates for one program (genfiles), from its plan: every CB's data
    format and tile size, the ComputeConfig and the compute kernel's defines. `typed_fidelity`:
    the release's tt-llk has `enum class MathFidelity` (0.81), which MATH_FIDELITY then is."""
    formats = [UNUSED] * 32
    for cb in plan.cbs:
        formats[cb.index] = DATA_FORMATS[cb.format]
    names = {v: k for k, v in DATA_FORMATS.items()}
    sizes = [TILE_BYTES.get(names.get(f, ""), 2048) for f in formats]
    row = lambda xs: ", ".join(map(str, xs))

    def data_format(prefix: str, ctype: str) -> str:
        return (f"#pragma once\n#include <cstdint>\nconstexpr {ctype} {prefix}_src_format[32] = {{{row(formats)}}};\n"
                f"constexpr {ctype} {prefix}_dst_format[32] = {{{row(formats)}}};\n")

    def tile_dims(prefix: str) -> str:
        dims = (("uint8_t", "tile_num_faces", 4), ("uint8_t", "partial_face", 0), ("uint8_t", "tile_face_r_dim", 16),
                ("uint8_t", "narrow_tile", 0), ("uint8_t", "tile_r_dim", 32), ("uint8_t", "tile_c_dim", 32),
                ("uint8_t", "num_faces_r_dim", 2), ("uint8_t", "num_faces_c_dim", 2))
        return ("#pragma once\n#include <cstdint>\n"
                + "".join(f"constexpr {t} {prefix}_{n}[32] = {{{row([v] * 32)}}};\n" for t, n, v in dims)
                + f"constexpr uint16_t {prefix}_tile_size[32] = {{{row(sizes)}}};\n")

    c = plan.compute
    fidelity = {"LoFi": 0, "HiFi2": 2, "HiFi3": 3, "HiFi4": 4}[c.math_fidelity]
    assert c.math_fidelity in MATH_FIDELITIES
    defines = "".join(f"#define {k} {v}\n" for k, v in c.defines)
    files = (("chlkc_unpack_data_format.h", data_format("unpack", "std::int32_t")),
            ("chlkc_pack_data_format.h", data_format("pack", "unsigned char")),
            ("chlkc_unpack_tile_dims.h", tile_dims("unpack")), ("chlkc_pack_tile_dims.h", tile_dims("pack")),
            ("chlkc_dst_accum_mode.h", f"#pragma once\nconstexpr bool DST_ACCUM_MODE = "
                                       f"{str(c.fp32_dest_acc_en).lower()};\n"),
            ("chlkc_dst_sync_mode.h", "#pragma once\n#define DST_SYNC_MODE DstSync::SyncHalf\n"),
            ("chlkc_math_fidelity.h", "#pragma once\n#include <cstdint>\n" + (
                f'#include "llk_defs.h"\nconstexpr ckernel::MathFidelity MATH_FIDELITY = '
                f"ckernel::MathFidelity::{c.math_fidelity};\n"
                if typed_fidelity else f"constexpr std::int32_t MATH_FIDELITY = {fidelity};\n")),
            ("chlkc_math_approx_mode.h", "#pragma once\nconstexpr bool APPROX = false;\n"),
            ("defines_generated.h", "#pragma once\n" + defines))
    # 0.81 on: one header, chlkc_descriptors.h, holds them all
    return files + (("chlkc_descriptors.h", "".join(f'#include "{f}"\n' for f, _ in files[:-1])),)
