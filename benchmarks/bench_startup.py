"""`nanott explain examples/gemm.py --stop-after D3`, cold, against issue 12's target (under 0.5 s
wall on an idle core), and where the time goes, in one run:

  each line is a fresh process (the cold case: nothing imported, nothing cached but Python's
  bytecode, which this script compiles first), run --repeat times: the minimum and the median of
  its CPU time (user + system, all threads) and of its wall time. The lines' runs are interleaved
  (one of each, then again), so a load that comes and goes weighs on every line alike. The machine
  may be shared: wall time under load says little; the CPU minimum is the figure an idle core would
  show as wall time, give or take process start.

  python                 the interpreter alone
  import numpy           NumPy (with its BLAS, which starts its thread pool here)
  import nanott.cli      the compiler's command line: Typer, the passes, languages, interpreters
  typer's adapters       what Typer 0.29 would add when it parses a command line: it imports pydantic
                         and builds a TypeAdapter per parameter (nanott/cli_coerce.py spares the
                         command both: this line is what that saves)
  explain --no-check     the `nanott` command: parse, the passes to D3, printing; no checker, no numerics
  explain                the same with the checkers and the numeric check of every stage
  explain, default GC    the same through nanott.cli's app, without nanott/command.py's collector
                         settings (the baseline of that change, in the same run; one BLAS thread,
                         as the command runs it)
  explain, BLAS threads  the command with OPENBLAS_NUM_THREADS set to the CPU count (NumPy's default,
                         which `nanott explain` no longer takes unless told): OpenBLAS's worker
                         threads spin after each product, CPU time an idle machine spends on another core
  --baseline DIR         also `python -m nanott explain ...` run in another checkout DIR (say, a git
                         worktree of main; `-m` puts the current folder first on the path) beside
                         this one's, and the ratio of their CPU minima
  --baseline-rev REV     the same against a git revision of this repository (say, main before a
                         change), unpacked with `git archive` into a temporary folder for the run
  --instructions         also count the instructions each explain line executes, once, under
                         valgrind's callgrind (about 100x slower): a figure other processes on the
                         machine do not change, and the ratio of each to the command's

    python benchmarks/bench_startup.py [--repeat N] [--baseline DIR | --baseline-rev REV] [--instructions]
"""
from __future__ import annotations

import argparse
import compileall
import os
import re
import shutil
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET = 0.5
EXPLAIN = ["explain", "examples/gemm.py", "--stop-after", "D3"]
ONE_THREAD = {"OPENBLAS_NUM_THREADS": "1"}


def fresh(args: list[str], env: dict, cwd: Path = ROOT) -> tuple[float, float]:
    """(CPU s, wall s) of one fresh process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(args, stdout=subprocess.DEVNULL, check=True, cwd=cwd, env=env)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), wall


def measure(lines: dict[str, tuple[list[str], dict, Path]], repeat: int) -> dict[str, tuple[float, float, float, float]]:
    """(CPU min, CPU median, wall min, wall median) of each line over `repeat` rounds of fresh
    processes, one of each line per round."""
    runs: dict[str, list[tuple[float, float]]] = {name: [] for name in lines}
    for _ in range(repeat):
        for name, (args, env, cwd) in lines.items():
            runs[name].append(fresh(args, {**os.environ, **env}, cwd))
    return {name: (min(c for c, _ in r), statistics.median(c for c, _ in r),
                   min(w for _, w in r), statistics.median(w for _, w in r)) for name, r in runs.items()}


def instructions(args: list[str], env: dict, cwd: Path) -> int:
    """The instructions one fresh process executes (valgrind's callgrind count)."""
    with tempfile.TemporaryDirectory() as out:
        r = subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}/cg", *args], cwd=cwd,
                           env={**os.environ, **env, **ONE_THREAD}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                           text=True, check=True)
    return int(re.search(r"Collected : (\d+)", r.stderr)[1])


def row(name: str, m: tuple[float, float, float, float], note: str = "") -> None:
    print(f"  {name:<30} CPU {m[0]:.3f} / {m[1]:.3f} s   wall {m[2]:.3f} / {m[3]:.3f} s  {note}")


def verdict(m: tuple[float, float, float, float]) -> str:
    return f"{'met' if m[0] < TARGET else 'MISSED'} by the CPU minimum"


