"""C2 evaluates the operand that needs more DST tiles first (Sethi and Ullman's order:
_c2_tile_expr.need), so a right-leaning product of transcendental values fits the DST in fp32 mode
(4 tiles), where left-to-right evaluation kept one exp alive per level (5, NT203). The order
changes no value: L9 is bit-identical to L0, and both match NumPy to 1e-5 of the output's scale
(five float32 exps and four products of values in [e^-1, e])."""
from __future__ import annotations

import numpy as np
import pytest

from nanott import api
from nanott.diagnostics import NanottError
from nanott.loader import load_kernel
from nanott.passes import _c2_tile_expr

CHAIN = '''
import nanott.language as T


@T.prim_func
def chain(A: T.Tensor((32, 64), "float32"), B: T.Tensor((32, 64), "float32"), O: T.Tensor((32, 64), "float32")):
    with T.Kernel(2) as bx:
        a = T.alloc_shared((32, 32), "float32")
        b = T.alloc_shared((32, 32), "float32")
        o = T.alloc_fragment((32, 32), "float32")
        T.copy(A[0, bx * 32], a)
        T.copy(B[0, bx * 32], b)
        for i, j in T.Parallel(32, 32):
            o[i, j] = T.exp(a[i, j]) * (T.exp(b[i, j]) * (T.exp(-a[i, j]) * (T.exp(-b[i, j]) * T.exp(a[i, j] * 0.5))))
        T.copy(o, O[0, bx * 32])
'''


def test_a_right_leaning_chain_fits_the_dst_and_keeps_its_values(tmp_path, monkeypatch):
    path = tmp_path / "chain.py"
    path.write_text(CHAIN)
    loaded = load_kernel(path)
    rng = np.random.default_rng(5)
    A, B = (rng.uniform(-1, 1, (32, 64)).astype(np.float32) for _ in range(2))
    program = api.lower(loaded.prim_func, stop_after="F1")
    assert program.compute.fp32_dest_acc and program.compute.dst_tiles == 4
    got = {level: api.simulate(api.lower(loaded.prim_func, stop_after=api.stage_for_level(level).id), level,
                               {"A": A, "B": B, "O": np.zeros_like(A)})["O"] for level in ("L0", "L9")}
    assert np.array_equal(got["L0"], got["L9"])
    expected = np.exp(A.astype(np.float64) * 0.5)
    assert np.max(np.abs(got["L9"] - expected)) <= 1e-5 * np.max(np.abs(expected))
    monkeypatch.setattr(_c2_tile_expr, "need", lambda e: 0)          # left to right, as before
    with pytest.raises(NanottError) as e:
        api.lower(load_kernel(path).prim_func, stop_after="F1")
    assert e.value.code == "NT203" and "needs 5 DST tiles" in e.value.message
