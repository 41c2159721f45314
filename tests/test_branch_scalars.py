"""Scalars assigned under an `if` on a run-time value, and `if` on a run-time scalar (P0:
nanott/language/branch_scalars.py). Both branches run when P0 parses the kernel, so each assignment
in a branch chooses between its value and the name's value before: a let of a select in a branch
that P0 predicates, `let x = old` before and `set x = v` inside a branch that runs as a loop (it
holds tile operations). Carried across a kernel loop, such a scalar is a flag or a counter the
reader computes from data it reads (block indices, a mask) and that later `if`s test.

Numerics against NumPy at every level on random inputs made so that both branches are taken
(indices -1 or a block, a mask of zeros and ones), exact (tolerance the output dtype's, float32
sums of a few float32 blocks and a halving: the order is NumPy's), and the C++ built and run.
"""
from __future__ import annotations

import shutil

import numpy as np
import pytest
from conftest import load_text, nanott_cli
from test_generality import check_levels

from nanott import api
from nanott.diagnostics import NanottError
from nanott.ir import walk
from nanott.languages import l0

# Factory style, as TileLang's sparse GQA decode writes it: `has_valid = True` under `if i_s >= 0`
# around the copy of block i_s; after the loop, `if has_valid:` scales the sum.
FACTORY = '''
import tilelang
import tilelang.language as T


@tilelang.jit(out_idx=[-1])
def sparse_rows(M, N, nblk, block_M=32):
    @T.prim_func
    def main(X: T.Tensor((M, N * nblk), T.float32), Idx: T.Tensor((M // block_M, nblk), T.int32),
             Y: T.Tensor((M, N), T.float32)):
        with T.Kernel(M // block_M) as bx:
            xs = T.alloc_shared((block_M, N), T.float32)
            acc = T.alloc_fragment((block_M, N), T.float32)
            has_valid = T.alloc_var(T.bool)
            T.clear(acc)
            has_valid = False
            for k in T.serial(nblk):
                i_s = Idx[bx, k]
                if i_s >= 0:
                    has_valid = True
                    T.copy(X[bx * block_M, i_s * N], xs)
                    for i, j in T.Parallel(block_M, N):
                        acc[i, j] += xs[i, j]
            if has_valid:
                for i, j in T.Parallel(block_M, N):
                    acc[i, j] = acc[i, j] * 0.5
            T.copy(acc, Y[bx * block_M, 0])
    return main
'''

# Eager style: `if Mask[bx, k]:` on an element read from DRAM, a counter cleared by T.clear and
# counted in the then branch, another in the else branch, a T.alloc_var assigned only in a branch
# (it starts at 0), and an `if` comparing two run-time scalars.
EAGER = '''
import tilelang
import tilelang.language as T


@tilelang.jit(out_idx=[-1])
def masked_blocks(X, Mask, bm=32, bn=32):
    M, nblk = T.const("M, nblk")
    X: T.Tensor((M, nblk * bn), T.float32)
    Mask: T.Tensor((M // bm, nblk), T.int32)
    Y = T.empty((M, bn), T.float32)
    with T.Kernel(M // bm) as bx:
        xs = T.alloc_shared((bm, bn), T.float32)
        acc = T.alloc_fragment((bm, bn), T.float32)
        count = T.alloc_var(T.int32)
        skipped = T.alloc_var(T.int32)
        last = T.alloc_var(T.int32)
        T.clear(acc)
        T.clear(count)
        skipped = 0
        for k in T.serial(nblk):
            if Mask[bx, k]:
                count += 1
                last = k
                T.copy(X[bx * bm, k * bn], xs)
                for i, j in T.Parallel(bm, bn):
                    acc[i, j] += xs[i, j]
            else:
                skipped = skipped + 1
        if count > skipped:
            for i, j in T.Parallel(bm, bn):
                acc[i, j] = acc[i, j] * 0.5
        for i, j in T.Parallel(bm, bn):
            acc[i, j] = acc[i, j] + last
        T.copy(acc, Y[bx * bm, 0])
    return Y
'''
FACTORY_SETS = {"M": 96, "N": 32, "nblk": 3}
EAGER_SETS = {"M": 96, "nblk": 4}


def sparse_inputs(kernel):
    rng = np.random.default_rng(3)
    inputs = api.random_inputs(kernel, seed=7)
    idx = rng.integers(0, 3, size=(3, 3)).astype(np.int32)
    idx[rng.random((3, 3)) < 0.4] = -1
    idx[0] = -1                                    # a block row with no valid block: has_valid stays False
    return inputs | {"Idx": idx}


def sparse_reference(ins):
    x, idx, n = ins["X"].astype(np.float64), ins["Idx"], 32
    y = np.zeros((96, n))
    for b in range(3):
        rows = slice(b * 32, (b + 1) * 32)
        for i_s in idx[b]:
            if i_s >= 0:
                y[rows] += x[rows, i_s * n:(i_s + 1) * n]
        if (idx[b] >= 0).any():
            y[rows] *= 0.5
    return {"Y": y.astype(np.float32)}


def mask_inputs(kernel):
    rng = np.random.default_rng(5)
    mask = (rng.random((3, 4)) < 0.5).astype(np.int32) * rng.integers(1, 4, size=(3, 4)).astype(np.int32)
    mask[0], mask[1] = 0, [3, 1, 0, 2]             # no block (last stays 0); more counted than skipped
    return api.random_inputs(kernel, seed=7) | {"Mask": mask}


