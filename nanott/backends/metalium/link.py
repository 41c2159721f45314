"""main.cpp linked against a release's real `libtt_metal.so`: every host call must resolve.

The ttnn wheels ship the library but not the host headers (`tt-metalium/*.hpp`), so main.cpp is
compiled against nanott's own host headers (runtime/include, which declare the real signatures of
the release the plan names, NANOTT_TT_METAL_MINOR) and the object is linked against the wheel's
library. A host call whose mangled name the library does not export (a wrong parameter type, a
missing const, another namespace, an overload the release does not have) is an undefined
reference: a real mismatch.

What tt-metal defines inline in its headers is not exported (MeshBuffer::address, the templates
EnqueueWriteMeshBuffer and EnqueueReadMeshBuffer). nanott's headers define these inline too; the
templates move bytes through the CPU runtime (namespace nanott_cpu), whose symbols are then
undefined here: artefacts of the stand-in headers, reported apart. The check's limit: a call
that is inline in both cannot be checked by linking (its body in nanott's headers is not the real
one); nanott's headers keep inline only what is inline in tt-metal.
"""
from __future__ import annotations

import re
import subprocess
import tempfile
from pathlib import Path

from nanott.backends.metalium.build import INCLUDE, host_defines
from nanott.backends.metalium.jit import Error, Outcome
from nanott.backends.metalium.plan import Plan
from nanott.backends.metalium.wheels import Layout

UNDEFINED = re.compile(r"undefined reference to `(?P<symbol>[^']+)'")
STANDIN = "nanott_cpu::"        # the CPU runtime's own namespace: never a tt-metal symbol
FLAGS = ("-std=c++20", "-w", f"-I{INCLUDE}")


def link(layout: Layout, out: Path, plan: Plan) -> Outcome:
    """Compile `out/main.cpp` and link it against the release's libtt_metal.so; what does not resolve."""
    what = f"ttnn {layout.release}: main.cpp linked against libtt_metal.so"
    with tempfile.TemporaryDirectory(prefix="nanott-link-") as tmp:
        obj = Path(tmp) / "main.o"
        compiled = subprocess.run(["g++", *FLAGS, *host_defines(out, plan), "-c", str(out / "main.cpp"),
                                   "-o", str(obj)], capture_output=True, text=True)
        if compiled.returncode:
            return Outcome(what, (Error("main.cpp", 0, compiled.stderr.strip()[-2000:]),), ())
        libs = [f"-L{d}" for d in layout.libraries] + [f"-Wl,-rpath-link,{d}" for d in layout.libraries]
        linked = subprocess.run(["g++", str(obj), "-o", str(Path(tmp) / "main"), *libs, "-ltt_metal",
                                 "-Wl,--allow-shlib-undefined"], capture_output=True, text=True)
    symbols = sorted({m["symbol"] for m in UNDEFINED.finditer(linked.stderr)})
    if linked.returncode and not symbols:
        return Outcome(what, (Error("main.o", 0, linked.stderr.strip()[-2000:]),), ())
    errors = [Error("main.o", 0, f"undefined reference to {s}") for s in symbols]
    return Outcome(what, tuple(e for e in errors if STANDIN not in e.message),
                   tuple(e for e in errors if STANDIN in e.message), "nanott's stand-in host headers")
