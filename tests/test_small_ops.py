"""Issue 9, item 7's small ops, as TileLang's per-token cast writes them: T.reduce_absmax for a per-row
scale, T.clamp into the representable range, T.log2 of the scale. Numbers at L0, L5 and L9 against
NumPy, and what each becomes at C2 (abs into a CB of its own before a max reduction; ln times
log2(e), the SFPU's log_with_base).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from test_generality import check_levels

from nanott import api
from nanott.diagnostics import NanottError
from nanott.ir import walk
from nanott.languages import l5
from nanott.loader import load_kernel

KERNEL = '''
import nanott.language as T

M, N, bm, bn = 64, 128, 32, 128
limit = 448.0


@T.prim_func
def per_row_cast(X: T.Tensor((M, N), "bfloat16"), Y: T.Tensor((M, N), "float32"),
                 L: T.Tensor((M,), "float32")):
    with T.Kernel(T.ceildiv(M, bm), threads=128) as bx:
        X_s = T.alloc_shared((bm, bn), "bfloat16")
        x = T.alloc_fragment((bm, bn), "float32")
        y = T.alloc_fragment((bm, bn), "float32")
        amax = T.alloc_fragment((bm,), "float32")
        scale = T.alloc_fragment((bm,), "float32")
        lg = T.alloc_fragment((bm,), "float32")
        T.copy(X[bx * bm, 0], X_s)
        T.copy(X_s, x)
        T.reduce_absmax(x, amax, dim=1)
        for i in T.Parallel(bm):
            scale[i] = T.max(amax[i], 1e-4) / {divisor}
        for i in T.Parallel(bm):
            lg[i] = T.log2(scale[i])
        for i, j in T.Parallel(bm, bn):
            y[i, j] = T.clamp(x[i, j] / scale[i], -limit, limit)
        T.copy(y, Y[bx * bm, 0])
        T.copy(lg, L[bx * bm])
'''


def load(tmp_path: Path, divisor: float):
    path = tmp_path / "per_row_cast.py"
    path.write_text(KERNEL.format(divisor=divisor))
    return load_kernel(path)


def reference(divisor: float):
    def ref(inputs):
        x = inputs["X"].astype(np.float64)
        scale = np.maximum(np.abs(x).max(axis=1), 1e-4) / divisor
        return {"Y": np.clip(x / scale[:, None], -448.0, 448.0).astype(np.float32),
                "L": np.log2(scale).astype(np.float32)}
    return ref


@pytest.mark.parametrize("divisor", [448.0, 1000.0])     # 1000: about half of y clamps to +-448
def test_absmax_clamp_log2_match_numpy_at_every_level(tmp_path, divisor):
    check_levels(load(tmp_path, divisor), reference(divisor))


def test_what_c2_makes_of_them(tmp_path):
    c2 = api.lower(load(tmp_path, 448.0).prim_func, stop_after="C2")
    ops = [x for x in walk(c2.body) if isinstance(x, (l5.TileUnary, l5.TileReduce, l5.TileScalar))]
    names = [(type(x).__name__, getattr(x, "op", "")) for x in ops]
    assert names.index(("TileUnary", "abs")) < names.index(("TileReduce", "max"))
    assert ("TileUnary", "log") in names and any(
        isinstance(x, l5.TileScalar) and x.op == "mul" and x.scalar == pytest.approx(1 / np.log(2)) for x in ops)
    assert "x_abs" in [cb.name for cb in c2.cbs]


def test_an_atomic_add_into_a_4d_slice_runs_at_l0_and_is_refused_by_b1(tmp_path):
    """Flash attention's backward adds a (seq, dim) block into a BSHD tensor: L0 adds it (it used to
    crash reshaping the block), and B1 names what it cannot split yet."""
    path = tmp_path / "atomic4.py"
    path.write_text('''
import nanott.language as T


@T.prim_func
def atomic4(X: T.Tensor((1, 64, 2, 64), "float32"), Y: T.Tensor((1, 64, 2, 64), "float32")):
    with T.Kernel(2, 2, 1) as (bx, by, bz):
        X_s = T.alloc_shared((32, 64), "float32")
        T.copy(X[bz, bx * 32:(bx + 1) * 32, by, :], X_s)
        T.atomic_add(Y[bz, bx * 32:(bx + 1) * 32, by, :], X_s)
''')
    loaded = load_kernel(path)
    kernel = api.lower(loaded.prim_func, stop_after="P0")
    inputs = api.random_inputs(kernel, seed=3)
    got = api.simulate(kernel, "L0", inputs)
    np.testing.assert_array_equal(got["Y"], inputs["X"])        # zeros + X, exactly
    with pytest.raises(NanottError) as e:
        api.lower(loaded.prim_func, stop_after="F1")
    assert e.value.code == "NT323" and "2-D region" in e.value.message


INT_ROW_MAX = '''
import nanott.language as T


@T.prim_func
def row_max(X: T.Tensor((64, 64), T.int32), Y: T.Tensor((64,), T.int32)):
    with T.Kernel(2) as bx:
        x = T.alloc_fragment((32, 64), T.int32)
        m = T.alloc_fragment((32,), T.int32)
        T.copy(X[bx * 32, 0], x)
        T.reduce_max(x, m, dim=1, clear=True)
        T.copy(m, Y[bx * 32])
'''


def test_a_row_max_of_int32_indices_matches_numpy_at_every_level(tmp_path):
    """Top-k's index step (a max over column indices held as int32): exact at every level."""
    path = tmp_path / "row_max.py"
    path.write_text(INT_ROW_MAX)
    check_levels(load_kernel(path), lambda inputs: {"Y": inputs["X"].max(axis=1).astype(np.int32)})