def mask_reference(ins):
    x, mask = ins["X"].astype(np.float64), ins["Mask"]
    y = np.zeros((96, 32))
    for b in range(3):
        rows, on = slice(b * 32, (b + 1) * 32), np.flatnonzero(mask[b])
        for k in on:
            y[rows] += x[rows, k * 32:(k + 1) * 32]
        if len(on) > 4 - len(on):
            y[rows] *= 0.5
        y[rows] += on[-1] if len(on) else 0
    return {"Y": y.astype(np.float32)}


def test_a_flag_set_under_an_if_on_data_is_carried_and_tested_at_every_level(tmp_path):
    loaded = load_text(tmp_path, FACTORY, FACTORY_SETS)
    kernel = api.lower(loaded.prim_func, stop_after="P0")
    once = [s for s in walk(kernel.body) if isinstance(s, l0.For) and isinstance(s.extent, l0.Select)]
    assert len(once) == 1 and any(isinstance(s, l0.Let) and s.update for s in once[0].body)
    check_levels(loaded, sparse_reference, sparse_inputs)


def test_counters_in_both_branches_and_an_if_on_a_dram_element_at_every_level(tmp_path):
    loaded = load_text(tmp_path, EAGER, EAGER_SETS)
    kernel = api.lower(loaded.prim_func, stop_after="P0")
    chosen = [s for s in walk(kernel.body) if isinstance(s, l0.Let) and isinstance(s.value, l0.Select)]
    assert [s.var for s in chosen] == ["skipped_1"]         # the else branch: predicated, a select
    check_levels(loaded, mask_reference, mask_inputs)


def test_a_branch_with_tile_ops_declares_its_scalars_before_the_loop_it_becomes(tmp_path):
    """`let x_1 = x` before the loop once_if makes, `set x_1 = v` in it: after the loop x_1 is v
    where the branch ran and x elsewhere (the select P0 cannot leave inside the loop)."""
    kernel = api.lower(load_text(tmp_path, EAGER, EAGER_SETS).prim_func, stop_after="P0")
    loop = next(s for s in kernel.body if isinstance(s, l0.For))
    names = [s.var for s in loop.body if isinstance(s, l0.Let) and not s.update]
    assert names[1:3] == ["count_1", "last_1"]
    once = next(s for s in loop.body if isinstance(s, l0.For))
    assert [s.var for s in once.body if isinstance(s, l0.Let)] == ["count_1", "last_1"]


def test_a_scalar_read_before_it_is_ever_assigned_stays_refused(tmp_path):
    text = EAGER.replace("                count += 1\n", "                count += last\n")
    with pytest.raises(NanottError) as e:
        api.lower(load_text(tmp_path, text, EAGER_SETS).prim_func, stop_after="P0")
    assert e.value.code == "NT304" and "read before anything is assigned" in e.value.message and e.value.hint


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("g++") is None, reason="g++ is not installed")
@pytest.mark.parametrize("text, sets", [(FACTORY, FACTORY_SETS), (EAGER, EAGER_SETS)])
def test_the_cpp_builds_runs_and_matches_numpy(tmp_path, text, sets):
    path = tmp_path / "kernel.py"
    path.write_text(text)
    args = [a for k, v in sets.items() for a in ("--set", f"{k}={v}")]
    out = nanott_cli("compile", str(path), *args, "-o", str(tmp_path / "out"), "--execute").output
    assert out.strip().splitlines()[-1].endswith("within tolerance: PASS")


WEIGHTED = '''
import tilelang
import tilelang.language as T


@tilelang.jit(out_idx=[-1])
def last_weight(X, Mask, W, bm=32, bn=32):
    M, nblk = T.const("M, nblk")
    X: T.Tensor((M, bn), T.float32)
    Mask: T.Tensor((M // bm, nblk), T.int32)
    W: T.Tensor((M // bm, nblk), T.float32)
    Y = T.empty((M, bn), T.float32)
    with T.Kernel(M // bm) as bx:
        xs = T.alloc_shared((bm, bn), T.float32)
        acc = T.alloc_fragment((bm, bn), T.float32)
        w = T.alloc_var(T.float32)
        T.clear(w)
        for k in T.serial(nblk):
            if Mask[bx, k]:
                w = W[bx, k]
        T.copy(X[bx * bm, 0], xs)
        for i, j in T.Parallel(bm, bn):
            acc[i, j] = xs[i, j] * w
        T.copy(acc, Y[bx * bm, 0])
    return Y
'''


def weighted_reference(ins):
    x, mask, w = ins["X"].astype(np.float64), ins["Mask"], ins["W"].astype(np.float64)
    last = [w[b, np.flatnonzero(mask[b])[-1]] if mask[b].any() else 0.0 for b in range(3)]
    return {"Y": (x * np.repeat(last, 32)[:, None]).astype(np.float32)}


def test_a_float_read_from_dram_into_a_scalar_under_an_if_feeds_compute_at_every_level(tmp_path):
    """Once NT318 (no tile held a scalar for the compute engines); now P0b makes w a vector, the
    element picked out of its tile row and chosen with masks of the reader's condition
    (tests/test_dram_scalars.py)."""
    check_levels(load_text(tmp_path, WEIGHTED, EAGER_SETS), weighted_reference, mask_inputs)
