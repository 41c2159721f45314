"""`T.sync_grid()` lowered to a launch boundary (nanott/language/grid_sync.py): the kernel body cut
at a top-level barrier into launches over the same grid, each with the on-chip buffers it uses and
the scalars it recomputes; a value that would have to survive the barrier on chip is NT332, a
barrier inside a kernel loop or a run-time `if` NT304.

The numerics use kernels of ours, written as TileLang users write them: a persistent split-K GEMM
(tests/kernels/tilelang_style/persistent_split_k.py: 64 blocks, as many as driver.get_num_sms()
answers, walking 72 split tiles in 2 waves, then 36 combine tiles), and a kernel whose second phase
reads the rows the *other* block wrote in the first (right only if the barrier holds). Each is
compared with NumPy on random inputs. Tolerance: float32's (api.within: 1e-4 of |ref| and of
max|ref|): the bfloat16 inputs are exact in float32, each product is exact, and only the order of
the float32 additions (at most 128 terms of size <= 1) differs from NumPy's float64 sum, about
128 * 2^-24 relative to the sum of |terms|; the swap kernel's + 1.0 and * 2.0 round once each.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from conftest import nanott_cli
from test_frontend_diagnostics import assert_points_at, caught
from test_generality import check_levels

import nanott.language as T
from nanott import api
from nanott.ir import Launches
from nanott.languages import l0
from nanott.loader import load_kernel
from nanott.pipeline import lower

HERE = Path(__file__).resolve()
SPLIT_K = HERE.parent / "kernels" / "tilelang_style" / "persistent_split_k.py"
RNG = np.random.default_rng(12)


def split_k():
    return load_kernel(SPLIT_K, None, {})


def split_k_reference(x):
    partial, c = split_k().reference(x["A"], x["B"], x["Partial"])     # the file's NumPy reference
    return {"Partial": partial, "C": c}


def test_the_barrier_splits_the_kernel_into_launches_over_the_same_grid():
    program = lower(split_k().prim_func, "P0")
    assert isinstance(program, Launches) and len(program.launches) == 2
    split, combine = program.launches
    assert split.grid == combine.grid == (64,) and split.block_vars == combine.block_vars == ("block_id",)
    assert [a for a in split.attrs if a.key == "sync_grid"][0].value == "launch 1 of 2"
    assert [a for a in combine.attrs if a.key == "sync_grid"][0].value == "launch 2 of 2"
    allocs = [{s.name for s in k.body if isinstance(s, l0.Alloc)} for k in program.launches]
    assert allocs == [{"A_shared", "B_shared", "acc"}, {"part", "total"}]   # each buffer where it is used
    assert [t.name for t in split.params] == ["A", "B", "Partial"] and [t.name for t in combine.params] == \
        ["Partial", "C"]


def test_the_persistent_split_k_matches_numpy_at_l0_and_l9():
    """The fast tier's share: the two ends of the ladder."""
    loaded = split_k()
    kernel = api.lower(loaded.prim_func, stop_after="P0")
    inputs = api.random_inputs(kernel, seed=3)
    expected = split_k_reference(inputs)
    for level in ("L0", "L9"):
        got = api.simulate(api.lower(loaded.prim_func, stop_after=api.stage_for_level(level).id), level, inputs)
        for name in ("Partial", "C"):
            assert api.within(got[name], expected[name], "float32"), (level, name)


@pytest.mark.slow
@pytest.mark.parametrize("level", [f"L{i}" for i in range(10)])
def test_the_persistent_split_k_matches_numpy_at_every_level(level):
    loaded = split_k()
    inputs = api.random_inputs(api.lower(loaded.prim_func, stop_after="P0"), seed=5)
    expected = split_k_reference(inputs)
    got = api.simulate(api.lower(loaded.prim_func, stop_after=api.stage_for_level(level).id), level, inputs)
    for name in ("Partial", "C"):
        assert api.within(got[name], expected[name], "float32"), (level, name)


@pytest.mark.slow
def test_the_fast_simulators_agree_with_the_interpreters_bit_for_bit():
    check_levels(split_k(), split_k_reference)       # also L0, L5, L9 against NumPy


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("g++") is None, reason="g++ is not installed")
def test_the_persistent_split_k_builds_runs_and_matches_numpy(tmp_path):
    """`nanott compile --execute`: two launches in one host program, against the file's reference."""
    out = nanott_cli("compile", str(SPLIT_K), "-o", str(tmp_path / "out"), "--execute").output
    assert "C: max abs err" in out and out.strip().splitlines()[-1].endswith("within tolerance: PASS")


