"""Stage B (B1 partition-work, B2 grid-to-persistent) on hand-built L0 kernels and on the examples:
the work split (every block exactly once, balanced within one block, 1 to 130 blocks, on both
targets), the persistent loop B2 writes (fresh names, recovered block indices, locations), and
InterpL2 and InterpL3 bit-identical to InterpL0 on random inputs (np.array_equal: stage B moves
blocks between cores, never changes arithmetic).
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent))

from kernels_l0 import (F32, eltwise_kernel, example_kernels, gemm_kernel, loc, lower_to,  # noqa: E402
                        random_arrays, reference, rename, run)

from nanott.ir import CheckError, replace  # noqa: E402
from nanott.languages import l0, l2, l3  # noqa: E402
from nanott.languages.l2_interp import InterpL2  # noqa: E402
from nanott.languages.l3_interp import InterpL3  # noqa: E402
from nanott.passes.b1_partition_work import split_work  # noqa: E402
from nanott.passes.b2_grid_to_persistent import grid_to_persistent  # noqa: E402
from nanott.target import BLACKHOLE_P150, WORMHOLE_N150  # noqa: E402

pytestmark = [pytest.mark.B1, pytest.mark.B2]
I = lambda n: l3.Const(n, "int32")                   # noqa: E731
V = l3.Var

# blocks -> a grid with that many blocks (32 x 32 blocks of a [32 * gy, 32 * gx] tensor)
GRIDS = {1: (1, 1), 7: (7, 1), 64: (8, 8), 100: (10, 10), 130: (13, 10)}


def grid_kernel(grid: tuple[int, ...], **kw) -> l0.Kernel:
    if len(grid) == 3:
        return eltwise_kernel(M=32 * grid[1] * grid[2], N=32 * grid[0], bm=32, bn=32, grid=grid, **kw)
    if len(grid) == 1:
        return eltwise_kernel(M=32, N=32 * grid[0], bm=32, bn=32, grid=grid, **kw)
    return eltwise_kernel(M=32 * grid[1], N=32 * grid[0], bm=32, bn=32, **kw)


# ----- B1 partition-work -----
@pytest.mark.parametrize("target", [WORMHOLE_N150, BLACKHOLE_P150], ids=lambda t: t.name)
@pytest.mark.parametrize("blocks", sorted(GRIDS))
def test_b1_every_block_exactly_once_balanced_within_one(blocks, target):
    k2 = lower_to(grid_kernel(GRIDS[blocks]), "B1", target)
    work = k2.work
    assert work.blocks == blocks and work.core_grid == target.grid
    assert len(work.cores) == min(blocks, target.num_cores)
    ran = [i for c in work.cores for i in range(c.start, c.start + c.count)]
    assert ran == list(range(blocks))                                  # each once, in core order
    counts = [c.count for c in work.cores]
    assert max(counts) - min(counts) <= 1 and counts == sorted(counts, reverse=True)
    assert counts.count(blocks // len(counts) + 1) == blocks % len(counts)
    gx, gy = target.grid
    assert [c.core for c in work.cores] == [(i % gx, i // gx) for i in range(len(work.cores))]
    assert all(x < gx and y < gy for x, y in (c.core for c in work.cores))


def test_b1_more_blocks_than_cores_deals_the_remainder_to_the_first_cores():
    work = split_work(100, WORMHOLE_N150)
    assert [c.count for c in work.cores] == [2] * 36 + [1] * 28
    assert work.cores[36] == l2.CoreWork((4, 4), 72, 1) and work.cores[-1] == l2.CoreWork((7, 7), 99, 1)


def test_b1_leaves_the_body_and_the_grid_alone():
    k1 = lower_to(gemm_kernel(), "A3")
    k2 = lower_to(gemm_kernel(), "B1")
    assert (k2.body, k2.params, k2.grid, k2.block_vars, k2.name) == (k1.body, k1.params, k1.grid, k1.block_vars, k1.name)


def test_the_l2_checker_rejects_a_split_that_runs_a_block_twice():
    k2 = lower_to(grid_kernel((7, 1)), "B1")
    cores = k2.work.cores
    twice = replace(k2, work=replace(k2.work, cores=(cores[0], replace(cores[1], start=0), *cores[2:])))
    with pytest.raises(CheckError, match="expected 1"):
        l2.LANG.check(twice)
    with pytest.raises(AssertionError, match="block 0 runs twice"):
        InterpL2().run(twice, random_arrays(k2))


NUMERIC_CASES = {
    "gemm": (lambda: gemm_kernel(), WORMHOLE_N150),
    "gemm-bx-rows": (lambda: gemm_kernel(bx_on_cols=False), WORMHOLE_N150),
    "gemm-f32-big": (lambda: gemm_kernel(dtype=F32, M=96, N=64, K=96, bm=32, bn=32, bk=32, stages=3), WORMHOLE_N150),
    "eltwise": (lambda: eltwise_kernel(), WORMHOLE_N150),
    "eltwise-bx-rows": (lambda: eltwise_kernel(bx_on_cols=False, M=64, N=160), WORMHOLE_N150),
    "eltwise-in-place": (lambda: eltwise_kernel(in_place=True), WORMHOLE_N150),
    "7-blocks": (lambda: grid_kernel((7, 1)), WORMHOLE_N150),
    "100-blocks": (lambda: grid_kernel((10, 10)), WORMHOLE_N150),
    "130-blocks-bx-rows": (lambda: grid_kernel((10, 13), bx_on_cols=False), BLACKHOLE_P150),
    "130-blocks-on-64-cores": (lambda: grid_kernel((13, 10)), WORMHOLE_N150),
    "1d-grid": (lambda: grid_kernel((5,)), WORMHOLE_N150),
    "3d-grid": (lambda: grid_kernel((3, 4, 5)), WORMHOLE_N150),
    "3d-grid-on-7": (lambda: grid_kernel((2, 3, 4)), replace(WORMHOLE_N150, grid=(7, 1))),
}


@pytest.mark.parametrize("name", sorted(NUMERIC_CASES))
def test_b1_numerics_bit_identical_to_l0(name):
    make, target = NUMERIC_CASES[name]
    k0 = make()
    arrays = random_arrays(k0, seed=5)
    got = run(InterpL2(), lower_to(k0, "B1", target), arrays)
    assert np.array_equal(got["C"], reference(k0, arrays)["C"])


# ----- B2 grid-to-persistent -----
def persistent_loop(k3: l3.Kernel) -> l3.For:
    assert len(k3.body) == 1
    return k3.body[0]


def test_b2_wraps_the_body_in_a_persistent_loop_over_the_core_blocks():
    k2 = lower_to(gemm_kernel(), "B1")
    k3 = grid_to_persistent(k2, WORMHOLE_N150)
    l3.LANG.check(k3)
    loop = persistent_loop(k3)
    gx = k2.grid[0]
    assert (loop.var, loop.extent, loop.kind, loop.num_stages) == ("blk", l3.CoreArg("count"), "persistent", 0)
    assert loop.body[:3] == (
        l3.Let("block_id", l3.BinOp("+", l3.CoreArg("start"), V("blk"))),
        l3.Let("bx", l3.BinOp("%", V("block_id"), I(gx))),
        l3.Let("by", l3.BinOp("//", V("block_id"), I(gx))))
    assert loop.body[3:] == k2.body and k3.work == k2.work and k3.params == k2.params
    assert loop.loc == k2.body[0].loc == loc(3) and all(s.loc == loc(3) for s in loop.body[:3])


def test_b2_recovers_three_block_indices_and_one():
    loop = persistent_loop(lower_to(grid_kernel((3, 4, 5)), "B2"))
    assert loop.body[1:4] == (
        l3.Let("bx", l3.BinOp("%", V("block_id"), I(3))),
        l3.Let("by", l3.BinOp("%", l3.BinOp("//", V("block_id"), I(3)), I(4))),
        l3.Let("bz", l3.BinOp("//", V("block_id"), I(12))))
    loop = persistent_loop(lower_to(grid_kernel((5,)), "B2"))
    assert loop.body[1] == l3.Let("bx", V("block_id")) and isinstance(loop.body[2], l3.Alloc)


def test_b2_fresh_names_do_not_clash_with_the_kernels_names():
    k = grid_kernel((4, 2))
    k = replace(k, body=rename(k.body, "T", "blk"))                 # a buffer named blk
    k = replace(k, body=(l0.Let("block_id", l0.Const(0, "int32")),
                         l0.For("blk1", l0.Const(1, "int32"), "serial", 0, ()), *k.body))
    loop = persistent_loop(lower_to(k, "B2"))
    assert loop.var == "blk2" and loop.body[0].var == "block_id1"
    assert loop.body[1] == l3.Let("bx", l3.BinOp("%", V("block_id1"), I(4)))
    arrays = random_arrays(k, seed=6)
    assert np.array_equal(run(InterpL3(), lower_to(k, "B2"), arrays)["C"], reference(k, arrays)["C"])


def test_b2_numerics_notice_a_wrong_block_recovery():
    """The numerics test below can fail: by = id % gy instead of id // gx runs half the blocks twice."""
    k0 = grid_kernel((4, 2))
    k3 = lower_to(k0, "B2")
    loop = persistent_loop(k3)
    wrong = replace(loop.body[2], value=l3.BinOp("%", V("block_id"), I(2)))
    broken = replace(k3, body=(replace(loop, body=(*loop.body[:2], wrong, *loop.body[3:])),))
    arrays = random_arrays(k0, seed=7)
    assert not np.array_equal(run(InterpL3(), broken, arrays)["C"], reference(k0, arrays)["C"])


