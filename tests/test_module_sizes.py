"""Sizes written at module level, as TileLang's online-softmax file writes them: `M = 8192` above an
eager `@tilelang.jit` function whose body annotates `X: T.Tensor([M, N], dtype)`. `--set M=64`
(and `nanott.run`'s values) replace such a module constant while the kernel is parsed, in a copy of
the module's globals: the file keeps its own value. Numerics: a row softmax in float32 against NumPy
at every level; tolerance float32's (api.within: relative to each element and to the output's own
scale) because exp and the division are float32 on the SFPU as in NumPy's float32, up to a few ulps.
"""
from __future__ import annotations

import numpy as np
import pytest
from test_generality import check_levels

from nanott.diagnostics import NanottError
from nanott.loader import load_kernel

SOURCE = '''
import tilelang
import tilelang.language as T

M = 4096
N = 4096
rows = "not a size"


@tilelang.jit
def row_softmax(X, BLOCK_M=1, BLOCK_N=64, dtype=T.float32):
    X: T.Tensor([M, N], dtype)
    Y = T.empty([M, N], dtype)
    with T.Kernel(T.ceildiv(M, BLOCK_M), threads=128) as bm:
        x = T.alloc_fragment([BLOCK_M, BLOCK_N], dtype)
        top = T.alloc_fragment([BLOCK_M], dtype)
        total = T.alloc_fragment([BLOCK_M], dtype)
        T.copy(X[bm * BLOCK_M, 0], x)
        T.reduce_max(x, top, dim=1)
        for i, j in T.Parallel(BLOCK_M, BLOCK_N):
            x[i, j] = T.exp(x[i, j] - top[i])
        T.reduce_sum(x, total, dim=1)
        for i, j in T.Parallel(BLOCK_M, BLOCK_N):
            x[i, j] = x[i, j] / total[i]
        T.copy(x, Y[bm * BLOCK_M, 0])
    return Y
'''


def load(tmp_path, **sets):
    path = tmp_path / "row_softmax.py"
    path.write_text(SOURCE)
    return load_kernel(path, sets={k: str(v) for k, v in sets.items()})


def softmax(inputs):
    x = inputs["X"].astype(np.float64)
    e = np.exp(x - x.max(axis=1, keepdims=True))
    return {"Y": e / e.sum(axis=1, keepdims=True)}


@pytest.mark.parametrize("block_m", [1, 32])
def test_module_level_sizes_set_from_the_command_line_match_numpy_at_every_level(tmp_path, block_m):
    loaded = load(tmp_path, M=64, N=64, BLOCK_M=block_m)
    params = loaded.prim_func.parse().params
    assert [(p.name, p.shape) for p in params] == [("X", (64, 64)), ("Y", (64, 64))]
    check_levels(loaded, softmax)


def test_the_module_keeps_its_own_value(tmp_path):
    loaded = load(tmp_path, M=32, N=64)
    assert loaded.prim_func.parse().params[0].shape == (32, 64)
    assert loaded.prim_func.func.__globals__["M"] == 4096


def test_a_module_name_that_is_not_a_number_is_not_a_size(tmp_path):
    with pytest.raises(NanottError) as e:
        load(tmp_path, M=64, N=64, rows=3).prim_func.parse()
    assert e.value.code == "NT903" and "rows" in e.value.message
