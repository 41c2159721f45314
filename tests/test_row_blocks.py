"""Issue 9, item 5: blocks smaller than a tile. TileLang's norm and cast kernels give each grid block
one row (`blk_m = 1`) or 8; P0a merges 32 / m consecutive blocks into one block of 32 rows when
its analysis finds the rows independent, and says so in the IR (`merged_rows`).

Numbers at L0, L5 and L9 against NumPy for blocks of 1, 8 and 16 rows (ragged row counts too), the
IR after P0a, and the kernels whose rows interact refused with the rule they break.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from test_generality import check_levels

from nanott import api
from nanott.diagnostics import NanottError
from nanott.loader import load_kernel

# RMS norm as TileLang's norm example writes it.
KERNEL = '''
import nanott.language as T

M, N, blk_m = {M}, 128, {blk_m}


@T.prim_func
def rms_norm(A: T.Tensor((M, N), "bfloat16"), B: T.Tensor((M, N), "bfloat16")):
    with T.Kernel(T.ceildiv(M, blk_m), threads=128) as bx:
        A_shared = T.alloc_shared((blk_m, N), "bfloat16")
        A_local = T.alloc_fragment((blk_m, N), "float32")
        A_pow = T.alloc_fragment((blk_m, N), "float32")
        A_powsum = T.alloc_fragment((blk_m,), "float32")
        T.copy(A[bx * blk_m, 0], A_shared)
        T.copy(A_shared, A_local)
        for i, j in T.Parallel(blk_m, N):
            A_pow[i, j] = A_local[i, j] * A_local[i, j]
        T.reduce_sum(A_pow, A_powsum, dim=1)
        for i in T.Parallel(blk_m):
            A_powsum[i] = T.rsqrt(A_powsum[i] / N + 1e-6)
        for i, j in T.Parallel(blk_m, N):
            A_local[i, j] = A_local[i, j] * A_powsum[i]
        T.copy(A_local, B[bx * blk_m, 0])
'''


def load(tmp_path: Path, blk_m: int, M: int = 96, edit=lambda s: s):
    path = tmp_path / "rms_norm_rows.py"
    path.write_text(edit(KERNEL.format(M=M, blk_m=blk_m)))
    return load_kernel(path)


def reference(inputs):
    a = inputs["A"].astype(np.float64)
    return {"B": (a / np.sqrt(np.mean(a * a, axis=1, keepdims=True) + 1e-6)).astype(inputs["A"].dtype)}


@pytest.mark.parametrize("blk_m, M", [(1, 96), (8, 96), (16, 64), (1, 70)])
def test_row_blocks_match_numpy_at_every_level(tmp_path, blk_m, M):
    check_levels(load(tmp_path, blk_m, M), reference)


def test_the_merge_is_shown_in_the_ir(tmp_path):
    kernel = api.lower(load(tmp_path, 1).prim_func, stop_after="P0a")
    assert kernel.grid == (3,)
    assert [(a.key, a.value) for a in kernel.attrs if a.key == "merged_rows"] == [
        ("merged_rows", "bx: 32 blocks of 1 row")]
    shapes = {s.name: s.shape for s in kernel.body if type(s).__name__ == "Alloc"}
    assert shapes["A_local"] == (32, 128) and shapes["A_powsum"] == (32,)


@pytest.mark.parametrize("edit, rule", [
    (lambda s: s.replace("A_local[i, j] * A_powsum[i]", "A_local[i, j] * A_powsum[0]"),
     "indexed by another row than i"),
    (lambda s: s.replace("A_local[i, j] * A_powsum[i]", "A_local[i, j] * A_powsum[i] * i"),
     "row index i is used other than to pick a row"),
    (lambda s: s.replace("T.copy(A_local, B[bx * blk_m, 0])", "T.copy(A_local, B[bx * blk_m, bx])"),
     "bx is used other than as the start"),
])
def test_rows_that_interact_are_refused_with_the_rule(tmp_path, edit, rule):
    refused_with(load(tmp_path, 8, edit=edit), rule)


def refused_with(loaded, rule: str) -> None:
    """The kernel's blocks of fewer than 32 rows are NT111, naming the rule they break."""
    with pytest.raises(NanottError) as e:
        api.lower(loaded.prim_func, stop_after="A1")
    assert e.value.code == "NT111" and rule in e.value.message


def in_place(source: str) -> str:
    """TileLang's own rms_norm: float32, the block copied from DRAM straight into the fragment that
    is then scaled in place (`A_local[i, j] *= A_powsum[i]`)."""
    return (source.replace('"bfloat16"', '"float32"')
            .replace('        A_shared = T.alloc_shared((blk_m, N), "float32")\n', "")
            .replace("T.copy(A[bx * blk_m, 0], A_shared)\n        T.copy(A_shared, A_local)",
                     "T.copy(A[bx * blk_m, 0], A_local)")
            .replace("A_local[i, j] = A_local[i, j] * A_powsum[i]", "A_local[i, j] *= A_powsum[i]"))


def test_a_fragment_loaded_from_dram_and_updated_in_place(tmp_path):
    loaded = load(tmp_path, 1, edit=in_place)
    assert "A_shared" not in in_place(KERNEL) and "T.copy(A[bx * blk_m, 0], A_local)" in in_place(KERNEL)
    check_levels(loaded, reference)
    c2b = api.lower(loaded.prim_func, stop_after="C2b")
    staged = next(cb for cb in c2b.cbs if cb.name == "A_local_in")
    assert staged.dtype == "float32" and staged.scope == "intermediate"