@pytest.mark.parametrize("name", sorted(NUMERIC_CASES))
def test_b2_numerics_bit_identical_to_l0(name):
    make, target = NUMERIC_CASES[name]
    k0 = make()
    arrays = random_arrays(k0, seed=8)
    got = run(InterpL3(), lower_to(k0, "B2", target), arrays)
    assert np.array_equal(got["C"], reference(k0, arrays)["C"])


def test_interp_l3_runs_each_core_with_its_own_start_and_count():
    """A core whose count is cut short leaves its last block unwritten (NaN stays NaN)."""
    k0 = grid_kernel((7, 1))
    k3 = lower_to(k0, "B2", replace(WORMHOLE_N150, grid=(3, 1)))      # 3, 2, 2 blocks
    assert [c.count for c in k3.work.cores] == [3, 2, 2]
    cut = replace(k3, work=replace(k3.work, cores=(replace(k3.work.cores[0], count=2), *k3.work.cores[1:])))
    arrays = random_arrays(k0, seed=9)
    arrays["C"][:] = np.nan
    c = run(InterpL3(), cut, arrays)["C"].astype(np.float32)
    assert np.isnan(c[:, 64:96]).all() and not np.isnan(np.delete(c, np.s_[64:96], axis=1)).any()


# ----- the examples, through the real front end -----
@pytest.mark.parametrize("prim_func", example_kernels())
def test_examples_through_b2_bit_identical_to_l0(prim_func):
    from nanott.languages.l0_interp import InterpL0
    from nanott.pipeline import lower
    k0 = lower(prim_func, stop_after="P0")
    arrays = random_arrays(k0, seed=10)
    want = run(InterpL0(), k0, arrays)
    for stop, interp in (("B1", InterpL2()), ("B2", InterpL3())):
        got = run(interp, lower(prim_func, stop_after=stop), arrays)
        assert all(np.array_equal(got[n], want[n], equal_nan=True) for n in arrays), stop