def swap_rows(steps=((None, None),)):
    """Phase 1 writes 2 A's rows of block bx to S; after the barrier each block reads the rows the
    other block wrote (1 - bx), adds 1 and writes them to B. `a` is used on both sides, wholly
    rewritten after the barrier; `other` is a scalar of the block index computed before it."""

    @T.prim_func
    def swap(A: T.Tensor((64, 64), "float32"), S: T.Tensor((64, 64), "float32"),
             B: T.Tensor((64, 64), "float32")):
        with T.Kernel(2) as bx:
            a = T.alloc_fragment((32, 64), "float32")
            other = 1 - bx
            T.copy(A[bx * 32, 0], a)
            for i, j in T.Parallel(32, 64):
                a[i, j] = a[i, j] * 2.0
            T.copy(a, S[bx * 32, 0])
            T.sync_grid()
            T.copy(S[other * 32, 0], a)
            for i, j in T.Parallel(32, 64):
                a[i, j] = a[i, j] + 1.0
            T.copy(a, B[bx * 32, 0])

    return swap


def swapped(x):
    return np.concatenate([x[32:], x[:32]])


@pytest.mark.parametrize("level", ["L0", "L5", "L9"])
def test_a_block_reads_what_another_block_wrote_before_the_barrier(level):
    a = RNG.uniform(-1, 1, (64, 64)).astype(np.float32)
    s, b = np.full_like(a, np.nan), np.full_like(a, np.nan)
    api.run(swap_rows(), a, s, b, level=level)
    assert api.within(s, 2 * a, "float32") and api.within(b, swapped(2 * a) + 1, "float32"), level
    program = lower(swap_rows(), "P0")
    second = program.launches[1].body
    assert any(isinstance(x, l0.Let) and x.var == "other" for x in second)      # recomputed after


def test_barriers_in_a_python_loop_are_barriers_at_the_top_level():
    @T.prim_func
    def ping_pong(A: T.Tensor((64, 64), "float32"), S: T.Tensor((64, 64), "float32"),
                  U: T.Tensor((64, 64), "float32"), B: T.Tensor((64, 64), "float32")):
        with T.Kernel(2) as bx:
            a = T.alloc_fragment((32, 64), "float32")
            T.copy(A[bx * 32, 0], a)
            T.copy(a, S[bx * 32, 0])
            for src, dst in [(S, U), (U, B)]:           # a Python loop: run while P0 parses
                T.sync_grid()
                T.copy(src[(1 - bx) * 32, 0], a)
                for i, j in T.Parallel(32, 64):
                    a[i, j] = a[i, j] + 1.0
                T.copy(a, dst[bx * 32, 0])

    assert len(lower(ping_pong, "P0").launches) == 3
    x = RNG.uniform(-1, 1, (64, 64)).astype(np.float32)
    s, u, b = (np.full_like(x, np.nan) for _ in range(3))
    api.run(ping_pong, x, s, u, b, level="L9")
    assert api.within(u, swapped(x) + 1, "float32") and api.within(b, x + 2, "float32")


def test_a_barrier_with_nothing_after_it_is_no_launch():
    @T.prim_func
    def trailing(A: T.Tensor((32, 32), "float32"), B: T.Tensor((32, 32), "float32")):
        with T.Kernel(1) as bx:
            a = T.alloc_fragment((32, 32), "float32")
            T.copy(A[0, 0], a)
            T.copy(a, B[0, 0])
            T.sync_grid()

    assert isinstance(lower(trailing, "P0"), l0.Kernel)


def test_a_buffer_written_before_the_barrier_and_read_after_it_is_named():
    @T.prim_func
    def carried(A: T.Tensor((64, 64), "float32"), B: T.Tensor((64, 64), "float32")):
        with T.Kernel(2) as bx:
            kept = T.alloc_fragment((32, 64), "float32")
            T.copy(A[bx * 32, 0], kept)
            T.sync_grid()
            T.copy(kept, B[bx * 32, 0])

    err = caught(lambda: lower(carried, "P0"))
    assert err.code == "NT332" and "kept is written before T.sync_grid" in err.message
    assert "does not survive a launch" in err.message and "T.alloc_global" in err.hint
    assert_points_at(err, HERE, "T.copy(kept, B[bx * 32, 0])")


