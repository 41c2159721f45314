"""Decay masks and scalars of block indices, as TileLang's retention example writes them: a
`T.alloc_var` set from a block index through functions (`d = T.log2(1 - T.exp2(-1.0 - bx))`), and
T.Parallel values mixing buffers with parts of indices and that scalar (`a[i, j] * T.exp2((i - j)
* d)`). C2 puts the scalar's expression in place and makes each such part a float32 block the
reader generates. Numerics against NumPy at every level (api.within: relative to each element
and to the output's own scale; a float32 output, float32 arithmetic throughout, so the only
difference from NumPy's float64 is float32 rounding). A scalar of functions read anywhere but a
T.Parallel value stays NT314 at its line.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from test_generality import check_levels

from nanott import api
from nanott.diagnostics import NanottError
from nanott.languages import l0, l1
from nanott.loader import load_kernel
from nanott.ir import walk

FACTORY = '''
import tilelang
import tilelang.language as T


@tilelang.jit
def decayed(M, N, bm=64):
    @T.prim_func
    def main(A: T.Tensor((M, N), T.float32), B: T.Tensor((M, N), T.float32)):
        with T.Kernel(T.ceildiv(M, bm)) as bx:
            d = T.alloc_var(T.float32)
            d = T.log2(1 - T.exp2(-1.0 - 1.0 * bx))
            a = T.alloc_fragment((bm, N), T.float32)
            b = T.alloc_fragment((bm, N), T.float32)
            T.copy(A[bx * bm, 0], a)
            for i, j in T.Parallel(bm, N):
                b[i, j] = T.if_then_else(i >= j, a[i, j] * T.exp2((i - j) * d), 0)
            for i, j in T.Parallel(bm, N):
                b[i, j] = b[i, j] + T.exp2(d * i)
            T.copy(b, B[bx * bm, 0])
    return main
'''


def load(tmp_path: Path, text: str):
    path = tmp_path / "decay.py"
    path.write_text(text)
    return load_kernel(path, None, {"M": "128", "N": "64"})


def test_decay_masks_of_a_block_scalar_match_numpy_at_every_level(tmp_path):
    def reference(ins):
        a = ins["A"].astype(np.float64)
        rows, cols = np.arange(128)[:, None] % 64, np.arange(64)[None, :]
        gamma = 1.0 - 2.0 ** (-1.0 - np.arange(128)[:, None] // 64)      # per block of 64 rows
        return {"B": np.where(rows >= cols, a * gamma ** (rows - cols), 0.0) + gamma ** rows}
    check_levels(load(tmp_path, FACTORY), reference)


def test_the_reader_makes_each_part_of_indices(tmp_path):
    from nanott.languages import l5
    program = api.lower(load(tmp_path, FACTORY).prim_func, stop_after="C2")
    values = [str(g.value) for g in walk(program.body) if isinstance(g, l5.GenerateToCb)]
    assert any("exp2(((i - j) * log2(" in v for v in values) and any("exp2((log2(" in v for v in values)
    assert not [x for x in walk(program.body) if isinstance(x, l5.Let) and x.var == "d"]


def test_a_scalar_of_functions_read_outside_a_parallel_value_is_nt314(tmp_path):
    text = FACTORY.replace("            T.copy(b, B[bx * bm, 0])\n",
                           "            T.print(d)\n            T.copy(b, B[bx * bm, 0])\n")
    with pytest.raises(NanottError) as e:
        api.lower(load(tmp_path, text).prim_func)
    assert e.value.code == "NT314" and "log2" in e.value.message and e.value.loc.line == 12


IN_PLACE = '''
import tilelang
import tilelang.language as T


@tilelang.jit
def halves(M, N, bm=64, bn=32):
    @T.prim_func
    def main(A: T.Tensor((M, N), T.float32), B: T.Tensor((M, N), T.float32)):
        with T.Kernel(T.ceildiv(M, bm)) as bx:
            a = T.alloc_shared((bm, bn), T.float32)
            for k in T.Pipelined(T.ceildiv(N, bn), num_stages=0):
                T.copy(A[bx * bm, k * bn], a)
                for i, j in T.Parallel(bm, bn):
                    a[i, j] = a[i, j] * 0.5
                T.copy(a, B[bx * bm, k * bn])
    return main
'''


def test_a_pipelined_buffer_also_updated_in_place_gets_two_blocks(tmp_path):
    """A2: a block copied in by a loop of 0 stages (one block) and then updated in place needs a
    second block for the new value (compute reserves it while the old one is still at the front);
    with one, the compute kernel waits on itself (F1 found it in retention's V, scaled in place)."""
    loaded = load(tmp_path, IN_PLACE)
    program = api.lower(loaded.prim_func, stop_after="A2")
    plan = next(s for s in walk(program.body) if isinstance(s, l1.Alloc) and s.name == "a").cb
    assert plan.depth == 2 and "updated in place" in plan.why
    check_levels(loaded, lambda ins: {"B": ins["A"].astype(np.float64) * 0.5})


ELEMENT = '''
import nanott.language as T


@T.prim_func
def scaled(A: T.Tensor((128, 64), "float32"), S: T.Tensor((4,), "float32"), B: T.Tensor((128, 64), "float32")):
    with T.Kernel(2) as bx:
        a = T.alloc_fragment((64, 64), "float32")
        s = T.alloc_var("float32")
        s = S[bx]
        T.copy(A[bx * 64, 0], a)
        for i, j in T.Parallel(64, 64):
            a[i, j] = a[i, j] * s
        T.copy(a, B[bx * 64, 0])
'''


def test_a_value_read_from_dram_is_never_a_generated_block(tmp_path):
    """A float read from DRAM (s = S[bx]) is not something the reader computes with (G1 reads
    only integer elements): P0b makes s a vector that compute picks out of the tile row holding
    it (tests/test_dram_scalars.py), and no generated block reads it."""
    path = tmp_path / "scaled.py"
    path.write_text(ELEMENT)
    staged = api.lower(load_kernel(path).prim_func, stop_after="P0b")
    assert not any(isinstance(x, l0.Let) for x in walk(staged.body))
    check_levels(load_kernel(path), lambda ins: {"B": ins["A"] * np.repeat(ins["S"][:2], 64)[:, None]})