# ----- split-K: T.atomic_add lowered by B1 (issue 4, step 4) -----
SPLITK = '''
import nanott.language as T

@T.prim_func
def splitk(A: T.Tensor((64, 128), "float32"), B: T.Tensor((128, 64), "float32"), C: T.Tensor((64, 64), "float32")):
    with T.Kernel(2, 2, 2) as (bx, by, bz):
        A_s = T.alloc_shared((32, 64), "float32")
        B_s = T.alloc_shared((64, 32), "float32")
        C_l = T.alloc_fragment((32, 32), "float32")
        T.clear(C_l)
        T.copy(A[by * 32, bz * 64], A_s)
        T.copy(B[bz * 64, bx * 32], B_s)
        T.gemm(A_s, B_s, C_l)
        T.atomic_add(C[by * 32, bx * 32], C_l)
'''


def splitk_kernel(tmp_path, text=SPLITK):
    from nanott.loader import load_kernel
    (tmp_path / "splitk.py").write_text(text)
    return load_kernel(tmp_path / "splitk.py").prim_func


def test_b1_folds_the_split_dim_into_a_loop_on_the_block_core(tmp_path):
    """Without P0c (which puts these 4 output blocks' slices on their own cores), B1's fold."""
    from nanott import api, pipeline
    pf = splitk_kernel(tmp_path)
    k2 = pipeline.lower(pf, "B1", skip=("P0c",))
    assert (k2.grid, k2.block_vars, k2.work.blocks) == ((2, 2), ("bx", "by"), 4)
    names = [type(s).__name__ for s in k2.body]
    assert names == ["Alloc", "Alloc", "Copy", "Copy", "For", "Copy"]
    loop = k2.body[4]
    assert (loop.var, loop.extent, loop.kind) == ("bz", I(2), "split") and "split-K" in loop.head()
    assert loop.loc.line == 6 and isinstance(loop.body[-1], l2.Parallel)
    assert k2.body[0].cb.depth == 2 and k2.body[1].dtype == "float32"
    inputs = api.random_inputs(api.lower(pf, stop_after="P0"), 0)
    assert not inputs["C"].any()                      # an atomically summed output starts at zero
    got = {"L0": api.simulate(api.lower(pf, stop_after="P0"), "L0", inputs), "L2": api.simulate(k2, "L2", inputs)}
    assert np.array_equal(got["L0"]["C"], got["L2"]["C"])
    assert np.allclose(got["L2"]["C"], inputs["A"].astype(np.float64) @ inputs["B"], atol=1e-4)