def report(repeat: int, baseline: Path | None = None, count: bool = False) -> None:
    py, nanott = sys.executable, str(Path(sys.executable).parent / "nanott")
    compileall.compile_dir(ROOT / "nanott", quiet=1)          # the bytecode a first run would write
    env = {"PYTHONDONTWRITEBYTECODE": ""}
    lines = {
        "python": ([py, "-c", "pass"], env, ROOT),
        "import numpy": ([py, "-c", "import numpy"], env, ROOT),
        "import nanott.cli": ([py, "-c", "import nanott.cli"], env, ROOT),
        "  + typer's pydantic adapters": ([py, "-c", "import nanott.cli, typer._adapters"], env, ROOT),
        "explain --no-check": ([nanott, *EXPLAIN, "--no-check"], env, ROOT),
        "explain (checked)": ([nanott, *EXPLAIN], env, ROOT),
        "explain, default GC": ([py, "-c", "from nanott.cli import app; app(prog_name='nanott')", *EXPLAIN],
                                {**env, **ONE_THREAD}, ROOT),
        "explain, BLAS threads": ([nanott, *EXPLAIN], {**env, "OPENBLAS_NUM_THREADS": str(os.cpu_count())}, ROOT),
    }
    if baseline is not None:
        compileall.compile_dir(baseline / "nanott", quiet=1)
        for name, root in (("this checkout", ROOT), ("baseline", baseline.resolve())):
            lines[f"-m nanott, 1 thread, {name}"] = ([py, "-m", "nanott", *EXPLAIN], {**env, **ONE_THREAD}, root)
    print(f"startup, cold (min / median of {repeat} fresh processes, interleaved); load average "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    m = measure(lines, repeat)
    for name in ("python", "import numpy", "import nanott.cli"):
        row(name, m[name])
    extra = m["  + typer's pydantic adapters"][0] - m["import nanott.cli"][0]
    row("  + typer's pydantic adapters", m["  + typer's pydantic adapters"], f"(+{extra:.3f} s CPU before any parameter)")
    row("explain --no-check", m["explain --no-check"])
    full, plain = m["explain (checked)"], m["explain, default GC"]
    row("explain (checked)", full, f"target < {TARGET} s wall on an idle core: {verdict(full)}; "
        f"the numeric checks {full[0] - m['explain --no-check'][0]:.3f} s CPU")
    row("explain, default GC", plain, f"(the command's GC settings save {plain[0] - full[0]:+.3f} s CPU, "
        f"x{plain[0] / full[0]:.2f})")
    threads = m["explain, BLAS threads"]
    row("explain, BLAS threads", threads, f"(one thread saves {threads[0] - full[0]:+.3f} s CPU)")
    if baseline is not None:
        ours, theirs = m["-m nanott, 1 thread, this checkout"], m["-m nanott, 1 thread, baseline"]
        row("-m nanott, 1 thread, here", ours, verdict(ours))
        row(f"-m nanott, 1 thread, {baseline.name}", theirs,
            f"(baseline; this checkout takes x{ours[0] / theirs[0]:.2f} of its CPU minimum, "
            f"x{ours[1] / theirs[1]:.2f} of its median)")
    if count and shutil.which("valgrind"):
        print("instructions executed (callgrind, one run each; OPENBLAS_NUM_THREADS=1)")
        counted = {name: instructions(*line) for name, line in lines.items()
                   if name.startswith(("explain (", "explain, default", "-m nanott"))}
        ours = counted["explain (checked)"]
        for name, n in counted.items():
            print(f"  {name:<30} {n / 1e9:.3f} G   x{n / ours:.3f} of the command's")


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--repeat", type=int, default=7)
    p.add_argument("--baseline", type=Path, help="another checkout of nanott to time beside this one")
    p.add_argument("--baseline-rev", help="a git revision of this repository to time beside this checkout")
    p.add_argument("--instructions", action="store_true", help="count instructions under callgrind too")
    args = p.parse_args()
    if args.baseline_rev is None:
        report(args.repeat, args.baseline, args.instructions)
        return
    with tempfile.TemporaryDirectory() as folder:       # the revision's files, as `git archive` gives them
        rev = Path(folder) / args.baseline_rev.replace("/", "_")
        rev.mkdir()
        tar = subprocess.run(["git", "archive", args.baseline_rev], cwd=ROOT, capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", str(rev)], input=tar, check=True)
        report(args.repeat, rev, args.instructions)


if __name__ == "__main__":
    main()
