"""`nanott explain examples/gemm.py --stop-after D3`, cold, against issue 12's target (under 0.5 s
wall on an idle core), and where the time goes, in one run:

  each line is a fresh process (the cold case: nothing imported, nothing cached but Python's
  bytecode), run --repeat times: the minimum and the median of its CPU time (user + system, all
  threads) and of its wall time. The machine is shared, so wall time under load says little; the
  CPU minimum is the figure an idle core would show as wall time, give or take process start.

  python                 the interpreter alone
  import numpy           NumPy (with its BLAS, which starts its thread pool here)
  import nanott.cli      the compiler, every language, pass and interpreter, Typer
  typer's adapters       what Typer 0.29 adds when it parses a command line: it imports pydantic and
                         builds a TypeAdapter per parameter
  explain --no-check     parse, the passes to D3, printing; no checker, no numerics
  explain                the same with the checkers and the numeric check of every stage
  explain, 1 BLAS thread the same with OPENBLAS_NUM_THREADS=1: OpenBLAS's worker threads spin
                         after each product, CPU time that an idle machine spends on another core

    python benchmarks/bench_startup.py [--repeat N]
"""
from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET = 0.5
EXPLAIN = ["explain", "examples/gemm.py", "--stop-after", "D3"]


def fresh(args: list[str], env: dict | None = None) -> tuple[float, float]:
    """(CPU s, wall s) of one fresh process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(args, stdout=subprocess.DEVNULL, check=True, cwd=ROOT, env=env)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), wall


def measure(args: list[str], repeat: int, env: dict | None = None) -> tuple[float, float, float, float]:
    """(CPU min, CPU median, wall min, wall median) over `repeat` fresh processes."""
    runs = [fresh(args, env) for _ in range(repeat)]
    cpu, wall = [r[0] for r in runs], [r[1] for r in runs]
    return min(cpu), statistics.median(cpu), min(wall), statistics.median(wall)


def row(name: str, m: tuple[float, float, float, float], note: str = "") -> None:
    print(f"  {name:<28} CPU {m[0]:.3f} / {m[1]:.3f} s   wall {m[2]:.3f} / {m[3]:.3f} s  {note}")


def report(repeat: int) -> None:
    py, nanott = sys.executable, str(Path(sys.executable).parent / "nanott")
    print(f"startup, cold (min / median of {repeat} fresh processes); load average "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    row("python", measure([py, "-c", "pass"], repeat))
    row("import numpy", measure([py, "-c", "import numpy"], repeat))
    cli = measure([py, "-c", "import nanott.cli"], repeat)
    row("import nanott.cli", cli)
    adapters = measure([py, "-c", "import nanott.cli, typer._adapters"], repeat)
    row("  + typer's pydantic adapters", adapters, f"(+{adapters[0] - cli[0]:.3f} s CPU before any parameter)")
    row("explain --no-check", measure([nanott, *EXPLAIN, "--no-check"], repeat))
    full = measure([nanott, *EXPLAIN], repeat)
    row("explain (checked)", full, f"target < {TARGET} s wall on an idle core: "
        f"{'met' if full[0] < TARGET else 'MISSED'} by the CPU minimum")
    one = measure([nanott, *EXPLAIN], repeat, {**os.environ, "OPENBLAS_NUM_THREADS": "1"})
    row("explain, 1 BLAS thread", one, f"{'met' if one[0] < TARGET else 'MISSED'}")


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--repeat", type=int, default=7)
    report(p.parse_args().repeat)


if __name__ == "__main__":
    main()