def test_a_scalar_read_from_memory_before_the_barrier_and_used_after_it_is_named():
    @T.prim_func
    def scalar(A: T.Tensor((64, 64), "float32"), Rows: T.Tensor((2,), "int32"), B: T.Tensor((64, 64), "float32")):
        with T.Kernel(2) as bx:
            r = T.alloc_fragment((32, 64), "float32")
            row = Rows[bx]
            T.sync_grid()
            T.copy(A[row * 32, 0], r)
            T.copy(r, B[bx * 32, 0])

    err = caught(lambda: lower(scalar, "P0"))
    assert err.code == "NT332" and "the scalar row is computed before T.sync_grid" in err.message
    assert "read from memory" in err.message and "compute row again" in err.hint
    assert_points_at(err, HERE, "T.copy(A[row * 32, 0], r)")


@pytest.mark.parametrize("where", ["loop", "if"])
def test_a_barrier_inside_a_kernel_loop_or_a_run_time_if_is_named(where):
    @T.prim_func
    def in_loop(A: T.Tensor((64, 64), "float32"), B: T.Tensor((64, 64), "float32")):
        with T.Kernel(2) as bx:
            t = T.alloc_fragment((32, 64), "float32")
            for k in T.serial(2):
                T.copy(A[bx * 32, 0], t)
                T.sync_grid()  # in a kernel loop
            T.copy(t, B[bx * 32, 0])

    @T.prim_func
    def in_if(A: T.Tensor((64, 64), "float32"), B: T.Tensor((64, 64), "float32")):
        with T.Kernel(2) as bx:
            t = T.alloc_fragment((32, 64), "float32")
            T.copy(A[bx * 32, 0], t)
            if bx < 1:
                T.sync_grid()  # under a run-time if
            T.copy(t, B[bx * 32, 0])

    err = caught(lambda: lower(in_loop if where == "loop" else in_if, "P0"))
    assert err.code == "NT304" and "T.sync_grid inside a kernel loop or an if" in err.message
    assert "top level of the T.Kernel body" in err.hint
    assert_points_at(err, HERE, "T.sync_grid()  # in a kernel loop" if where == "loop" else
                     "T.sync_grid()  # under a run-time if")


def weighted_combine(num_split=3, M=96, N=64, bm=32, sm_num=2):
    """The persistent MLA combine's scalars, on data of our own: per row block (two blocks walking
    three tiles, the third behind the guard on the second wave) `T.clear(total)` of a T.alloc_var,
    `total += ...` carried by a loop, `total` reassigned under the guard, and a weight of it scaling
    each slice read back from what phase 1 wrote: C = sum_s (s + 1) P[s] / (2 sum_s (s + 1)) * 2,
    with P[s] = A[s] + 1 written before the barrier."""
    m_blocks = M // bm

    @T.prim_func
    def combine(A: T.Tensor((num_split, M, N), "float32"), P: T.Tensor((num_split, M, N), "float32"),
                C: T.Tensor((M, N), "float32")):
        with T.Kernel(sm_num) as block_id:
            a = T.alloc_fragment((bm, N), "float32")
            part = T.alloc_shared((bm, N), "float32")
            acc = T.alloc_fragment((bm, N), "float32")
            total = T.alloc_var("float32")
            weight = T.alloc_var("float32")
            for w in T.serial(T.ceildiv(m_blocks * num_split, sm_num)):
                tile = sm_num * w + block_id
                if tile < m_blocks * num_split:
                    T.copy(A[tile % num_split, tile // num_split * bm, 0], a)
                    for i, j in T.Parallel(bm, N):
                        a[i, j] = a[i, j] + 1.0
                    T.copy(a, P[tile % num_split, tile // num_split * bm, 0])
            T.sync_grid()
            for w in T.serial(T.ceildiv(m_blocks, sm_num)):
                tile = sm_num * w + block_id
                if tile < m_blocks:
                    T.clear(total)
                    T.clear(acc)
                    for s in T.serial(num_split):
                        total += s + 1.0
                    total = total * 2.0
                    for s in T.serial(num_split):
                        weight = (s + 1.0) * 2.0 / total
                        T.copy(P[s, tile * bm, 0], part)
                        for i, j in T.Parallel(bm, N):
                            acc[i, j] += part[i, j] * weight
                    T.copy(acc, C[tile * bm, 0])

    return combine


@pytest.mark.parametrize("level", ["L0", "L9"])
def test_the_persistent_combine_clears_a_scalar_in_each_wave_and_weighs_the_slices(level):
    """Tolerance float32's: each weight and each product rounds once, the sum of 3 terms twice."""
    x = RNG.uniform(-1, 1, (3, 96, 64)).astype(np.float32)
    p, c = np.full_like(x, np.nan), np.full_like(x[0], np.nan)
    api.run(weighted_combine(), x, p, c, level=level)
    expected = sum((s + 1) * (x[s].astype(np.float64) + 1) for s in range(3)) / 6
    assert api.within(p, x + 1, "float32") and api.within(c, expected, "float32"), level
