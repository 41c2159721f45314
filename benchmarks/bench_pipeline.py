"""How long nanott takes: each stage (pass + checker) and each level's interpreter, on
examples/gemm.py's factory at two sizes, with the machine it ran on.

    python benchmarks/bench_pipeline.py
"""
from __future__ import annotations

import os
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from nanott import api, pipeline                      # noqa: E402
from nanott.loader import load_kernel                 # noqa: E402

SIZES = [dict(M=256, N=256, K=256, block_M=64, block_N=64, block_K=32),
         dict(M=512, N=512, K=512, block_M=64, block_N=64, block_K=32)]


def ms(seconds: float) -> str:
    return f"{seconds * 1e3:9.1f}"


def bench(sizes: dict) -> tuple[dict[str, float], dict[str, float]]:
    loaded = load_kernel(ROOT / "examples" / "gemm.py", kernel="matmul", sets={k: str(v) for k, v in sizes.items()})
    stage_times, programs = {}, {}
    start = time.perf_counter()
    for s, program in pipeline.run_stages(loaded.prim_func, "G1"):
        now = time.perf_counter()
        stage_times[s.id], programs[s.id], start = now - start, program, now
    inputs = api.random_inputs(programs["P0"], seed=0)
    level_times = {}
    for level in pipeline.LANGUAGES:
        program = programs[api.stage_for_level(level).id]
        start = time.perf_counter()
        api.simulate(program, level, inputs)
        level_times[level] = time.perf_counter() - start
    return stage_times, level_times


def main() -> None:
    print(f"machine: {platform.platform()}, {platform.machine()}, {os.cpu_count()} cpus, "
          f"Python {platform.python_version()}")
    bench(SIZES[0])                  # warm-up: the first run pays for importing every pass and interpreter
    results = [bench(sizes) for sizes in SIZES]
    names = [f"{s['M']}x{s['N']}x{s['K']}" for s in SIZES]
    print(f"\n{'stage (pass + check)':32}" + "".join(f"{n:>12}" for n in names) + f"{'ratio':>8}   (ratio: larger size / smaller)")
    for s in pipeline.PIPELINE:
        a, b = (r[0][s.id] for r in results)
        print(f"{s.id + ' ' + s.name:32}{ms(a):>12}{ms(b):>12}{b / a:8.1f}")
    print(f"\n{'interpreter run':32}" + "".join(f"{n:>12}" for n in names) + f"{'ratio':>8}")
    for level in pipeline.LANGUAGES:
        a, b = (r[1][level] for r in results)
        print(f"{level:32}{ms(a):>12}{ms(b):>12}{b / a:8.1f}")
    totals = [sum(r[0].values()) + sum(r[1].values()) for r in results]
    print(f"\n{'total (ms)':32}{ms(totals[0]):>12}{ms(totals[1]):>12}{totals[1] / totals[0]:8.1f}")


if __name__ == "__main__":
    main()
