"""Issue 9, item 4: predication on indices and loop bounds that depend on block indices, through the
real pipeline from kernels written as TileLang's files write them (T.if_then_else on comparisons of
block, loop and T.Parallel indices, named temporaries inside T.Parallel (`row = by * bm + i`), `&`,
`|`, `~` on conditions; T.Pipelined(T.ceildiv((by + 1) * bm, bk)) stopping at the diagonal).

What the IR shows (C2 makes a value of indices alone a generate_to_cb the reader runs; D1 gives it
to the reader; every kernel computes the loop bound), numbers at L0, L5 and L9 against NumPy, and
the constructs still missing failing with their line.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from test_generality import check_levels

from nanott import api
from nanott.diagnostics import NanottError
from nanott.ir import walk
from nanott.languages import l5, l7
from nanott.loader import load_kernel

# tril(A) @ B by blocks: the loop over A's column blocks stops at the diagonal block, the diagonal
# block is masked by a generated mask multiplied in (an FPU mul of two CBs).
KERNEL = '''
import nanott.language as T

M, N, bm, bn, bk = 128, 64, 64, 32, 32


@T.prim_func
def tril_matmul(A: T.Tensor((M, M), "bfloat16"), B: T.Tensor((M, N), "bfloat16"),
                C: T.Tensor((M, N), "float32")):
    with T.Kernel(T.ceildiv(N, bn), T.ceildiv(M, bm)) as (bx, by):
        A_s = T.alloc_shared((bm, bk), "bfloat16")
        B_s = T.alloc_shared((bk, bn), "bfloat16")
        mask = T.alloc_fragment((bm, bk), "{mask_dtype}")
        A_m = T.alloc_fragment((bm, bk), "bfloat16")
        C_l = T.alloc_fragment((bm, bn), "float32")
        T.clear(C_l)
        for k in T.Pipelined(T.ceildiv((by + 1) * bm, bk), num_stages=2):
            T.copy(A[by * bm, k * bk], A_s)
            T.copy(B[k * bk, bx * bn], B_s)
            for i, j in T.Parallel(bm, bk):
                row = by * bm + i
                col = k * bk + j
                mask[i, j] = T.if_then_else({cond}, 1.0, 0.0)
            for i, j in T.Parallel(bm, bk):
                A_m[i, j] = A_s[i, j] * mask[i, j]
            T.gemm(A_m, B_s, C_l)
        T.copy(C_l, C[by * bm, bx * bn])
'''
CONDITIONS = {   # the condition, and the (row, col) entries of A it keeps (before the loop bound)
    "causal": ("row >= col", lambda r, c: r >= c),
    "band": ("(by * bm + i >= k * bk + j) & (row - col < 40)", lambda r, c: (r >= c) & (r - c < 40)),
    "negated": ("~(row < col) | (i == j + 100)", lambda r, c: r >= c),
    "python_and": ("row >= col and row - col < 40", lambda r, c: (r >= c) & (r - c < 40)),    # Python's
    "python_or_not": ("not row < col or i == j + 100", lambda r, c: r >= c),                # and/or/not
}


def load(tmp_path: Path, cond: str, mask_dtype: str = "float32"):
    path = tmp_path / "tril_matmul.py"
    path.write_text(KERNEL.format(cond=cond, mask_dtype=mask_dtype))
    return load_kernel(path)


def reference(keep):
    def ref(inputs):
        a, b = (inputs[n].astype(np.float64) for n in ("A", "B"))
        r, c = np.indices(a.shape)
        return {"C": ((a * keep(r, c)) @ b).astype(np.float32)}
    return ref


@pytest.mark.parametrize("name", CONDITIONS)
@pytest.mark.parametrize("mask_dtype", ["float32", "bfloat16", "float16"])
def test_masks_and_loop_bounds_match_numpy_at_every_level(tmp_path, name, mask_dtype):
    cond, keep = CONDITIONS[name]
    check_levels(load(tmp_path, cond, mask_dtype), reference(keep))


def test_a_value_of_indices_alone_is_generated_by_the_reader(tmp_path):
    loaded = load(tmp_path, CONDITIONS["causal"][0])
    c2 = api.lower(loaded.prim_func, stop_after="C2")
    gens = [x for x in walk(c2.body) if isinstance(x, l5.GenerateToCb)]
    assert len(gens) == 1 and gens[0].vars == ("i", "j") and gens[0].extents == (64, 32)
    assert c2.cbs[gens[0].cb].name == "mask_gen"
    d1 = api.lower(loaded.prim_func, stop_after="D1")
    reader, compute, writer = (d1.kernel(r) for r in l7.ROLES)
    assert any(isinstance(x, l7.GenerateToCb) for x in walk(reader.body))
    assert not any(isinstance(x, l7.GenerateToCb) for x in walk((compute.body, writer.body)))
    loop = next(x for x in walk(reader.body) if isinstance(x, l7.For) and x.var == "k")
    assert "by" in {v.name for v in walk(loop.extent) if isinstance(v, l7.Var)}


def refused(tmp_path: Path, cond: str, old: str, new: str, stage: str) -> NanottError:
    """The error lowering the test kernel to `stage` raises once `old` is replaced by `new`."""
    path = tmp_path / "refused.py"
    path.write_text(KERNEL.format(cond=cond, mask_dtype="float32").replace(old, new))
    with pytest.raises(NanottError) as e:
        api.lower(load_kernel(path).prim_func, stop_after=stage)
    return e.value


MASKED = "                A_m[i, j] = A_s[i, j] * mask[i, j]"


SELECTS = {"causal": ("by * bm + i >= k * bk + j", lambda r, c: r >= c),
           "band_let": ("(by * bm + i >= k * bk + j) & (d < 40)", lambda r, c: (r >= c) & (r - c < 40))}


@pytest.mark.parametrize("name", SELECTS)
def test_a_select_that_reads_buffers_matches_numpy_at_every_level(tmp_path, name):
    """T.if_then_else(c, A_s[i, j], 0.0): P0 makes it max(min(A_s, keep), min(0, drop)) with masks of
    +-inf the reader generates (nanott/language/predicate.py masked_selects); exact, so the product
    is the masked one."""
    cond, keep = SELECTS[name]
    path = tmp_path / "selected.py"
    path.write_text(KERNEL.format(cond="row >= col", mask_dtype="float32").replace(
        MASKED, "                d = (by * bm + i) - (k * bk + j)\n"
                f"                A_m[i, j] = T.if_then_else({cond}, A_s[i, j], 0.0)"))
    check_levels(load_kernel(path), reference(keep))


def test_a_select_on_a_condition_that_reads_a_buffer_is_the_sfpus_where(tmp_path):
    """Once refused (NT318); now C2's TileWhere of a 0/1 tile (tests/test_selects_on_data.py has
    its numbers): no mask of indices is made for it, the condition is known only in the DST."""
    path = tmp_path / "on_data.py"
    path.write_text(KERNEL.format(cond="i >= j", mask_dtype="float32").replace(
        MASKED, "                A_m[i, j] = T.if_then_else(A_s[i, j] > 0.0, A_s[i, j], 0.0)"))
    c2 = api.lower(load_kernel(path).prim_func, stop_after="C2")
    assert any(isinstance(x, l5.TileWhere) for x in walk(c2.body))
    assert any(isinstance(x, l5.TileUnary) and x.op == "gtz" for x in walk(c2.body))


def test_a_condition_stored_as_a_number_is_refused_with_its_line(tmp_path):
    e = refused(tmp_path, "i >= j", "T.if_then_else(i >= j, 1.0, 0.0)", "i >= j", "P0")
    assert e.code == "NT303" and "T.if_then_else" in e.hint


def test_a_temporary_read_after_a_store_changed_it_is_refused(tmp_path):
    stale = ("                old = A_s[i, j]\n                A_s[i, j] = old * 2.0\n"
             "                A_m[i, j] = old * mask[i, j]")
    e = refused(tmp_path, "row >= col", MASKED, stale, "C2")
    assert e.code == "NT314" and "old" in e.message
