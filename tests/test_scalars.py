"""Issue 9, item 4: scalars as TileLang's files write them. `x = T.alloc_var(dtype)` (or with
`init=`) is a Python name whose assignments become lets; Python's `and`, `or` and `not` on
conditions are the conditions' `&`, `|` and `~` (tests/test_predication.py runs them through every
level). A value carried from one iteration of a kernel loop to the next (`x = x + k`, `x += 1`) is
a let and its updates (tests/test_carried_scalars.py); a scalar read before anything is assigned
to it is refused by name.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from test_generality import check_levels

from nanott import api
from nanott.diagnostics import NanottError
from nanott.loader import load_kernel

FACTORY = '''
import tilelang
import tilelang.language as T


@tilelang.jit
def shifted(M, N, bm=32):
    @T.prim_func
    def main(A: T.Tensor((M, N), T.float32), B: T.Tensor((M, N), T.float32)):
        with T.Kernel(T.ceildiv(M, bm), threads=128) as bx:
            a = T.alloc_shared((bm, N), T.float32)
            keep = T.alloc_fragment((bm, N), T.float32)
            {body}
            T.copy(A[bx * bm, 0], a)
            for i, j in T.Parallel(bm, N):
                keep[i, j] = T.if_then_else(bx * bm + i < lim, 1.0, 0.0)
            for i, j in T.Parallel(bm, N):
                a[i, j] = a[i, j] * keep[i, j] + {offset}
            T.copy(a, B[bx * bm, 0])
    return main
'''
EAGER = '''
import tilelang
import tilelang.language as T


@tilelang.jit(out_idx=[-1])
def shifted(A, bm=32):
    M, N = T.const("M, N")
    A: T.Tensor((M, N), T.float32)
    B = T.empty((M, N), T.float32)
    with T.Kernel(T.ceildiv(M, bm), threads=128) as bx:
        a = T.alloc_shared((bm, N), T.float32)
        keep = T.alloc_fragment((bm, N), T.float32)
        lim = T.alloc_var(T.int32, init=8)
        lim = lim + bx * bm
        T.copy(A[bx * bm, 0], a)
        for i, j in T.Parallel(bm, N):
            keep[i, j] = T.if_then_else(bx * bm + i < lim, 1.0, 0.0)
        for i, j in T.Parallel(bm, N):
            a[i, j] = a[i, j] * keep[i, j]
        T.copy(a, B[bx * bm, 0])
    return B
'''
ASSIGNED = "lim = T.alloc_var(T.int32)\n            lim = bx * bm + 8"


def load(tmp_path: Path, text: str, sets=None):
    path = tmp_path / "shifted.py"
    path.write_text(text)
    return load_kernel(path, None, sets or {"M": "64", "N": "64"})


def reference(offset: float):
    """The first 8 rows of every block of 32 kept, the rest zero; plus offset."""
    def ref(inputs):
        a = inputs["A"].astype(np.float64)
        kept = (np.arange(a.shape[0]) % 32 < 8)[:, None]
        return {"B": (a * kept + offset).astype(np.float32)}
    return ref


def test_an_assigned_alloc_var_is_a_let_matching_numpy_at_every_level(tmp_path):
    loaded = load(tmp_path, FACTORY.format(body=ASSIGNED, offset="0"))
    assert "let lim = ((bx * 32) + 8)" in str(api.lower(loaded.prim_func, stop_after="P0"))
    check_levels(loaded, reference(0))


def test_an_alloc_var_with_init_in_the_eager_style_matches_numpy_at_every_level(tmp_path):
    check_levels(load(tmp_path, EAGER), reference(0))


@pytest.mark.parametrize("body, offset, rows, plus", [
    ("lim = bx * bm\n            for k in T.serial(4):\n                lim = lim + k", "0", 6, 0),
    ("lim = bx * bm + 8\n            s = 0\n            for k in T.serial(4):\n                s += k", "s", 8, 6),
    ("lim = T.alloc_var(T.int32)\n            lim = bx * bm\n            for k in T.Pipelined(2):\n"
     "                t = lim\n                lim = t + 8", "0", 16, 0),
])
def test_a_value_carried_across_loop_iterations_has_every_iteration_s_value(tmp_path, body, offset, rows, plus):
    """Once NT301 (a loop body that runs once while P0 parses it would give the first iteration's
    value): the scalar is now a let updated at the end of each iteration (tests/test_carried_scalars.py),
    so the rows kept and the offset are the ones after every iteration."""
    loaded = load(tmp_path, FACTORY.format(body=body, offset=offset))
    assert "set " in str(api.lower(loaded.prim_func, stop_after="P0"))

    def ref(inputs):
        a = inputs["A"].astype(np.float64)
        return {"B": (a * (np.arange(a.shape[0]) % 32 < rows)[:, None] + plus).astype(np.float32)}
    check_levels(loaded, ref)


def test_a_python_loop_may_carry_python_values(tmp_path):
    """A loop over a Python range of Python values is unrolled by Python: nothing to refuse."""
    body = "lim = bx * bm + 8\n            s = 0\n            for k in [1, 2, 3]:\n                s = s + k"
    check_levels(load(tmp_path, FACTORY.format(body=body, offset="s")), reference(6))


def test_an_alloc_var_read_before_it_is_assigned_is_nt304_at_its_line(tmp_path):
    body = "lim = T.alloc_var(T.int32)\n            lim = lim + bx * bm"
    with pytest.raises(NanottError) as err:
        api.lower(load(tmp_path, FACTORY.format(body=body, offset="0")).prim_func, stop_after="P0")
    assert err.value.code == "NT304" and "read before anything is assigned" in err.value.message
    assert err.value.loc.line == 14
