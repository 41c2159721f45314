"""Building an emitted program with g++ against nanott's CPU implementation of the Metalium API.

`build(out, plan)` compiles, with `g++ -std=c++20 -pthread`, and links into `out/build/<kernel>`:

  the runtime   runtime/src/*.cpp, once per content: the objects are cached in `runtime_cache`
                (default: the user's cache, `$NANOTT_CACHE` or `$XDG_CACHE_HOME/nanott` or
                `~/.cache/nanott`, shared by every checkout) under a key hashing the runtime's
                files, the compiler and the flags, so a second build, of this program or another,
                in this checkout or another, reuses them;
  each kernel   reader.cpp, compute.cpp, writer.cpp, each once, as one translation unit named
                for its role (-DNANOTT_KERNEL=reader -Dkernel_main=nanott_kernel_main_reader), with
                its compile-time arguments from the plan (-DKERNEL_COMPILE_TIME_ARGS=...), the
                compute kernel with UNPACK, MATH and PACK all enabled: one thread runs all three;
  the host      main.cpp, with NANOTT_KERNEL_DIR naming `out` (CreateKernel finds the kernels by
                their file names there) and NANOTT_TT_METAL_MINOR the plan's release, which every
                kernel is compiled with too (0.65's headers differ from 0.66's).

Emitted files compile with warnings as errors: the generated code is meant to be clean. Compiles
run in parallel, one per CPU; `progress` hears about each step. A failed compile or link raises
BuildError with the compiler's complaint.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Callable

from nanott.backends.metalium.plan import KernelRecord, Plan, SequencePlan

RUNTIME = Path(__file__).resolve().parent / "runtime"
INCLUDE = RUNTIME / "include"
COMMON = ("-std=c++20", "-pthread", f"-I{INCLUDE}")
RUNTIME_FLAGS = ("-O2", "-Wall", "-Wextra")
PROGRAM_FLAGS = ("-O1", "-Wall", "-Wextra", "-Wno-missing-field-initializers", "-Werror")
TRISCS = ("-DTRISC_UNPACK", "-DTRISC_MATH", "-DTRISC_PACK")

Progress = Callable[[str], None]


class BuildError(Exception):
    """g++ is missing, or a compile or link failed (the message holds the compiler's output)."""


def compiler() -> str:
    gxx = shutil.which(os.environ.get("CXX", "g++"))
    if gxx is None:
        raise BuildError("no C++ compiler: install g++ (12 or newer), or set CXX")
    return gxx


def user_cache() -> Path:
    """Where the runtime's objects are kept for every checkout of this user."""
    if os.environ.get("NANOTT_CACHE"):
        return Path(os.environ["NANOTT_CACHE"])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "nanott"


def build(out: Path, plan: Plan | SequencePlan, runtime_cache: Path | None = None,
          progress: Progress = lambda _: None) -> Path:
    """Compile the runtime (or reuse it), the three kernels and main.cpp of `out`; link; the executable."""
    gxx, work = compiler(), out / "build"
    work.mkdir(parents=True, exist_ok=True)
    runtime = runtime_objects(gxx, runtime_cache or user_cache(), progress)
    kernels = [(k, p) for p in plan.programs() for k in p.kernels]
    jobs = [(f"{k.source}", kernel_command(gxx, out / k.source, work / f"{stem(k)}.o", k.role, k.compile_args,
                                              p.compute.defines, stem(k), minor(plan)))
            for k, p in kernels]
    host = [gxx, *COMMON, *PROGRAM_FLAGS, *host_defines(out, plan), "-c", str(out / "main.cpp"),
            "-o", str(work / "main.o")]
    progress(f"compiling {', '.join(label for label, _ in jobs)} and main.cpp")
    run_all(jobs + [("main.cpp", host)])
    exe = work / plan.kernel
    progress(f"linking {exe}")
    objects = [str(work / f"{stem(k)}.o") for k, _ in kernels] + [str(work / "main.o")]
    run_all([("link", [gxx, "-pthread", *objects, *map(str, runtime), "-o", str(exe)])])
    return exe


def host_defines(out: Path, plan: Plan | SequencePlan) -> list[str]:
    """main.cpp's defines: where its kernels are, and which release's host declarations it meets
    (tt-metalium/host_api.hpp reads NANOTT_TT_METAL_MINOR: the overloads changed in 0.81)."""
    return [f'-DNANOTT_KERNEL_DIR="{out.resolve()}"', f"-DNANOTT_TT_METAL_MINOR={minor(plan)}"]


def minor(plan: Plan | SequencePlan) -> int:
    """The release's minor version (65, 66, 81): the headers pick the release's declarations by it
    (host_api.hpp's CreateKernel overloads, 0.65's matmul_tiles and typecast_tile_init)."""
    return int(plan.api.split(".")[1])


def stem(k: KernelRecord) -> str:
    """A kernel's name: its file's stem (`reader`; `launch1_reader` in a program of several
    launches), under which it registers and CreateKernel finds it."""
    return Path(k.source).stem


def kernel_command(gxx: str, source: Path, obj: Path, role: str, compile_args: tuple[int, ...],
                   defines: tuple[tuple[str, str], ...] = (), name: str | None = None,
                   release_minor: int | None = None) -> list[str]:
    """One kernel, compiled once, its entry point renamed for its name (its role, unless given;
    nanott_cpu/kernel.h); the compute kernel with the plan's ComputeConfig.defines, as tt-metal's
    JIT build passes them."""
    name = name or role
    flags = [f"-DNANOTT_KERNEL={name}", f"-Dkernel_main=nanott_kernel_main_{name}"]
    if release_minor is not None:
        flags.append(f"-DNANOTT_TT_METAL_MINOR={release_minor}")
    if compile_args:
        flags.append("-DKERNEL_COMPILE_TIME_ARGS=" + ",".join(map(str, compile_args)))
    if role == "compute":
        flags += TRISCS
        flags += [f"-D{name}={value}" for name, value in defines]
    return [gxx, *COMMON, *PROGRAM_FLAGS, *flags, "-c", str(source), "-o", str(obj)]


def runtime_key(gxx: str) -> str:
    """A hash of everything the runtime's objects depend on: its files, the compiler, the flags."""
    h = hashlib.sha256()
    version = subprocess.run([gxx, "--version"], capture_output=True, text=True).stdout
    h.update("\0".join([version, *COMMON[:2], *RUNTIME_FLAGS]).encode())
    for f in sorted(p for p in RUNTIME.rglob("*") if p.is_file()):
        h.update(str(f.relative_to(RUNTIME)).encode() + b"\0" + f.read_bytes())
    return h.hexdigest()[:16]


def runtime_objects(gxx: str, cache: Path, progress: Progress) -> list[Path]:
    """The runtime's object files, compiled into `cache/runtime-<key>/` unless they are there."""
    sources = sorted((RUNTIME / "src").glob("*.cpp"))
    done = cache / f"runtime-{runtime_key(gxx)}"
    if not (done / "complete").exists():
        progress(f"compiling nanott's CPU runtime ({len(sources)} files, once; kept in {done})")
        tmp = cache / f"{done.name}.tmp{os.getpid()}"
        tmp.mkdir(parents=True, exist_ok=True)
        run_all([(s.name, [gxx, *COMMON, *RUNTIME_FLAGS, "-c", str(s), "-o", str(tmp / f"{s.stem}.o")])
                 for s in sources])
        (tmp / "complete").write_text("")
        try:
            tmp.rename(done)
        except OSError:                     # another build finished first: use its objects
            shutil.rmtree(tmp, ignore_errors=True)
    return [done / f"{s.stem}.o" for s in sources]


def run_all(jobs: list[tuple[str, list[str]]]) -> None:
    """Run the commands, one per CPU at a time; BuildError naming each that failed."""
    def one(job: tuple[str, list[str]]) -> str | None:
        label, command = job
        r = subprocess.run(command, capture_output=True, text=True)
        return f"{label}: {' '.join(command)}\n{r.stdout}{r.stderr}" if r.returncode else None

    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        failed = [f for f in pool.map(one, jobs) if f]
    if failed:
        raise BuildError("the C++ build failed:\n" + "\n".join(failed))
