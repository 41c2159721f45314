"""Stage D5d wait-for-parts: where a data mover pushes a block in parts (D3d), the compute kernel
waits for each part just before its first read of it; the numbers are bit for bit the same, match
NumPy, a wait removed is caught by F1, and the first matmul starts earlier in the cycle model."""
from __future__ import annotations

import numpy as np
import pytest

from conftest import ROOT, without
from nanott import api, pipeline
from nanott.ir import CheckError, walk
from nanott.languages import l9
from nanott.loader import load_kernel
from nanott.passes.f1_verify import verify
from nanott.sim import cycles
from nanott.target import WORMHOLE_N150

pytestmark = [pytest.mark.D5]

# 512 x 1024 by 1024 x 512 in 64x64x512 blocks, one per core: D3d multicasts A's block (2 rows of
# 16 tiles) in two parts of 16 pages and B's (16 rows of 2) in eight of 4 (docs/08_time.md)
PARTS = dict(M=512, N=512, K=1024, block_M=64, block_N=64, block_K=512)


def lowered(skip=(), sets=PARTS):
    loaded = load_kernel(ROOT / "examples" / "gemm.py", kernel="matmul", sets={k: str(v) for k, v in sets.items()})
    return loaded.prim_func, pipeline.lower(loaded.prim_func, "F1", WORMHOLE_N150, skip=skip)


def waits(program, cb):
    return [x.pages for x in walk(program.kernel("compute").body) if isinstance(x, l9.CbWait) and x.cb == cb]


def movers_cbs(program):
    return [cb.index for cb in program.cbs if cb.producer in ("reader", "writer") and cb.consumer == "compute"]


def test_the_compute_kernel_waits_for_each_part_before_reading_it():
    _, program = lowered()
    _, whole = lowered(skip=("D5d",))
    a, b = movers_cbs(program)
    assert set(waits(whole, a)) == {32} and set(waits(whole, b)) == {32}      # one wait per block
    # a 2x2 subblock reads both rows of A (16 pages apart): A's block whole before the first
    # matmul; B's rows are K, read in order: each of its 8 parts waited just before its 2 K rows
    assert set(waits(program, a)) == {32} and waits(program, b) == [4, 8, 12, 16, 20, 24, 28, 32]
    assert "wait-for-parts" in {x.key for x in program.attrs}
    assert "wait-for-parts" not in {x.key for x in whole.attrs}


def test_numbers_are_bit_identical_with_and_without_and_match_numpy():
    prim_func, program = lowered()
    _, whole = lowered(skip=("D5d",))
    arrays = api.random_inputs(api.lower(prim_func, "P0"), 7)
    got, before = api.simulate(program, "L9", arrays)["C"], api.simulate(whole, "L9", arrays)["C"]
    assert np.array_equal(got.view(np.uint8), before.view(np.uint8))
    # fp32 accumulation of bf16 products over K = 1024: the error is rounding of the sums, well
    # under 1e-4 of the output's scale
    expected = arrays["A"].astype(np.float32) @ arrays["B"].astype(np.float32)
    assert np.max(np.abs(got - expected)) <= 1e-4 * np.max(np.abs(expected))


def test_a_missing_part_wait_is_caught_by_f1():
    _, program = lowered()
    b = movers_cbs(program)[1]
    victim = next(x for x in walk(program.kernel("compute").body)
                  if isinstance(x, l9.CbWait) and x.cb == b and x.pages == 32)
    mutant = without(program, "compute", victim)
    with pytest.raises(CheckError, match="rule 6|waited"):
        verify(mutant, WORMHOLE_N150)


def test_the_first_matmul_starts_earlier():
    prim_func, program = lowered()
    _, whole = lowered(skip=("D5d",))
    arrays = api.random_inputs(api.lower(prim_func, "P0"), 0)
    firsts, ends = [], []
    for p in (program, whole):
        _, model = cycles.simulate_timed(p, arrays, WORMHOLE_N150, trace=True)
        firsts.append(min(start for (_, engine, name, start, _) in model.events
                          if engine == "math" and name.startswith("Matmul")))
        ends.append(model.duration())
    assert firsts[0] < firsts[1] and ends[0] <= ends[1]      # (this one ends on the DRAM floor either way)


def test_a_block_pushed_whole_is_left_alone():
    _, program = lowered(sets=dict(M=256, N=256, K=256, block_M=64, block_N=64, block_K=32))
    assert "wait-for-parts" not in {x.key for x in program.attrs}
