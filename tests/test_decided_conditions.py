"""An `if` whose condition the loop and grid ranges decide (P0: value_bounds.decided), and a
tensor that one launch writes in columns and another reads by elements (A1: one order).

TileLang's GQA decoding writes `for i in T.Parallel(block_H): if i < valid_block_H: glse[b, h * v + i,
s] = logsum[i]`; when the group fills the block (valid_block_H == block_H), the condition holds for
every i of the loop and P0 runs the branch alone, as it runs an `if` on a Python value: the store is
an unconditional column of the scratch tensor. Its combine step then reads single elements of that
tensor: A1 stores the tensor in the order of the launch that copies it (the column a row of the
stored matrix) in every launch, so both launches see one DRAM buffer.

Numerics against NumPy at every level (exact: float32 sums of 32 or 64 float32 blocks in the order
NumPy's pairwise sum takes, within float32's tolerance), and the C++ built and run.
"""
from __future__ import annotations

import shutil

import numpy as np
import pytest
from conftest import load_text, nanott_cli
from test_generality import check_levels

from nanott import api
from nanott.ir import walk
from nanott.languages import l0
from nanott.row_gather import masked_store
from nanott.value_bounds import decided

# Launch 1: per block of X, a flag per row (its sum is positive) into a column of the scratch Pos,
# under `if i < bm` (always true); launch 2: per block row, the sum of the blocks whose rows 0 and 1
# are both flagged, read as single elements of Pos, and `if by >= 0` (always true) around its copy.
FACTORY = '''
import tilelang
import tilelang.language as T


@tilelang.jit(out_idx=[-1])
def positive_blocks(M, N, bm=32, bn=32):
    @T.prim_func
    def main(X: T.Tensor((M, N), T.float32), Y: T.Tensor((M, bn), T.float32)):
        Pos = T.alloc_global((bm, M // bm, N // bn), T.int32)
        with T.Kernel(N // bn, M // bm) as (bx, by):
            xs = T.alloc_shared((bm, bn), T.float32)
            s = T.alloc_fragment((bm,), T.float32)
            T.copy(X[by * bm, bx * bn], xs)
            T.reduce_sum(xs, s, dim=1)
            for i in T.Parallel(bm):
                if i < bm:
                    Pos[i, by, bx] = T.if_then_else(s[i] > 0, 1, 0)
        with T.Kernel(M // bm) as by:
            xs = T.alloc_shared((bm, bn), T.float32)
            acc = T.alloc_fragment((bm, bn), T.float32)
            T.clear(acc)
            for k in T.serial(N // bn):
                if Pos[0, by, k] + Pos[1, by, k] == 2:
                    T.copy(X[by * bm, k * bn], xs)
                    for i, j in T.Parallel(bm, bn):
                        acc[i, j] += xs[i, j]
            if by >= 0:
                T.copy(acc, Y[by * bm, 0])
    return main
'''
SETS = {"M": 96, "N": 128}


def reference(ins):
    x = ins["X"].astype(np.float64)
    y = np.zeros((96, 32))
    for by in range(3):
        for k in range(4):
            block = x[by * 32:(by + 1) * 32, k * 32:(k + 1) * 32]
            if (block[:2].sum(axis=1) > 0).all():
                y[by * 32:(by + 1) * 32] += block
    return {"Y": y.astype(np.float32)}


def test_conditions_the_ranges_decide_run_one_branch_and_the_launches_agree_at_every_level(tmp_path):
    loaded = load_text(tmp_path, FACTORY, SETS)
    program = api.lower(loaded.prim_func, stop_after="P0")
    first, second = program.launches
    assert not any(masked_store(x) for x in walk(first.body) if isinstance(x, l0.Store)), "no old element kept"
    assert not any(isinstance(x, l0.For) and isinstance(x.extent, l0.Select) and "by" in str(x.extent)
                   for x in walk(second.body))
    a1 = api.lower(loaded.prim_func, stop_after="A1")
    layouts = {str(t.layout) for k in a1.launches for t in k.params if t.name == "Pos"}
    assert len(layouts) == 1 and a1.launches[0].params[-1].layout.order == (1, 2, 0)
    check_levels(loaded, reference)


def test_a_condition_some_values_meet_and_others_not_stays_run_time():
    i, c = l0.Var("i"), lambda n: l0.Const(n, "int32")
    ranges = {"i": (0, 31)}
    assert decided(l0.BinOp("<", i, c(32)), ranges) is True
    assert decided(l0.BinOp(">=", i, c(32)), ranges) is False
    assert decided(l0.BinOp("<", i, c(4)), ranges) is None
    assert decided(l0.BinOp("and", l0.BinOp("<", i, c(4)), l0.BinOp("<", i, c(0))), ranges) is False
    assert decided(l0.BinOp("<", l0.Var("n"), c(4)), ranges) is None            # n unbounded


def test_a_partial_column_under_an_undecided_if_gets_a_row_per_element(tmp_path):
    """`if i < 4` over 32 rows: a part of a tile's column, which DRAM writes cannot leave the rest of;
    Pos is scratch, so P0b gives each of its elements a row of its own (_p0b_element_rows.py), and
    launch 2 reads the rows' first column. Rows 0 and 1, which launch 2 reads, are still written."""
    loaded = load_text(tmp_path, FACTORY.replace("if i < bm:", "if i < 4:"), SETS)
    p0b = str(api.lower(loaded.prim_func, stop_after="P0b"))
    assert "scratch Pos: int32[32x3x4x32]" in p0b and "let Pos_elem = Pos[0, by, k, 0]" in p0b
    check_levels(loaded, reference)


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("g++") is None, reason="g++ is not installed")
def test_the_cpp_builds_runs_and_matches_numpy(tmp_path):
    path = tmp_path / "kernel.py"
    path.write_text(FACTORY)
    args = [a for k, v in SETS.items() for a in ("--set", f"{k}={v}")]
    out = nanott_cli("compile", str(path), *args, "-o", str(tmp_path / "out"), "--execute").output
    assert out.strip().splitlines()[-1].endswith("within tolerance: PASS")
