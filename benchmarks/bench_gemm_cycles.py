"""Issue 14's figures: the modelled GEMM against the ideal-cycles bound, and what binds the rest.

For each size (1024^3, 2048^3, 4096^3), output format (bf16: Tenstorrent's BF16 GEMM; fp32) and
math fidelity (HiFi2, HiFi4; the user's choice, over D5's dtype rule), examples/gemm.py's `matmul`
(bf16 inputs, fp32 accumulator) runs at L9 with the cycle model of nanott/sim/cycles.py on Wormhole n150, twice in the same run:

  before   the pipeline without the stages that issue 14 added (BASELINE_SKIPS below)
  after    the whole pipeline

and prints for each: the modelled duration, the utilisation against Tenstorrent's ideal-cycles
bound (M*K*N / 32^3 * cycles per tile / 64 cores; tech_reports/GEMM_FLOPS), the three floors
(compute, DRAM, NoC) and which one binds, the largest stalls and the DRAM bytes, the timeline of
the core that ends last (before its first matmul, the matmuls' span, after the last; when its
output starts to leave and the least time its writes take at its share of DRAM; its unpacker's
busy cycles in the span, split into the matmuls' operands and the accumulator's reloads), beside ttnn's
published out-of-box utilisation (BF16 HiFi2, n150: 41.7% at 1024^3, 66.7% at 2048^3, 59.5% at
4096^3) and the issue's targets (>= 60% at 1024^3, >= 80% at 4096^3, BF16 HiFi2).

    python benchmarks/bench_gemm_cycles.py [--sizes 1024,2048] [--blocks 64x64x32] [--out bf16,fp32]
                                           [--fidelity HiFi2,HiFi4] [--what-if read_latency=0]

--what-if FIELD=VALUE (repeatable) runs a counterfactual: the target's timing facts
(sim/machine.Timing) with that field changed, for the compiler (D3d weighs its parts by them) and
the model alike. Not the machine: a question put to the model, such as "how far would hiding every
read's latency go?"; the header says so.

Each configuration runs in a fresh process (its peak memory is its own). Every run also checks C
against NumPy (fp32 A @ B, rounded to the output format) and prints the largest relative error.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TTNN = {1024: 0.417, 2048: 0.667, 4096: 0.595}     # ttnn out of box, BF16 HiFi2, n150 (GEMM_FLOPS)
TARGET = {1024: 0.60, 4096: 0.80}                   # issue 14, BF16 HiFi2
BASELINE_SKIPS = ("D3a", "D3b", "D3c", "D3d", "D5a", "D5b", "D5c", "D5d")                # the stages issue 14 added (pipeline.OPTIONAL)
FORMATS = {"bf16": "bfloat16", "fp32": "float32"}


def model_one(n: int, blocks: str, out: str, fidelity: str, before: bool, what_if: str = "") -> dict:
    """One configuration at L9 with the cycle model (the bench runs each in a fresh process), under
    the counterfactual `what_if` (FIELD=VALUE pairs joined by commas) if any: the target's timing
    facts so changed while it lowers and runs, and restored after."""
    import dataclasses

    from nanott.sim import machine as facts
    from nanott.target import WORMHOLE_N150
    timing = facts.TIMING[WORMHOLE_N150.name]
    changed = dict(pair.split("=") for pair in filter(None, what_if.split(",")))
    if unknown := set(changed) - {f.name for f in dataclasses.fields(timing)}:
        raise ValueError(f"--what-if: no timing fact named {', '.join(sorted(unknown))} in sim/machine.Timing")
    facts.TIMING[WORMHOLE_N150.name] = dataclasses.replace(
        timing, **{k: type(getattr(timing, k))(v) for k, v in changed.items()})
    try:
        return model_run(n, blocks, out, fidelity, before)
    finally:
        facts.TIMING[WORMHOLE_N150.name] = timing


def model_run(n: int, blocks: str, out: str, fidelity: str, before: bool) -> dict:
    """One configuration at L9 with the cycle model, the figures the bench prints."""
    import numpy as np

    from nanott import api, pipeline
    from nanott.loader import load_kernel
    from nanott.sim import cycles, report
    from nanott.target import WORMHOLE_N150
    bm, bn, bk = (int(x) for x in blocks.split("x"))
    sets = dict(M=n, N=n, K=n, block_M=bm, block_N=bn, block_K=bk, out_dtype=f'"{FORMATS[out]}"')
    loaded = load_kernel(ROOT / "examples" / "gemm.py", kernel="matmul", sets={k: str(v) for k, v in sets.items()})
    kernel = api.lower(loaded.prim_func, "P0")
    machine = api.resolve_target(WORMHOLE_N150, fidelity)           # compiled at that fidelity (NT207 warns)
    program = pipeline.lower(loaded.prim_func, "F1", machine, skip=BASELINE_SKIPS if before else ())
    inputs = api.random_inputs(kernel, 0)
    start = time.process_time()
    after, model = cycles.simulate_timed(program, inputs, machine, trace=True)
    cpu = time.process_time() - start
    f = report.figures(model)
    expected = (inputs["A"].astype(np.float32) @ inputs["B"].astype(np.float32)).astype(after["C"].dtype)
    stalls: dict = {}
    for c in model.cores.values():
        for (engine, cb), v in c.stalls.items():
            what = {cycles.DST: "DST", cycles.NOC: "NoC barrier", cycles.SEM: "semaphore"}.get(cb, f"cb{cb}")
            stalls[f"{engine} on {what}"] = stalls.get(f"{engine} on {what}", 0.0) + v * c.weight
    busiest = max(model.cores.values(), key=lambda c: max(c.clock.values()))
    return {"us": f.seconds * 1e6, "ideal_us": f.ideal / (WORMHOLE_N150.clock_ghz * 1e3),
            "util": f.utilisation, "floors": f.floors, "bound": f.bound, "tflops": f.tflops,
            "busy": busiest.busy, "read": model.total("bytes_read"), "written": model.total("bytes_written"),
            "stalls": sorted(stalls.items(), key=lambda kv: -kv[1])[:3], "cpu_s": cpu,
            "timeline": timeline(model),
            "err": api.max_rel_error(after["C"].astype(np.float32), expected.astype(np.float32))}


MATMULS = ("MatmulBlock", "MatmulTiles")


def timeline(model) -> dict:
    """Where the run's time goes, on the core that ends last (from the model's trace): the cycles
    before its first matmul, the span of its matmuls, the cycles after its last one; its unpacker's
    busy cycles in that span, and how many of them reload an accumulator (copy_tile)."""
    end = {}
    for key, engine, name, start, cycles in model.events:
        end[key] = max(end.get(key, 0.0), start + cycles)
    last = max(end, key=end.get)
    mine = [e for e in model.events if e[0] == last]
    matmuls = [e for e in mine if e[1] == "math" and e[2] in MATMULS]
    first, final = min(e[3] for e in matmuls), max(e[3] + e[4] for e in matmuls)
    unpack = [e for e in mine if e[1] == "unpack" and first <= e[3] < final]
    waits = [e[3] for e in mine if e[1] == "writer" and e[2] == "CbWait"]      # the output, as it is pushed
    core = model.cores[last]
    fed = max((e[3] + e[4] for e in mine if e[1] in ("reader", "writer") and e[2] == "CbPush"), default=0.0)
    after = [e for e in mine if e[1] == "unpack" and e[3] >= fed]
    return {"first": first, "span": final - first, "tail": end[last] - final,
            "fed": fed, "after_fed": sum(e[4] for e in after), "end": end[last],
            "matmuls_after_fed": sum(e[4] for e in after if e[2] in MATMULS),
            "reloads_after_fed": sum(e[4] for e in after if e[2] == "CopyTile"),
            "writes_from": min(waits, default=None), "written": core.bytes_written,
            "write_share": model.dram_share[1],
            "unpack": sum(e[4] for e in unpack), "reload": sum(e[4] for e in unpack if e[2] == "CopyTile"),
            "matmul_unpack": sum(e[4] for e in unpack if e[2] in MATMULS), "dropped": model.dropped}


def child(*args: str) -> dict:
    code = ("import json, sys; sys.path.insert(0, sys.argv[1]); from benchmarks.bench_gemm_cycles import model_one;"
            "a = sys.argv[2:]; print(json.dumps(model_one(int(a[0]), a[1], a[2], a[3], a[4] == 'before', a[5])))")
    out = subprocess.run([sys.executable, "-c", code, str(ROOT), *args], capture_output=True, text=True, cwd=ROOT)
    if out.returncode:
        raise SystemExit(out.stderr)
    return json.loads(out.stdout.splitlines()[-1])


def show(label: str, r: dict, cpu: bool = True) -> None:
    fl = r["floors"]
    print(f"    {label:<7}{r['us']:>11,.1f} us  {100 * r['util']:>5.1f}%  {r['tflops']:>6.1f} TFLOPS  "
          f"floors compute {fl['compute']:,.0f} / DRAM {fl['DRAM']:,.0f} / NoC {fl['NoC']:,.0f} cycles "
          f"-> {r['bound']}-bound")
    busy = ", ".join(f"{e} {v:,.0f}" for e, v in r["busy"].items())
    print(f"           busiest core's engines (busy cycles): {busy}")
    stalls = "; ".join(f"{k} {v:,.0f}" for k, v in r["stalls"])
    print(f"           DRAM {r['read'] / 2**20:,.1f} MiB read, {r['written'] / 2**20:,.1f} MiB written; "
          f"largest stalls (cycles, all cores): {stalls}")
    t = r["timeline"]
    cut = f" (trace cut: {t['dropped']:,} events not kept)" if t["dropped"] else ""
    print(f"           timeline of the core that ends last: {t['first']:,.0f} cycles before its first matmul, "
          f"matmuls over {t['span']:,.0f}, {t['tail']:,.0f} after the last{cut}")
    if t["writes_from"] is not None and t["written"]:
        least = t["written"] / t["write_share"]
        print(f"           its writes: {t['written'] / 1024:,.0f} KiB of output from {t['writes_from']:,.0f} (its first "
              f"output pages pushed), at its share of DRAM writes ({t['write_share']:.1f} B/cycle) at least "
              f"{least:,.0f} cycles: not before {t['writes_from'] + least:,.0f}")
    print(f"           its last operand pages pushed by its data movers at {t['fed']:,.0f}; after them, "
          f"{t['end'] - t['fed']:,.0f} cycles: its unpacker busy {t['after_fed']:,.0f} (matmul operands "
          f"{t['matmuls_after_fed']:,.0f}, accumulator reloads {t['reloads_after_fed']:,.0f}), then the output's last writes")
    print(f"           its unpacker in the matmul span: busy {t['unpack']:,.0f} = matmul operands "
          f"{t['matmul_unpack']:,.0f} + accumulator reloads {t['reload']:,.0f} + other "
          f"{t['unpack'] - t['matmul_unpack'] - t['reload']:,.0f}; ideal {r['ideal_us'] * 1e3:,.0f}")
    print(f"           max rel err vs NumPy {r['err']:.1e}" + (f"; simulated in {r['cpu_s']:.1f} s CPU" if cpu else ""))


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--sizes", default="1024,2048,4096")
    p.add_argument("--blocks", default="64x64x32", help="block_M x block_N x block_K, comma-separated")
    p.add_argument("--out", default="bf16,fp32")
    p.add_argument("--fidelity", default="HiFi2,HiFi4")
    p.add_argument("--no-before", action="store_true", help="skip the baseline pipeline")
    p.add_argument("--what-if", action="append", default=[], metavar="FIELD=VALUE",
                   help="a counterfactual: this timing fact of sim/machine.Timing changed (repeatable)")
    p.add_argument("--no-cpu-time", action="store_true", help="leave out the simulation's CPU time")
    a = p.parse_args()
    print("modelled GEMM on wormhole_n150 (64 cores, 1 GHz): bf16 A, B; fp32 accumulator; "
          f"before = without {', '.join(BASELINE_SKIPS) or '(nothing yet)'}")
    what_if = ",".join(a.what_if)
    if what_if:
        print(f"WHAT IF {what_if}: a counterfactual, not the machine (the compiler and the model both take it)")
    for n in map(int, a.sizes.split(",")):
        for blocks in a.blocks.split(","):
            for out in a.out.split(","):
                for fid in a.fidelity.split(","):
                    anchor = f"; ttnn out of box {100 * TTNN[n]:.1f}%" if fid == "HiFi2" and out == "bf16" else ""
                    goal = f", target >= {100 * TARGET[n]:.0f}%" if fid == "HiFi2" and out == "bf16" and n in TARGET else ""
                    runs = [("after", child(str(n), blocks, out, fid, "after", what_if))]
                    if not a.no_before:
                        runs.insert(0, ("before", child(str(n), blocks, out, fid, "before", what_if)))
                    ideal = runs[0][1]["ideal_us"]
                    print(f"  {n}^3 {blocks} {out} out {fid}: ideal {ideal:,.1f} us{anchor}{goal}")
                    for label, r in runs:
                        show(label, r, cpu=not a.no_cpu_time)
                    if len(runs) == 2:
                        print(f"    after/before duration {runs[1][1]['us'] / runs[0][1]['us']:.3f}x")


if __name__ == "__main__":
    main()
