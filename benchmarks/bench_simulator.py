"""Issue 12's figures in one run, each beside its baseline and target:

  startup     `nanott explain examples/gemm.py --stop-after D3` cold and its parts (fresh processes,
              wall and CPU: benchmarks/bench_startup.py); P0..F1 on the GEMM example (CPU, checks on)
  speed       1024^3 GEMM: L9 (lockstep) and L0 against NumPy's fp32 A @ B, one thread each;
              the reference InterpL9 on 512^3 for scale; 4096^3 at L9 timed, CPU and peak memory
  time        the modelled 1024^3 and 4096^3 GEMM on Wormhole n150 beside the ideal-cycles bound;
              `nanott run --stats --trace` on every example (modelled duration, bound, trace events)
  peer        tt-lang-sim 1.1.6 on the four problems of the issue (benchmarks/peer_ttlang.py),
              installed in a throwaway virtualenv outside the repository, against nanott.run at L9

    python benchmarks/bench_simulator.py [--quick] [--peer-venv DIR] [--no-peer] [--no-examples]
                                         [--peer-only] [--baseline-rev REV]

--baseline-rev REV also runs the peer problems on nanott at a git revision of this repository (say,
main before a change; unpacked with `git archive` into a temporary folder, run in a child process
with that folder first on the path), beside this checkout, in the same run: both ratios to the
peer, and this checkout's time as a fraction of the revision's. --peer-only runs just that section.

--quick skips 4096^3. The peer's environment is created in DIR (default: a directory under the
system's temp dir) with `pip install torch tt-lang-sim==1.1.6` unless it exists; CPU times are
process times of one thread (OPENBLAS/OMP/MKL threads set to 1 before NumPy loads).
"""
from __future__ import annotations

import os

for _v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_v] = "1"

import argparse                                       # noqa: E402
import json                                           # noqa: E402
import resource                                       # noqa: E402
import statistics                                     # noqa: E402
import subprocess                                     # noqa: E402
import sys                                            # noqa: E402
import tempfile                                       # noqa: E402
import time                                           # noqa: E402
from pathlib import Path                              # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np                                    # noqa: E402

import nanott.language as T                           # noqa: E402
from nanott import api                                # noqa: E402
from nanott.languages.l9_interp import InterpL9       # noqa: E402
from nanott.loader import load_kernel                 # noqa: E402
from benchmarks.bench_startup import report as startup_report   # noqa: E402

PEER = "tt-lang-sim==1.1.6"


def line(name: str, value: str, note: str = "") -> None:
    print(f"  {name:<44} {value:>14}  {note}")


def cpu(f, repeat: int = 1) -> float:
    """Median process CPU seconds of f()."""
    times = []
    for _ in range(repeat):
        start = time.process_time()
        f()
        times.append(time.process_time() - start)
    return statistics.median(times)


