"""Rows routed to groups at unpadded offsets, as TileLang's routed MoE kernel addresses them: block
bx serves group g = group_idx_for_bx[bx] and starts at `m_start = bx * 32 - padded[g] + offsets[g]`,
a row read from DRAM, no multiple of 32; it scales each row by a weight read at that row,
`w[m_start + i]`, and writes the rows still inside the group.

The block's rows are a row gather (C1), the masked store a row scatter (C1), and the weight run
`w[m_start + i]` spans two tile rows of a vector: P0b copies both and compute shifts the run into
place with one-hot masks (row r picks element m_start + r), a sum of one nonzero product: exact.
Our own kernel against NumPy on random routings (group sizes none a multiple of 32, one empty) at
every level and through compile --execute.
"""
from __future__ import annotations

import shutil

import numpy as np
import pytest
from conftest import load_text, nanott_cli

from nanott import api

ROUTED = '''
import tilelang
import tilelang.language as T


@tilelang.jit
def routed_scale(X, w, sizes, offsets, padded, group_idx_for_bx, block_token=32, block_d=64):
    group_sum, d, n_groups, n_blocks = T.const("group_sum, d, n_groups, n_blocks")
    X: T.Tensor((group_sum, d), "float32")
    w: T.Tensor((group_sum,), "float32")
    sizes: T.Tensor((n_groups,), T.int32)
    offsets: T.Tensor((n_groups,), T.int32)
    padded: T.Tensor((n_groups,), T.int32)
    group_idx_for_bx: T.Tensor((n_blocks,), T.int32)
    Y = T.empty((group_sum, d), "float32")
    with T.Kernel(n_blocks, T.ceildiv(d, block_d), threads=128) as (bx, by):
        x = T.alloc_shared((block_token, block_d), "float32")
        y = T.alloc_fragment((block_token, block_d), "float32")
        g = group_idx_for_bx[bx]
        m_start = bx * block_token - padded[g] + offsets[g]
        actual_rows = T.max(0, T.min(block_token, sizes[g] - (bx * block_token - padded[g])))
        T.copy(X[m_start:m_start + block_token, by * block_d:(by + 1) * block_d], x)
        for i, j in T.Parallel(block_token, block_d):
            y[i, j] = T.if_then_else(i < actual_rows, x[i, j] * w[m_start + i], 0)
        for i, j in T.Parallel(block_token, block_d):
            if i < actual_rows:
                Y[m_start + i, by * block_d + j] = y[i, j]
    return Y
'''
SIZES = (37, 0, 50, 21)                    # none a multiple of 32, one group empty
SETS = {"group_sum": 160, "d": 64, "n_groups": 4, "n_blocks": 5}


def routing(sizes, seed):
    """A valid routing of `sizes` (padded to whole blocks of 32), rows and weights random, Y random
    where no group writes (its tail past the groups' rows)."""
    sizes = np.array(sizes, np.int32)
    offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int32)
    blocks = -(-sizes // 32)
    padded = (np.concatenate([[0], np.cumsum(blocks)[:-1]]) * 32).astype(np.int32)
    idx = np.repeat(np.arange(len(sizes)), blocks).astype(np.int32)
    rng = np.random.default_rng(seed)
    return {"X": rng.uniform(-1, 1, (160, 64)).astype(np.float32), "w": rng.uniform(-1, 1, 160).astype(np.float32),
            "sizes": sizes, "offsets": offsets, "padded": padded, "group_idx_for_bx": idx,
            "Y": rng.uniform(-1, 1, (160, 64)).astype(np.float32)}


def reference(a):
    """Each group's rows x * w (in float64, one rounding: the product of two float32 values is
    exact in float64); the rows no group has keep Y's values."""
    y = a["Y"].astype(np.float64).copy()
    end = int(a["sizes"].sum())
    y[:end] = a["X"][:end].astype(np.float64) * a["w"][:end, None]
    return y


def test_the_weight_run_is_shifted_into_place_from_two_tile_rows(tmp_path):
    p0b = str(api.lower(load_text(tmp_path, ROUTED, SETS).prim_func, stop_after="P0b"))
    assert "copy w[(min((m_start // 32), 4) * 32) +32] -> w_row[32]" in p0b       # past the end: the last row
    assert "copy w[(min(((m_start // 32) + 1), 4) * 32) +32] -> w_row1[32]" in p0b
    assert ("w_mask[r, c] = if_then_else(((c == ((m_start % 32) + r)) and ((m_start // 32) <= 4)), 1, 0)"
            in p0b)
    assert "reduce_sum w_picked -> w_elem, dim 1" in p0b


@pytest.mark.parametrize("seed", [1, 2])
def test_every_level_matches_numpy(tmp_path, seed):
    """float32 products, one rounding each: within 1e-6 of the output's scale (a float32 ulp or
    two of the largest value); and the weights picked exactly, so bit for bit L0."""
    pf = load_text(tmp_path, ROUTED, SETS).prim_func
    a = routing(SIZES, seed)
    ref = reference(a)
    l0 = api.simulate(api.lower(pf, stop_after="P0"), "L0", a)["Y"]
    for level in ("L0", "L1", "L2", "L3", "L4", "L5", "L6", "L7", "L8", "L9"):
        got = api.simulate(api.lower(pf, stop_after=api.stage_for_level(level).id), level, a)["Y"]
        assert np.max(np.abs(got - ref)) <= 1e-6 * np.max(np.abs(ref)), level
        assert np.array_equal(got.view(np.uint32), l0.view(np.uint32)), level


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("g++") is None, reason="g++ is not installed")
def test_the_cpp_builds_runs_and_matches_numpy(tmp_path):
    """`nanott compile`, then the program built and run on nanott's CPU runtime on a valid routing
    (index_roles cannot draw one at random: the four tables constrain one another, so `--execute`'s
    random tables would send rows outside X), against NumPy as the levels are."""
    from nanott.backends.metalium.build import build
    from nanott.backends.metalium.execute import run_program
    from nanott.backends.metalium.plan import load_plan
    path, out = tmp_path / "routed.py", tmp_path / "out"
    path.write_text(ROUTED)
    sets = [x for k, v in SETS.items() for x in ("--set", f"{k}={v}")]
    nanott_cli("compile", str(path), *sets, "-o", str(out))
    plan = load_plan((out / "tt.plan.json").read_text())
    a = routing(SIZES, 3)
    got = run_program(out, build(out, plan, None), plan, a, api.DEFAULT_TARGET)["Y"]
    ref = reference(a)
    assert np.max(np.abs(got - ref)) <= 1e-6 * np.max(np.abs(ref))
