"""Selects on data (issue 13, top-k): `T.if_then_else` whose condition compares buffers, vectors and
constants in a tile map. C2 makes the condition a 0/1 tile on the SFPU (a subtraction, then a
comparison with zero: eqz_tile, ltz_tile, ...) and the select where_tile; numbers at L0, L5 and L9
against NumPy, the form C2 gives them, and what top-k does with a tie (the example's docstring).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from test_generality import check_levels

from nanott import api
from nanott.ir import walk
from nanott.languages import l5
from nanott.languages.l0_interp import InterpL0
from nanott.loader import load_kernel

ROOT = Path(__file__).parent.parent
KERNEL = '''
import nanott.language as T

M, N = 64, 64


@T.prim_func
def selects(A: T.Tensor((M, N), "float32"), B: T.Tensor((M, N), "float32"), Y: T.Tensor((M, N), "float32"),
            I: T.Tensor((M, N), "int32")):
    with T.Kernel(T.ceildiv(N, 32), T.ceildiv(M, 32)) as (bx, by):
        a = T.alloc_fragment((32, 32), "float32")
        b = T.alloc_fragment((32, 32), "float32")
        y = T.alloc_fragment((32, 32), "float32")
        n = T.alloc_fragment((32, 32), "int32")
        m = T.alloc_fragment((32,), "float32")
        T.copy(A[by * 32, bx * 32], a)
        T.copy(B[by * 32, bx * 32], b)
        T.reduce_max(a, m, dim=1)
        for i, j in T.Parallel(32, 32):
            y[i, j] = T.if_then_else({cond}, a[i, j], b[i, j] * 2)
        for i, j in T.Parallel(32, 32):
            n[i, j] = T.if_then_else({cond}, j, -1)
        T.copy(y, Y[by * 32, bx * 32])
        T.copy(n, I[by * 32, bx * 32])
'''
# each condition as the kernel writes it, and as NumPy computes it on a, b and the row max m
CONDITIONS = {
    "a[i, j] < b[i, j]": lambda a, b, m: a < b,
    "a[i, j] >= 0.25": lambda a, b, m: a >= np.float32(0.25),
    "0.5 > b[i, j]": lambda a, b, m: b < np.float32(0.5),
    "m[i] == a[i, j]": lambda a, b, m: a == m,
    "a[i, j] != b[i, j]": lambda a, b, m: a != b,
    "a[i, j] <= 0": lambda a, b, m: a <= 0,
    "(a[i, j] > 0) and (b[i, j] > 0)": lambda a, b, m: (a > 0) & (b > 0),
    "(a[i, j] > 0.5) or (b[i, j] <= -0.5)": lambda a, b, m: (a > np.float32(0.5)) | (b <= np.float32(-0.5)),
}


def load(tmp_path: Path, cond: str):
    path = tmp_path / "selects.py"
    path.write_text(KERNEL.format(cond=cond))
    return load_kernel(path)


def reference(cond: str):
    def ref(inputs):
        a, b = inputs["A"], inputs["B"]
        m = np.repeat(a.reshape(a.shape[0], -1, 32).max(axis=2), 32, axis=1)     # each block's row max
        c = CONDITIONS[cond](a, b, m)
        cols = np.broadcast_to(np.arange(a.shape[1]) % 32, a.shape)
        return {"Y": np.where(c, a, b * np.float32(2)), "I": np.where(c, cols, -1).astype(np.int32)}
    return ref


@pytest.mark.parametrize("cond", list(CONDITIONS))
def test_selects_on_data_match_numpy_at_every_level(tmp_path, cond):
    """Exactly (float32 selects pick values; the int32 ones pick column indices): a comparison's
    0/1 tile must be right in every element."""
    check_levels(load(tmp_path, cond), reference(cond))


def test_an_equality_is_a_subtraction_on_the_sfpu_then_eqz_then_where(tmp_path):
    """Both sides of the comparison are DST temporaries (the vector spread by unary_bcast): the FPU,
    whose source registers keep 19 bits of a float32, never computes the difference."""
    c2 = api.lower(load(tmp_path, "m[i] == a[i, j]").prim_func, stop_after="C2")
    group = next(g for g in walk(c2.body) if isinstance(g, l5.TileGroup)
                 and any(isinstance(x, l5.TileWhere) for x in walk(g.body)))
    ops = [x.op for x in group.body if isinstance(x, l5.TAssign)]
    kinds = [type(op).__name__ + (f" {op.op}" if hasattr(op, "op") else "") for op in ops]
    assert kinds[:4] == ["TileBcast", "TileLoad", "TileBinaryTemps sub", "TileUnary eqz"], kinds
    assert kinds[-1] == "TileWhere" and not any(isinstance(op, l5.TileBinary) for op in ops)


def test_a_constant_side_is_a_scalar_subtraction_and_zero_needs_none(tmp_path):
    c2 = api.lower(load(tmp_path, "0.5 > b[i, j]").prim_func, stop_after="C2")
    assert any(isinstance(x, l5.TileScalar) and x.op == "sub" and x.scalar == 0.5 for x in walk(c2.body))
    assert any(isinstance(x, l5.TileUnary) and x.op == "ltz" for x in walk(c2.body))   # b - 0.5 < 0
    c2 = api.lower(load(tmp_path, "a[i, j] <= 0").prim_func, stop_after="C2")
    assert not any(isinstance(x, (l5.TileScalar, l5.TileBinaryTemps)) and x.op == "sub" for x in walk(c2.body))


def topk_l0(logits: np.ndarray) -> dict[str, np.ndarray]:
    loaded = load_kernel(ROOT / "examples" / "topk.py")
    kernel = api.lower(loaded.prim_func, stop_after="P0")
    arrays = api.random_inputs(kernel, seed=0) | {"logits": logits}
    InterpL0().run(kernel, arrays)
    return arrays


def test_topk_with_a_tie_reports_the_larger_column_and_skips_its_twin():
    """What examples/topk.py's docstring says of ties, run: a row holding its maximum twice
    reports it once, at the larger column, and the next round goes on below it."""
    rng = np.random.default_rng(5)
    logits = rng.uniform(-1, 1, (96, 64)).astype(np.float32)
    logits[3, [7, 40]] = 2.0                       # row 3's maximum, twice
    out = topk_l0(logits)
    assert out["topk_indices"][3, 0] == 40 and out["topk_gates"][3, 0] == 2.0
    second = np.sort(logits[3])[-3]                # the largest value below the tie
    assert out["topk_gates"][3, 1] == second and out["topk_indices"][3, 1] == np.flatnonzero(logits[3] == second)[0]


def test_topk_example_inputs_have_distinct_top_values():
    """The seeds the numerics tests use give every row distinct top values, where `reference`
    (a sort) and the kernel agree by construction; a tie would make them differ (above)."""
    kernel = api.lower(load_kernel(ROOT / "examples" / "topk.py").prim_func, stop_after="P0")
    for seed in (0, 1, 7):
        logits = api.random_inputs(kernel, seed=seed)["logits"]
        top = -np.sort(-logits, axis=1)[:, :5]
        assert (np.diff(top, axis=1) < 0).all(), seed
