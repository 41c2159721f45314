"""Stage P0c split-k-across-cores: a split-K kernel whose output blocks leave cores idle becomes two
launches (the slices' partials into a DRAM scratch tensor, then their sum), bit for bit what L0's
atomic adds give, and faster in the cycle model than B1's fold of the slices onto one core."""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from nanott import api, pipeline
from nanott.ir import Launches
from nanott.loader import load_kernel
from nanott.sim import cycles
from nanott.target import DEFAULT_TARGET

ROOT = Path(__file__).resolve().parent.parent


def splitk():
    return load_kernel(ROOT / "examples" / "gemm_splitk.py").prim_func


def test_the_slices_get_their_own_cores_and_a_second_launch_sums_them():
    p = pipeline.lower(splitk(), "P0c")
    assert isinstance(p, Launches) and len(p.launches) == 2
    first, second = p.launches
    assert first.grid == (2, 2, 4) and second.grid == (2, 2)          # 16 blocks, then the 4 outputs
    (scratch,) = p.scratch
    assert scratch.shape == (4 * 128, 128) and scratch.dtype == "float32"   # 4 slices of C's rows: fp32, exact
    assert any(a.key == "split_k" for a in first.attrs)
    assert {t.name for t in second.params} == {"C", scratch.name}


@pytest.mark.parametrize("level", ["L0", "L5", "L9"])
def test_every_level_gives_the_atomic_adds_bits(level):
    prim_func = splitk()
    arrays = api.random_inputs(api.lower(prim_func, "P0"), 3)
    arrays["C"] = np.random.default_rng(3).standard_normal(arrays["C"].shape).astype(np.float32)  # adds onto C
    stop = {"L0": "P0c", "L5": "C2b", "L9": "F1"}[level]
    two = api.simulate(pipeline.lower(prim_func, stop), level, arrays)["C"]
    atomic = api.simulate(api.lower(prim_func, "P0"), "L0", arrays)["C"]
    assert np.array_equal(two.view(np.uint32), atomic.view(np.uint32))
    ref = arrays["C"].astype(np.float64) + arrays["A"].astype(np.float64) @ arrays["B"].astype(np.float64)
    # fp32 sums of exact bf16 products: the order differs from float64's, not more
    assert np.max(np.abs(two - ref)) <= 1e-5 * np.max(np.abs(ref))


def test_output_blocks_enough_for_every_core_keep_the_fold():
    """On a 2x2 grid of cores the 4 output blocks already fill it: no second launch."""
    small = replace(DEFAULT_TARGET, grid=(2, 2))
    assert not isinstance(pipeline.lower(splitk(), "P0c", small), Launches)


def test_the_model_times_the_two_launches_below_the_fold():
    prim_func = splitk()
    arrays = api.random_inputs(api.lower(prim_func, "P0"), 0)
    _, models = cycles.simulate_timed(pipeline.lower(prim_func, "F1"), arrays, DEFAULT_TARGET)
    _, fold = cycles.simulate_timed(pipeline.lower(prim_func, "F1", skip=("P0c",)), arrays, DEFAULT_TARGET)
    assert sum(m.duration() for m in models) < 0.75 * fold.duration()


def row_sums():
    return load_kernel(ROOT / "tests" / "kernels" / "row_sums_split.py").prim_func


def test_row_sums_wider_than_a_core_are_reduced_across_cores():
    """1024 columns in 8 blocks of 128: each core sums its piece of the rows, and P0c's second
    launch adds the 8 partial row sums in slice order, bit for bit as B1's fold does on one core
    (the tile reduce inside a block rounds in its own order at L9, the same on both paths)."""
    prim_func = row_sums()
    across, folded = (pipeline.lower(prim_func, "F1", skip=skip) for skip in ((), ("P0c",)))
    assert isinstance(across, Launches) and not isinstance(folded, Launches)
    arrays = api.random_inputs(api.lower(prim_func, "P0"), 5)
    got, one_core = (api.simulate(p, "L9", arrays)["y"] for p in (across, folded))
    assert np.array_equal(got.view(np.uint32), one_core.view(np.uint32))
    ref = arrays["X"].astype(np.float64).sum(axis=1)
    # fp32 sums of 1024 values: a few ulps of the row's absolute sum, far below a wrong slice
    assert np.max(np.abs(got - ref)) <= 1e-5 * np.max(np.abs(arrays["X"]).sum(axis=1))