def child(args: list[str]) -> tuple[float, float, str]:
    """(wall s, CPU s of the child, stdout) of one fresh process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    out = subprocess.run(args, capture_output=True, text=True, cwd=ROOT, check=True).stdout
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), out


def gemm(n: int, bm=64, bn=64, bk=32):
    sets = dict(M=n, N=n, K=n, block_M=bm, block_N=bn, block_K=bk)
    return load_kernel(ROOT / "examples" / "gemm.py", kernel="matmul", sets={k: str(v) for k, v in sets.items()})


# ----- startup -----
def startup() -> None:
    startup_report(3)                         # benchmarks/bench_startup.py: explain, cold, and its parts
    loaded = load_kernel(ROOT / "examples" / "gemm.py")
    t = cpu(lambda: api.lower(loaded.prim_func, "F1"), repeat=9)
    line("P0..F1 on gemm.py, checks on", f"{t * 1e3:.1f} ms CPU", "target < 50 ms")


# ----- speed -----
def speed(quick: bool) -> None:
    print("speed (one thread)")
    loaded = gemm(1024)
    kernel = api.lower(loaded.prim_func, "P0")
    inputs = api.random_inputs(kernel, 0)
    a, b = inputs["A"].astype(np.float32), inputs["B"].astype(np.float32)
    t_np = cpu(lambda: a @ b, repeat=5)
    line("NumPy fp32 A @ B, 1024^3", f"{t_np * 1e3:.1f} ms", "median of 5")
    for level, target in (("L9", 10), ("L0", 3)):
        program = api.lower(loaded.prim_func, api.stage_for_level(level).id)
        pairs = [(cpu(lambda: a @ b), cpu(lambda: api.simulate(program, level, inputs))) for _ in range(5)]
        ratios = sorted(t / n for n, t in pairs)
        line(f"{level} 1024^3 (64x64x32 blocks)", f"{statistics.median(t for _, t in pairs):.3f} s",
             f"{statistics.median(ratios):.2f}x NumPy (median of 5 pairs run one after the other; "
             f"{ratios[0]:.2f}..{ratios[-1]:.2f}); target <= {target}x")
    small = gemm(512)
    program, ins = api.lower(small.prim_func, "F1"), api.random_inputs(api.lower(small.prim_func, "P0"), 0)
    t_ref = cpu(lambda: InterpL9().run(program, {k: v.copy() for k, v in ins.items()}))
    t_fast = cpu(lambda: api.simulate(program, "L9", ins))
    line("512^3 at L9: reference InterpL9 / lockstep", f"{t_ref:.2f} / {t_fast:.3f} s", f"{t_ref / t_fast:.0f}x faster")
    line("  lockstep groups at 512^3", groups(program, ins), "multicast senders and receivers in one group")


def groups(program, inputs: dict) -> str:
    """How many lockstep groups the cores of a program step in (sim/lockstep.py, sim/forks.py)."""
    from nanott.sim.lockstep import Lockstep
    sim = Lockstep()
    sim.run(program, {k: v.copy() for k, v in inputs.items()})
    return f"{len(sim.group_size)} for {sum(sim.group_size.values())} cores"


def modelled(quick: bool) -> None:
    print("time: modelled GEMM on wormhole_n150 (bf16 in, fp32 out, HiFi4, 64x64x32 blocks)")
    for n in (1024,) if quick else (1024, 4096):
        code = ("import json, resource, sys, time; sys.path.insert(0, sys.argv[1]);"
                "from benchmarks.bench_simulator import model_gemm; print(json.dumps(model_gemm(int(sys.argv[2]))))")
        _, _, out = child([sys.executable, "-c", code, str(ROOT), str(n)])
        r = json.loads(out.splitlines()[-1])
        line(f"{n}^3 modelled duration", f"{r['duration_us']:,.1f} us",
             f"ideal {r['ideal_us']:,.1f} us -> utilisation {100 * r['utilisation']:.1f}%, bound {r['bound']}, "
             f"{r['tflops']:.1f} TFLOPS")
        line(f"{n}^3 at L9 with the model: CPU, peak RSS", f"{r['cpu_s']:.1f} s",
             f"{r['rss_mb']:.0f} MB; max rel err {r['err']:.1e}" + ("; target < 60 s, < 2 GB" if n == 4096 else ""))


def model_gemm(n: int) -> dict:
    """In a fresh process: the n^3 GEMM at L9 with the cycle model (for its CPU and peak RSS)."""
    from nanott.sim import cycles, report
    from nanott.target import WORMHOLE_N150
    loaded = gemm(n)
    kernel, program = api.lower(loaded.prim_func, "P0"), api.lower(loaded.prim_func, "F1")
    inputs = api.random_inputs(kernel, 0)
    start = time.process_time()
    after, model = cycles.simulate_timed(program, inputs, WORMHOLE_N150)
    t = time.process_time() - start
    f = report.figures(model)
    expected = inputs["A"].astype(np.float32) @ inputs["B"].astype(np.float32)
    return {"duration_us": f.seconds * 1e6, "ideal_us": f.ideal / (WORMHOLE_N150.clock_ghz * 1e3),
            "utilisation": f.utilisation, "bound": f.bound, "tflops": f.tflops, "cpu_s": t,
            "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "err": api.max_rel_error(after["C"], expected)}


def examples() -> None:
    print("--stats and --trace on every example (nanott run FILE --stats --trace, modelled on wormhole_n150)")
    with tempfile.TemporaryDirectory() as tmp:
        for path in sorted((ROOT / "examples").glob("*.py")):
            trace = Path(tmp) / f"{path.stem}.json"
            _, c, out = child([str(Path(sys.executable).parent / "nanott"), "run", str(path), "--stats",
                               "--trace", str(trace)])
            duration = next(x.split("=")[1].strip() for x in out.splitlines() if x.startswith("duration"))
            bound = next(x.split("bound:")[1].split("(")[0].strip() for x in out.splitlines()
                         if x.startswith("floors"))
            events = len(json.loads(trace.read_text())["traceEvents"])
            line(path.stem, duration, f"bound {bound}; {events} trace events; {c:.2f} s CPU; "
                 f"{'PASS' if ': PASS' in out else 'FAIL'}")


# ----- against tt-lang-sim -----
def eltwise(n: int, blk: int):
    @T.prim_func
    def main(A: T.Tensor((n, n), "bfloat16"), B: T.Tensor((n, n), "bfloat16"),
             C: T.Tensor((n, n), "bfloat16"), Y: T.Tensor((n, n), "bfloat16")):
        with T.Kernel(n // blk, n // blk, threads=128) as (bx, by):
            A_s = T.alloc_shared((blk, blk), "bfloat16")
            B_s = T.alloc_shared((blk, blk), "bfloat16")
            C_s = T.alloc_shared((blk, blk), "bfloat16")
            Y_l = T.alloc_fragment((blk, blk), "bfloat16")
            T.copy(A[by * blk, bx * blk], A_s)
            T.copy(B[by * blk, bx * blk], B_s)
            T.copy(C[by * blk, bx * blk], C_s)
            for i, j in T.Parallel(blk, blk):
                Y_l[i, j] = A_s[i, j] * B_s[i, j] + C_s[i, j]
            T.copy(Y_l, Y[by * blk, bx * blk])
    return main


def matmul_bias_relu(n: int, blk: int):
    @T.prim_func
    def main(A: T.Tensor((n, n), "bfloat16"), B: T.Tensor((n, n), "bfloat16"),
             C: T.Tensor((n, n), "bfloat16"), Y: T.Tensor((n, n), "bfloat16")):
        with T.Kernel(n // blk, n // blk, threads=128) as (bx, by):
            A_s = T.alloc_shared((blk, blk), "bfloat16")
            B_s = T.alloc_shared((blk, blk), "bfloat16")
            C_s = T.alloc_shared((blk, blk), "bfloat16")
            acc = T.alloc_fragment((blk, blk), "float32")
            T.clear(acc)
            for k in T.Pipelined(n // blk, num_stages=2):
                T.copy(A[by * blk, k * blk], A_s)
                T.copy(B[k * blk, bx * blk], B_s)
                T.gemm(A_s, B_s, acc)
            T.copy(C[by * blk, bx * blk], C_s)
            for i, j in T.Parallel(blk, blk):
                acc[i, j] = T.max(acc[i, j] + C_s[i, j], 0)
            T.copy(acc, Y[by * blk, bx * blk])
    return main


PROBLEMS = {"eltwise_1x1_1024": lambda: eltwise(1024, 32), "eltwise_4x4_2048": lambda: eltwise(2048, 128),
            "matmul_1x1x1_512": lambda: matmul_bias_relu(512, 32),
            "matmul_4x4x4_1024": lambda: matmul_bias_relu(1024, 128)}


def peer_python(venv: Path) -> Path | None:
    tool = venv / "bin" / "tt-lang-sim"
    if tool.exists():
        return tool
    try:
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "torch", PEER], check=True)
    except subprocess.CalledProcessError as e:
        print(f"  could not install {PEER} into {venv}: {e}")
        return None
    return tool


def arithmetic_alone(kind: str, a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    """The problem's arithmetic and nothing else, in NumPy float32 (bf16 in and out): what no
    simulator computing in float32 can beat by much; the bound on any speed-up over the peer."""
    a32, b32, c32 = (x.astype(np.float32) for x in (a, b, c))
    y = a32 * b32 + c32 if kind == "eltwise" else np.maximum(a32 @ b32 + c32, 0)
    return y.astype(a.dtype)


def arithmetic_parts(kind: str, a: np.ndarray, b: np.ndarray, c: np.ndarray) -> dict[str, float]:
    """The steps of `arithmetic_alone` done as fast as NumPy can (into buffers made beforehand,
    in place, so no call allocates or faults in fresh pages), each timed alone (median CPU s of 3);
    and the arithmetic in bf16 itself (ml_dtypes' ufuncs: no widening, no rounding step), and a copy
    of the bytes the problem reads and writes (what any simulator moves at least once)."""
    a32, b32, c32, y32 = (np.empty(x.shape, np.float32) for x in (a, b, c, c))
    y = np.empty(c.shape, a.dtype)
    src, dst = np.concatenate([x.reshape(-1) for x in (a, b, c, y)]), np.empty(4 * a.size, a.dtype)

    def widen():
        for x, x32 in ((a, a32), (b, b32), (c, c32)):
            np.copyto(x32, x)

    def compute():
        if kind == "eltwise":
            np.multiply(a32, b32, out=y32)
        else:
            np.matmul(a32, b32, out=y32)
        np.add(y32, c32, out=y32)
        if kind != "eltwise":
            np.maximum(y32, 0, out=y32)

    def in_bf16():
        return a * b + c if kind == "eltwise" else np.maximum(a @ b + c, 0)

    widen()
    return {"widen": cpu(widen, repeat=3), "compute": cpu(compute, repeat=3),
            "round": cpu(lambda: np.copyto(y, y32, casting="unsafe"), repeat=3),
            "in bf16": cpu(in_bf16, repeat=3), "copy": cpu(lambda: np.copyto(dst, src), repeat=3)}


def why_not_10x(theirs: float, parts: dict[str, float]) -> None:
    """What 10x the peer leaves a simulator that computes in NumPy, against NumPy's fastest steps."""
    goal, need = theirs / 10, parts["widen"] + parts["compute"] + parts["round"]
    verdict = ("out of reach for any simulator computing in NumPy" if min(need, parts["in bf16"]) > goal else
               f"within reach in principle: {goal - need:.3f} s left for everything but the arithmetic")
    line("  10x the peer's time", f"{goal:.3f} s", verdict)
    line("    NumPy's fastest: widen a, b, c / arithmetic", f"{parts['widen']:.3f} / {parts['compute']:.3f} s",
         f"+ round y to bf16 {parts['round']:.3f} s = {need:.3f} s, {need / goal:.2f}x the 10x budget "
         "(into buffers made beforehand, in place)")
    line("    or the arithmetic in bf16 (ml_dtypes)", f"{parts['in bf16']:.3f} s",
         f"{parts['in bf16'] / goal:.2f}x the budget")
    line("    copying the bytes read and written, once", f"{parts['copy']:.3f} s",
         f"{parts['copy'] / goal:.2f}x the budget (the floor for any simulator, NumPy or not)")


AGAIN = """
import json, sys
sys.path.insert(0, sys.argv[1])
from benchmarks.bench_simulator import PROBLEMS, cpu
from nanott import api
prim = PROBLEMS[sys.argv[2]]()
arrays = api.random_inputs(api.lower(prim, "P0"), 0)
args = [arrays[k] for k in ("A", "B", "C", "Y")]
api.run(prim, *args, level="L9")
print(json.dumps({"again": cpu(lambda: api.run(prim, *args, level="L9"), repeat=3)}))
"""


def again_at(tree: Path, name: str) -> float:
    """nanott L9 on the problem, run again (lowered once), in a child process on `tree`'s nanott."""
    out = subprocess.run([sys.executable, "-c", AGAIN, str(tree), name], capture_output=True, text=True,
                         cwd=tree, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])["again"]


