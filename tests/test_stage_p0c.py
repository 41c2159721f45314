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
    assert scratch.shape == (4, 128, 128) and scratch.dtype == "float32"   # the fp32 partials, exactly
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