@pytest.mark.parametrize("change, code, words", [
    (("        T.atomic_add(C[by * 32, bx * 32], C_l)\n",
      "        for r in T.serial(2):\n            T.atomic_add(C[by * 32, bx * 32], C_l)\n"),
     "NT323", "inside a loop"),
    (("        T.atomic_add(C[by * 32, bx * 32], C_l)\n",
      "        T.atomic_add(C[by * 32, bx * 32], C_l)\n        T.copy(C_l, C[by * 32, bx * 32])\n"),
     "NT323", "also read or written otherwise"),
    (("        T.atomic_add(C[by * 32, bx * 32], C_l)\n",
      "        for i, j in T.Parallel(32, 32):\n            T.atomic_add(C[by * 32 + i, bx * 32 + j], C_l[i, j], "
      "return_prev=True)\n"),
     "NT304", "only the tile form of T.atomic_add"),
])
def test_what_split_k_does_not_lower_yet_is_a_diagnostic(tmp_path, change, code, words):
    from nanott import api
    from nanott.diagnostics import NanottError
    with pytest.raises(NanottError) as e:
        api.lower(splitk_kernel(tmp_path, SPLITK.replace(*change)))
    assert e.value.code == code and words in e.value.message and e.value.hint and e.value.loc.line >= 14


IN_LOOP = '''
import nanott.language as T

@T.prim_func
def chunks(A: T.Tensor((128, 64), "float32"), C: T.Tensor((128, 96), "float32")):
    with T.Kernel(2) as bx:
        A_s = T.alloc_shared((32, 32), "float32")
        for k in T.serial(2):
            T.copy(A[k * 64 + bx * 32, 0], A_s)
            T.atomic_add(C[k * 64 + bx * 32, 32], A_s)
'''


def test_b1_adds_in_a_loop_that_never_meet_become_a_read_a_sum_and_a_write(tmp_path):
    """Each block's rows move with bx and with k by a whole region: every add its own region, so
    each is a read, a sum and a write where it was, and C holds A's first 32 columns at 32..63."""
    from nanott import api
    pf = splitk_kernel(tmp_path, IN_LOOP)
    k2 = api.lower(pf, stop_after="B1")
    assert k2.grid == (2,) and [type(s).__name__ for s in k2.body].count("Alloc") == 3
    loop = next(s for s in k2.body if isinstance(s, l2.For))
    assert [type(s).__name__ for s in loop.body] == ["Copy", "Copy", "Copy", "Parallel", "Copy"]
    inputs = api.random_inputs(api.lower(pf, stop_after="P0"), 0)
    got = {lv: api.simulate(api.lower(pf, stop_after=s), lv, inputs) for lv, s in (("L0", "P0"), ("L9", "F1"))}
    assert np.array_equal(got["L0"]["C"], got["L9"]["C"])
    a = inputs["A"]
    assert np.array_equal(got["L9"]["C"][:, 32:64], a[:, :32])
    assert not got["L9"]["C"][:, :32].any() and not got["L9"]["C"][:, 64:].any()


def test_adds_in_a_loop_that_meet_across_blocks_are_summed_by_position(tmp_path):
    """Both blocks of bx add into the rows k * 64: P0c gives each its partials and sums them per
    position k (the adds do not cover C), bit for bit L0's atomic adds."""
    from nanott import api
    pf = splitk_kernel(tmp_path, IN_LOOP.replace("k * 64 + bx * 32, 32", "k * 64, 32"))
    inputs = api.random_inputs(api.lower(pf, stop_after="P0"), 0)
    got = {lv: api.simulate(api.lower(pf, stop_after=s), lv, inputs) for lv, s in (("L0", "P0"), ("L9", "F1"))}
    assert np.array_equal(got["L0"]["C"].view(np.uint32), got["L9"]["C"].view(np.uint32))
    a = inputs["A"].astype(np.float64)
    want = np.zeros((128, 96))
    for k in range(2):
        want[k * 64:k * 64 + 32, 32:64] += a[k * 64:k * 64 + 32, :32] + a[k * 64 + 32:k * 64 + 64, :32]
    assert np.max(np.abs(got["L9"]["C"] - want)) <= 1e-6 * np.max(np.abs(want))     # 2 fp32 adds


@pytest.mark.parametrize("start, why", [
    ("k * 32 + bx * 32", "block 1 at k = 0 and block 0 at k = 1 add into the same rows"),
    ("bx * 64", "the two iterations of k add into the same rows"),
])
def test_adds_in_a_loop_that_may_meet_are_a_diagnostic(tmp_path, start, why):
    from nanott import api
    from nanott.diagnostics import NanottError
    with pytest.raises(NanottError) as e:
        api.lower(splitk_kernel(tmp_path, IN_LOOP.replace("k * 64 + bx * 32, 32", f"{start}, 32")))
    assert e.value.code == "NT323" and "may meet" in e.value.message and e.value.loc.line == 10, why