def peer(venv: Path, baseline: tuple[str, Path] | None = None) -> None:
    print(f"against {PEER} (one node, one torch thread) and nanott.run(level='L9'), CPU; load average "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    tool = peer_python(venv)
    for name, make in PROBLEMS.items():
        prim_func = make()
        arrays = api.random_inputs(api.lower(prim_func, "P0"), 0)
        args = [arrays[k] for k in ("A", "B", "C", "Y")]
        first = cpu(lambda: api.run(prim_func, *args, level="L9"))
        again = cpu(lambda: api.run(prim_func, *args, level="L9"), repeat=3)
        alone = cpu(lambda: arithmetic_alone(name.split("_")[0], *args[:3]), repeat=3)
        theirs = None
        if tool is not None:
            _, _, out = child([str(tool), str(ROOT / "benchmarks" / "peer_ttlang.py"), "--", name])
            theirs = json.loads(out.strip().splitlines()[-1])["cpu_s"]
        bound = f"{theirs / alone:.1f}x" if theirs else "?"
        ratio = (lambda t: f"nanott {theirs / t:.1f}x faster (bound {bound})") if theirs else (lambda t: "")
        line(f"{name}: tt-lang-sim", f"{theirs:.3f} s" if theirs else "not run")
        line("  nanott L9, first run (lowering included)", f"{first:.3f} s", ratio(first))
        line("  nanott L9, run again (lowered once)", f"{again:.3f} s", ratio(again) + "; target >= 10x" +
             ("" if not theirs or theirs / alone >= 10 else ": out of reach, even for the bound") +
             f"; lockstep groups {groups(api.lower(prim_func, 'F1'), arrays)}")
        if baseline is not None:
            rev, tree = baseline
            before = again_at(tree, name)
            line(f"  nanott L9 at {rev}, run again", f"{before:.3f} s",
                 (ratio(before) + "; " if theirs else "") + f"this checkout takes x{again / before:.2f} of its time")
        line("  NumPy, the arithmetic alone (fp32)", f"{alone:.3f} s",
             f"the bound: {bound} the peer, what no simulator computing in NumPy fp32 beats by much")
        if theirs and theirs / again < 10:
            why_not_10x(theirs, arithmetic_parts(name.split("_")[0], *args[:3]))


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--quick", action="store_true", help="skip 4096^3")
    p.add_argument("--no-peer", action="store_true")
    p.add_argument("--no-examples", action="store_true", help="skip --stats/--trace on every example")
    p.add_argument("--peer-venv", type=Path, default=Path(tempfile.gettempdir()) / "nanott-bench-tt-lang-sim")
    p.add_argument("--peer-only", action="store_true", help="only the comparison with tt-lang-sim")
    p.add_argument("--baseline-rev", help="also time the peer problems at this git revision of nanott")
    a = p.parse_args()
    print(f"python {sys.version.split()[0]}, numpy {np.__version__}, {os.cpu_count()} CPUs")
    with tempfile.TemporaryDirectory() as folder:
        baseline = (a.baseline_rev, unpacked(a.baseline_rev, Path(folder))) if a.baseline_rev else None
        if not a.peer_only:
            startup()
            speed(a.quick)
            modelled(a.quick)
            if not a.no_examples:
                examples()
        if a.peer_only or not a.no_peer:
            peer(a.peer_venv, baseline)


def unpacked(rev: str, folder: Path) -> Path:
    """The files of git revision `rev` of this repository, as `git archive` gives them, in folder."""
    tree = folder / rev.replace("/", "_")
    tree.mkdir()
    tar = subprocess.run(["git", "archive", rev], cwd=ROOT, capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(tree)], input=tar, check=True)
    return tree


if __name__ == "__main__":
    main()
