"""Loops that run once or never (C2a, C3, F1): a guard the sizes decide, as TileLang's rotated
loops leave them (example_warp_specialize_flashmla.py's `if k < loop_range - 1` in a loop that
nanott peels: true in every trip but the last, false in the peeled one).

- C2a drops a loop that never runs: C3 would read it as a reader of its CBs and free a block
  after it that the statement before it took already (a pop of pages nobody pushed).
- C3 lets a loop of exactly one trip carry nothing: the last reader inside takes the block (or
  looks past the loop for a later reader), as C2c's live ranges assume when they share its CB.
- F1 bounds a guard's extent `if_then_else(k < 3, 1, 0)` by deciding its condition.

Our kernels, written the way TileLang users write a tail guard and a loop whose trip count the
sizes make 1; numerics against NumPy at L9; each fix undone (a mutation) is caught.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from test_share_cbs import run_from

from nanott import api
from nanott.diagnostics import NanottError
from nanott.ir import CheckError, walk
from nanott.languages import l5, l9
from nanott.loader import load_kernel
from nanott.passes import c2a_drop_dead_blocks as c2a
from nanott.passes import c3_build_tile_dataflow as c3
from nanott.passes._f1_bounds import bound
from nanott.target import DEFAULT_TARGET

PREFETCH = '''
import nanott.language as T


@T.prim_func
def prefetch(X: T.Tensor((32, 128), "float32"), Y: T.Tensor((32, 32), "float32")):
    with T.Kernel(1, threads=128) as bx:
        cur = T.alloc_shared((32, 32), "float32")
        acc = T.alloc_fragment((32, 32), "float32")
        T.copy(X[0, 0], cur)
        T.clear(acc)
        for k in T.serial(4):
            for i, j in T.Parallel(32, 32):
                acc[i, j] += cur[i, j] * (k + 1)
            if k < 3:                                   # prefetch the next block
                T.copy(X[0, (k + 1) * 32], cur)
        T.copy(acc, Y[0, 0])
'''


def never(stmts: tuple) -> tuple:
    """stmts with every guard `if_then_else(c, 1, 0)` made `if_then_else(3 < 3, 1, 0)`: what a
    peeled last trip leaves of `if k < 3` (role_fusion substitutes k)."""
    three = l5.Const(3, "int32")
    return tuple(replace(s, extent=replace(s.extent, cond=l5.BinOp("<", three, three)), body=never(s.body))
                 if isinstance(s, l5.For) and isinstance(s.extent, l5.Select) else
                 replace(s, body=never(s.body)) if isinstance(s, l5.For) else s for s in stmts)


ONE_TRIP = '''
import nanott.language as T


@T.prim_func
def one_trip(X: T.Tensor((32, 32), "float32"), Y: T.Tensor((32, 32), "float32")):
    with T.Kernel(1, threads=128) as bx:
        x = T.alloc_shared((32, 32), "float32")
        q = T.alloc_fragment((32, 32), "float32")
        r = T.alloc_fragment((32, 32), "float32")
        s = T.alloc_fragment((32, 32), "float32")
        acc = T.alloc_fragment((32, 32), "float32")
        t = T.alloc_fragment((32, 32), "float32")
        T.copy(X[0, 0], x)
        T.clear(acc)
        for i, j in T.Parallel(32, 32):
            q[i, j] = x[i, j] * 2.0
        for k in T.serial(1):                           # one block of K at these sizes
            for i, j in T.Parallel(32, 32):
                r[i, j] = q[i, j] + 1.0                 # q's last reader
            for m in T.serial(2):
                for i, j in T.Parallel(32, 32):
                    s[i, j] = r[i, j] * 3.0             # s may take q's CB: q is dead here
                for i, j in T.Parallel(32, 32):
                    acc[i, j] += s[i, j]
        for i, j in T.Parallel(32, 32):
            t[i, j] = acc[i, j] + x[i, j]               # and t after the loop
        T.copy(t, Y[0, 0])
'''


def kernel(tmp_path, text: str, name: str):
    path = tmp_path / f"{name}.py"
    path.write_text(text)
    return load_kernel(path).prim_func


def test_a_loop_that_never_runs_is_dropped(tmp_path, monkeypatch):
    """The prefetch guarded never: cur keeps X's first block, read by all four trips (a loop that
    carries it); kept, the guard's copy would read to C3 as the next writer of cur, whose reader
    would then take the block the next trip reads."""
    k = kernel(tmp_path, PREFETCH, "prefetch")
    program = api.lower(k, stop_after="C2")
    program = replace(program, body=never(program.body))
    inputs = api.random_inputs(api.lower(k, stop_after="P0"), seed=11)
    first = inputs["X"][:, :32]
    expected = first * np.float32(1) + first * np.float32(2) + first * np.float32(3) + first * np.float32(4)
    dropped = run_from(program, "C2")
    assert not any(isinstance(s, l9.For) and isinstance(s.extent, l9.Select) for s in walk(dropped))
    np.testing.assert_allclose(api.simulate(dropped, "L9", inputs)["Y"], expected, rtol=1e-6)  # adds in order
    monkeypatch.setattr(c2a, "never_runs", lambda s: False)             # mutation: keep it
    with pytest.raises((CheckError, NanottError)):
        api.simulate(run_from(program, "C2"), "L9", inputs)


def test_a_loop_of_one_trip_carries_nothing(tmp_path, monkeypatch):
    k = kernel(tmp_path, ONE_TRIP, "one_trip")
    small = replace(DEFAULT_TARGET, num_cbs=len(api.lower(k, stop_after="C2b").cbs) - 1)
    shared = [cb.plan.why for cb in api.lower(k, "C2c", small).cbs if "shared by" in cb.plan.why]
    assert shared and "q, s" in shared[0]                               # q's CB is shared in the loop
    inputs = api.random_inputs(api.lower(k, stop_after="P0"), seed=12)
    x = inputs["X"]
    s = (x * np.float32(2) + np.float32(1)) * np.float32(3)
    expected = (s + s) + x                                              # float32, step by step
    out = api.lower(k, "F1", small)
    np.testing.assert_array_equal(api.simulate(out, "L9", inputs)["Y"], expected)
    shared_cbs = api.lower(k, "C2c", small)
    monkeypatch.setattr(c3, "trips", lambda extent: None)              # mutation: the loop carries q
    with pytest.raises((CheckError, NanottError)):                      # whose CB s fills meanwhile
        api.simulate(run_from(shared_cbs, "C2c"), "L9", inputs)


def test_f1_bounds_a_guard_by_deciding_its_condition():
    k, one, zero, three = l9.Var("k"), l9.Const(1, "int32"), l9.Const(0, "int32"), l9.Const(3, "int32")
    guard = l9.Select(l9.BinOp("<", k, three), one, zero)
    assert bound(guard, {"k": (0, 2)}) == (1, 1)
    assert bound(guard, {"k": (3, 3)}) == (0, 0)
    assert bound(guard, {"k": (0, 3)}) == (0, 1)                        # undecided: either branch
    assert bound(guard, {}) == (0, 1)                                    # k unknown: either branch
