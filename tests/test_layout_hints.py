"""Layout hints as TileLang's files give them: `T.annotate_layout({buf: tilelang.layout.
make_swizzled_layout(buf)})`, `T.Layout(shape, fn)`, and the Hopper register hints. A layout only
says where elements lie in memory; every access is by logical index, so the kernel computes the same
values with or without it: nanott records the hint on the kernel (`layout.<buffer>`) and keeps its
own tiled layout. Numerics against NumPy at every level (tolerance bf16's, relative to each element
and to the output's scale: a bf16 GEMM with float32 accumulation).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from test_generality import check_levels

from nanott import api
from nanott.diagnostics import NanottError
from nanott.loader import load_kernel

SOURCE = '''
import tilelang
import tilelang.language as T
from tilelang.layout import make_swizzled_layout


@tilelang.jit
def matmul(A, B, bm=64, bn=64, bk=32):
    M, N, K = T.const("M, N, K")
    A: T.Tensor((M, K), T.bfloat16)
    B: T.Tensor((K, N), T.bfloat16)
    C = T.empty((M, N), T.bfloat16)
    with T.Kernel(T.ceildiv(N, bn), T.ceildiv(M, bm), threads=128) as (bx, by):
        a = T.alloc_shared((bm, bk), T.bfloat16)
        b = T.alloc_shared((bk, bn), T.bfloat16)
        c = T.alloc_fragment((bm, bn), T.float32)
        T.annotate_layout({a: make_swizzled_layout(a), b: tilelang.layout.make_swizzled_layout(b),
                           c: T.Layout((bm, bn), lambda i, j: [j, i])})
        T.no_set_max_nreg()
        T.clear(c)
        for k in T.Pipelined(T.ceildiv(K, bk), num_stages=2):
            T.copy(A[by * bm, k * bk], a)
            T.copy(B[k * bk, bx * bn], b)
            T.gemm(a, b, c)
        T.copy(c, C[by * bm, bx * bn])
    return C
'''


def load(tmp_path: Path, text: str):
    path = tmp_path / "hinted.py"
    path.write_text(text)
    return load_kernel(path, None, {"M": "128", "N": "64", "K": "64"})


def test_layout_hints_are_recorded_and_change_no_value_at_any_level(tmp_path):
    loaded = load(tmp_path, SOURCE)
    attrs = {a.key: a.value for a in loaded.prim_func.parse().attrs}
    assert (attrs["layout.a"], attrs["layout.b"], attrs["layout.c"]) == ("swizzled", "swizzled", "custom")
    assert "no_set_max_nreg" in attrs
    check_levels(loaded, lambda ins: {"C": ins["A"].astype(np.float64) @ ins["B"].astype(np.float64)})


def test_a_layout_that_is_not_a_hint_is_nt301_at_its_line(tmp_path):
    text = SOURCE.replace("c: T.Layout((bm, bn), lambda i, j: [j, i])", "c: (bm, bn)")
    with pytest.raises(NanottError) as e:
        api.lower(load(tmp_path, text).prim_func, stop_after="P0")
    assert e.value.code == "NT301" and "T.annotate_layout of tuple" in e.value.message
    assert e.value.loc.line == text.splitlines().index("        T.annotate_layout({a: make_swizzled_layout(a), "
                                                        "b: tilelang.layout.make_swizzled_layout(b),") + 1
