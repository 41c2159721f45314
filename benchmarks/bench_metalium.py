"""How long G1 and the C++ side take for examples/gemm.py: emission (the pipeline to F1, then G1
alone), the g++ build against nanott's CPU runtime (the runtime itself, once, then the program:
three kernels, main.cpp and the link) and the run on the CPU, with the machine it ran on.

    python benchmarks/bench_metalium.py [--sizes 256,512]
"""
from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from nanott import api, pipeline                                        # noqa: E402
from nanott.backends.metalium import build as cpp                       # noqa: E402
from nanott.backends.metalium.execute import run_program, write_files   # noqa: E402
from nanott.backends.metalium.plan import Plan                          # noqa: E402
from nanott.loader import load_kernel                                   # noqa: E402
from nanott.passes.g1_emit_metalium import emit_metalium                # noqa: E402
from nanott.target import DEFAULT_TARGET                                # noqa: E402


def timed(f, *args, **kwargs):
    start = time.perf_counter()
    result = f(*args, **kwargs)
    return result, time.perf_counter() - start


def machine() -> str:
    gxx = subprocess.run([cpp.compiler(), "--version"], capture_output=True, text=True).stdout.splitlines()[0]
    return (f"machine: {platform.platform()}, {platform.machine()}, {os.cpu_count()} cpus, "
            f"Python {platform.python_version()}, {gxx}")


def bench(n: int, work: Path, runtime_cache: Path) -> dict[str, float]:
    sizes = dict(M=n, N=n, K=n, block_M=64, block_N=64, block_K=32)
    loaded = load_kernel(ROOT / "examples" / "gemm.py", kernel="matmul",
                         sets={k: str(v) for k, v in sizes.items()})
    program, to_f1 = timed(pipeline.lower, loaded.prim_func, "F1")
    files, g1 = timed(emit_metalium, program, DEFAULT_TARGET)
    out = work / f"gemm_{n}"
    write_files(out, files)
    plan = Plan.from_json(files["tt.plan.json"])
    exe, built = timed(cpp.build, out, plan, runtime_cache)
    kernel = pipeline.lower(loaded.prim_func, "P0")
    inputs = api.random_inputs(kernel, 0)
    outputs, ran = timed(run_program, out, exe, plan, inputs, DEFAULT_TARGET)
    expected = api.expected_outputs(loaded, kernel, inputs)
    err = max(api.max_rel_error(outputs[k], v) for k, v in expected.items())
    return {"pipeline P0..F1": to_f1, "G1 emission": g1, "C++ build of the program": built,
            "run on the CPU runtime": ran, "max rel err": err, "cores": len(plan.cores)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="256,512", help="M = N = K of the GEMMs, comma-separated")
    sizes = [int(s) for s in parser.parse_args().sizes.split(",")]
    print(machine())
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        runtime_cache = work / "runtime"
        gxx = cpp.compiler()
        _, cold = timed(cpp.runtime_objects, gxx, runtime_cache, lambda _: None)
        _, warm = timed(cpp.runtime_objects, gxx, runtime_cache, lambda _: None)
        bench(64, work, runtime_cache)     # warm-up: the first lowering pays for importing every pass
        print(f"\nCPU runtime ({len(list((cpp.RUNTIME / 'src').glob('*.cpp')))} files, -O2): compiled in "
              f"{cold:.2f} s; found in the cache in {warm:.3f} s")
        results = [bench(n, work, runtime_cache) for n in sizes]
    names = [f"{n}^3 ({r['cores']} cores)" for n, r in zip(sizes, results)]
    print(f"\n{'examples/gemm.py':28}" + "".join(f"{n:>22}" for n in names))
    for key in ("pipeline P0..F1", "G1 emission", "C++ build of the program", "run on the CPU runtime"):
        print(f"{key:28}" + "".join(f"{r[key]:>20.3f} s" for r in results))
    print(f"{'max rel err vs NumPy':28}" + "".join(f"{r['max rel err']:>22.2e}" for r in results))


if __name__ == "__main__":
    main()
