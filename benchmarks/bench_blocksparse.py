"""Block-sparse attention: what reading only the listed key blocks saves, on the cycle model.

examples/blocksparse_attention.py's kernel runs at L9 with the cycle model of nanott/sim/cycles.py
(Wormhole n150) for several `topk` (how many of the seq / 64 key blocks each query block lists), and
once with every block listed in order (topk = all): the dense flash attention the same kernel
computes, the baseline of the same run. For each it prints the modelled duration, the DRAM bytes
read and both ratios to the dense run, and checks the output against the example's NumPy reference
(largest relative error). The index tensor is random (api.random_inputs: valid block indices) for
the sparse runs, 0, 1, 2, ... for the dense one.

    python benchmarks/bench_blocksparse.py [--seq 1024] [--heads 4] [--topk 2,4,8]
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def model_one(seq: int, heads: int, topk: int, dense: bool) -> dict:
    from nanott import api, pipeline
    from nanott.loader import load_kernel
    from nanott.sim import cycles, report
    from nanott.target import WORMHOLE_N150
    sets = {"batch": "1", "heads": str(heads), "seq_len": str(seq), "dim": "64", "topk": str(topk)}
    loaded = load_kernel(ROOT / "examples" / "blocksparse_attention.py", kernel="blocksparse_attention", sets=sets)
    kernel = api.lower(loaded.prim_func, "P0")
    program = pipeline.lower(loaded.prim_func, "F1", WORMHOLE_N150)
    inputs = api.random_inputs(kernel, 0)
    if dense:
        inputs["BlockIndices"][...] = np.arange(topk, dtype=np.int32)
    start = time.perf_counter()
    after, model = cycles.simulate_timed(program, inputs, WORMHOLE_N150)
    wall = time.perf_counter() - start
    expected = loaded.reference(*(inputs[n] for n in ("Q", "K", "V", "BlockIndices")))
    return {"us": report.figures(model).seconds * 1e6, "read": model.total("bytes_read"), "wall_s": wall,
            "err": api.max_rel_error(after["Output"].astype(np.float32), expected.astype(np.float32))}


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--seq", type=int, default=1024)
    p.add_argument("--heads", type=int, default=4)
    p.add_argument("--topk", default="2,4,8")
    a = p.parse_args()
    blocks = a.seq // 64
    print(f"modelled block-sparse attention on wormhole_n150: batch 1, {a.heads} heads, seq {a.seq}, dim 64, "
          f"blocks 64x64 ({blocks} key blocks); baseline: all {blocks} blocks listed (dense), same run")
    base = model_one(a.seq, a.heads, blocks, dense=True)
    rows = [("dense", blocks, base)] + [("sparse", k, model_one(a.seq, a.heads, k, dense=False))
                                        for k in map(int, a.topk.split(","))]
    for label, k, r in rows:
        print(f"  {label:<6} topk {k:>3}: {r['us']:>10,.1f} us ({r['us'] / base['us']:.2f}x dense), "
              f"DRAM read {r['read'] / 2**20:7.2f} MiB ({r['read'] / base['read']:.2f}x dense); "
              f"max rel err vs NumPy {r['err']:.1e}; simulated in {r['wall_s']:.1f} s wall")


if __name__ == "__main__":
    main()
