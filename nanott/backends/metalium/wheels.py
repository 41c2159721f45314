"""tt-metal as users install it: the ttnn wheels of PyPI, fetched with pip, cached, and unpacked.

nanott targets the releases in RELEASES (api.py has one API table per release). Each ttnn wheel
ships the device side of its tt-metal: the kernel headers (`tt_metal/hw/inc`, the compute API),
tt-llk, the firmware sources the JIT build compiles kernels into, and `libtt_metal.so`. The
real-header tier (`make test-metal`, tests/metal) compiles every emitted kernel against them.

`fetch(release)` runs `pip download ttnn==R --no-deps` for the wheel of CPython 3.10 on
manylinux_2_34 x86_64 (the one tag every release ships) into CACHE (`~/.cache/nanott/wheels`, or
$NANOTT_WHEEL_CACHE), outside the repository: nothing of a wheel is ever committed. `unpack`
extracts the parts the checks read (about 90-300 MB a release) once. A release PyPI does not
have raises Unavailable with pip's words: that release is blocked, never faked.

`Layout` finds the directories the JIT build puts on the include path; they moved between
releases (tt-llk under third_party/ or at tt-llk/, internal headers under hw/inc/internal/ or
hw/inc/), so each is the first candidate that exists.
"""
from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

RELEASES = ("0.65.0", "0.66.0", "0.81.1")
CACHE = Path(os.environ.get("NANOTT_WHEEL_CACHE", Path.home() / ".cache" / "nanott" / "wheels"))
TAGS = ("--python-version", "3.10", "--platform", "manylinux_2_34_x86_64", "--only-binary=:all:")
PARTS = ("ttnn/tt_metal/", "ttnn/build/lib/", "ttnn.libs/")
ARCH = "wormhole_b0"


class Unavailable(Exception):
    """pip could not download the wheel of a release: the release is blocked, not checked."""


def wheel(release: str) -> Path:
    """The cached wheel of `release`, downloaded with pip when missing."""
    found = sorted(CACHE.glob(f"ttnn-{release}-*.whl"))
    if found:
        return found[0]
    CACHE.mkdir(parents=True, exist_ok=True)
    run = subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "-q", *TAGS, "-d", str(CACHE),
                          f"ttnn=={release}"], capture_output=True, text=True)
    found = sorted(CACHE.glob(f"ttnn-{release}-*.whl"))
    if run.returncode or not found:
        raise Unavailable(f"ttnn {release} is not available from PyPI here: {run.stderr.strip()[-400:]}")
    return found[0]


def unpack(release: str) -> Path:
    """The unpacked tree of `release` (its `ttnn/` folder), extracting it once."""
    root = CACHE / f"ttnn-{release}"
    done = root / ".unpacked"
    if not done.exists():
        with zipfile.ZipFile(wheel(release)) as z:
            z.extractall(root, [n for n in z.namelist() if n.startswith(PARTS)])
        done.touch()
    return root / "ttnn"


@dataclass(frozen=True)
class Layout:
    """Where one unpacked release keeps what the JIT build reads (docs/reference.md §4.1)."""
    release: str
    root: Path                      # the wheel's ttnn/ folder

    @classmethod
    def of(cls, release: str) -> Layout:
        return cls(release, unpack(release))

    def first(self, *candidates: str) -> Path:
        for c in candidates:
            if (self.root / c).exists():
                return self.root / c
        raise Unavailable(f"ttnn {self.release} has none of {candidates}")

    @cached_property
    def llk(self) -> Path:
        return self.first(f"tt_metal/third_party/tt_llk/tt_llk_{ARCH}", f"tt_metal/tt-llk/tt_llk_{ARCH}")

    @cached_property
    def hw_inc(self) -> Path:
        """hw/inc/internal (0.66 on) or hw/inc (0.65): where tt-1xx/ lives."""
        return self.first("tt_metal/hw/inc/internal/tt-1xx", "tt_metal/hw/inc/tt-1xx").parent

    def firmware(self, name: str) -> Path:
        return self.first(f"tt_metal/hw/firmware/src/tt-1xx/{name}", f"tt_metal/hw/firmware/src/{name}")

    @cached_property
    def includes(self) -> tuple[Path, ...]:
        """The include path of a Tensix kernel build, data movement and compute alike."""
        m, ck = self.root / "tt_metal", self.root / f"tt_metal/hw/ckernels/{ARCH}/metal"
        wh = self.hw_inc / "tt-1xx" / "wormhole"
        dirs = [self.root, m, m / "include", m / "hw/inc", m / "api", m / "hostdevcommon/api",
                self.hw_inc, self.hw_inc / "tt-1xx", wh, wh / "wormhole_b0_defines", wh / "noc",
                m / "hw/inc/debug", ck / "common", ck / "llk_io", ck / "llk_api", ck / "llk_api/llk_sfpu",
                self.llk / "common/inc", self.llk / "common/inc/sfpu", self.llk / "llk_lib", self.llk.parent / "common",
                self.llk.parent / "tools/include",
                self.firmware("brisck.cc").parent]
        return tuple(d for d in dirs if d.is_dir())

    @cached_property
    def simple_compute_syntax(self) -> bool:
        """Whether the release's JIT build accepts `void kernel_main()` in a compute kernel (0.66 on:
        its genfiles wraps it; 0.65 wants `namespace NAMESPACE { void MAIN }`). Read from the
        library's own strings, where the JIT build's source templates live."""
        lib = self.first("build/lib/libtt_metal.so").read_bytes()
        return b"void kernel_main() {" in lib or b"kernel_main_pattern" in lib

    @cached_property
    def typed_fidelity(self) -> bool:
        """Whether tt-llk types MATH_FIDELITY as `enum class MathFidelity` (0.81 on)."""
        return "enum class MathFidelity" in (self.llk / "llk_lib/llk_defs.h").read_text()

    @cached_property
    def libraries(self) -> tuple[Path, ...]:
        """Where libtt_metal.so and the libraries it needs are."""
        return tuple(d for d in (self.root / "build/lib", self.root.parent / "ttnn.libs") if d.is_dir())
