"""Transposed reads in an elementwise map: `xt[i, j] = x[j, i] * s[j]` in a T.Parallel over (i, j),
as TileLang's example_mamba_chunk_state writes it. C2 reads such an operand as transpose_wh_tile of
the source's tile (tj, ti): each 32x32 tile is transposed in DST, and the tile grid is transposed by
reading tile (tj, ti) for the output's tile (ti, tj). Decided from the index expressions (the map's
two variables swapped, the buffer's shape the map's reversed), never from names.

Numerics against NumPy at every level and through `compile --execute` (api.within: relative to
each element and to the output's scale; float32 in and out, so the only difference from NumPy's
float64 is float32 rounding; a transpose moves values and rounds nothing). The blocks are not square
(a 32 x 64 source read as 64 x 32), so a grid read untransposed would not even fit. A store
written transposed stays NT317, with a hint (tests/test_bad_inputs.py).
"""
from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from conftest import nanott_cli

from nanott import api, pipeline
from nanott.diagnostics import NanottError
from nanott.ir import walk
from nanott.languages import l5, l9
from nanott.loader import load_kernel

FACTORY = '''
import tilelang
import tilelang.language as T


@tilelang.jit
def transposed(M, N, bm=64, bn=32):
    @T.prim_func
    def main(A: T.Tensor((N, M), T.float32), S: T.Tensor((N,), T.float32), D: T.Tensor((M, N), T.float32),
             C: T.Tensor((M, N), T.float32), E: T.Tensor((M, N), T.float32)):
        with T.Kernel(T.ceildiv(M, bm), T.ceildiv(N, bn)) as (bx, by):
            a = T.alloc_shared((bn, bm), T.float32)
            s = T.alloc_shared((bn,), T.float32)
            d = T.alloc_fragment((bm, bn), T.float32)
            c = T.alloc_fragment((bm, bn), T.float32)
            e = T.alloc_fragment((bm, bn), T.float32)
            T.copy(A[by * bn, bx * bm], a)
            T.copy(S[by * bn], s)
            T.copy(D[bx * bm, by * bn], d)
            for i, j in T.Parallel(bm, bn):
                c[i, j] = a[j, i] * s[j] + d[i, j]
            for i, j in T.Parallel(bm, bn):
                e[i, j] = T.max(a[j, i], d[i, j]) - T.exp(a[j, i])
            T.copy(c, C[bx * bm, by * bn])
            T.copy(e, E[bx * bm, by * bn])
    return main
'''
SIZES = {"M": "128", "N": "64"}


def reference(ins: dict) -> dict:
    at, s, d = (ins[n].astype(np.float64) for n in ("A", "S", "D"))
    at = at.T
    return {"C": at * s[None, :] + d, "E": np.maximum(at, d) - np.exp(at)}


@pytest.fixture
def loaded(tmp_path: Path):
    path = tmp_path / "transposed.py"
    path.write_text(FACTORY)
    return load_kernel(path, None, SIZES)


def test_transposed_reads_match_numpy_at_every_level(loaded):
    kernel = api.lower(loaded.prim_func, stop_after="P0")
    inputs = api.random_inputs(kernel, seed=3)
    expected = reference(inputs)
    for level in pipeline.LANGUAGES:
        program = api.lower(loaded.prim_func, stop_after=api.stage_for_level(level).id)
        got = api.simulate(program, level, inputs)
        for name in ("C", "E"):
            assert api.within(got[name], expected[name], "float32"), (
                f"{level} {name}: max rel err {api.max_rel_error(got[name], expected[name]):.3g}")


def test_c2_reads_the_source_tile_of_the_transposed_grid(loaded):
    """Each transposed operand is a TileTranspose of tile (tj, ti) of the 32 x 64 block (1 x 2
    tiles), in the group over the 64 x 32 output's 2 x 1 tiles; at L9 a transpose_wh_tile."""
    program = api.lower(loaded.prim_func, stop_after="C2")
    cbs = {cb.name: cb.index for cb in program.cbs}
    groups = [g for g in walk(program.body) if isinstance(g, l5.TileGroup)
              and any(isinstance(x, l5.TileTranspose) and x.src.cb == cbs["a"] for x in walk(g.body))]
    assert len(groups) == 2 and all(g.extents == (2, 1) for g in groups)
    for g in groups:
        ti, tj = (l5.Var(v) for v in g.vars)
        refs = [x.src for x in walk(g.body) if isinstance(x, l5.TileTranspose)]
        assert refs and all(r == l5.TileRef(cbs["a"], tj, ti) for r in refs)
    l9_program = api.lower(loaded.prim_func, stop_after="F1")
    assert [x for x in walk(l9_program) if isinstance(x, l9.TransposeTile) and x.cb == cbs["a"]]


@pytest.mark.skipif(shutil.which("g++") is None, reason="g++ is not installed")
def test_the_cpp_builds_runs_and_matches(tmp_path):
    """`nanott compile --execute`: transpose_wh_tile on nanott's CPU runtime, against NumPy."""
    path = tmp_path / "transposed.py"
    path.write_text(FACTORY)
    sets = [x for k, v in SIZES.items() for x in ("--set", f"{k}={v}")]
    out = nanott_cli("compile", str(path), *sets, "-o", str(tmp_path / "out"), "--execute").output
    assert "transpose_tile(" in (tmp_path / "out" / "compute.cpp").read_text()
    assert out.strip().splitlines()[-1].endswith("within tolerance: PASS"), out


PART = '''
import nanott.language as T


@T.prim_func
def part(A: T.Tensor((64, 64), "float32"), C: T.Tensor((32, 64), "float32")):
    with T.Kernel(1) as bx:
        a = T.alloc_shared((64, 64), "float32")
        c = T.alloc_fragment((32, 64), "float32")
        T.copy(A[0, 0], a)
        for i, j in T.Parallel(32, 64):
            c[i, j] = a[j, i] + 1.0
        T.copy(c, C[0, 0])
'''


def test_a_transposed_read_of_part_of_a_buffer_is_nt317_with_the_shapes(tmp_path):
    """a[j, i] over 32 x 64 reads a 64 x 32 part of a 64 x 64 buffer: no whole tile grid to
    transpose; the diagnostic names both shapes and the line."""
    path = tmp_path / "part.py"
    path.write_text(PART)
    with pytest.raises(NanottError) as e:
        api.lower(load_kernel(path).prim_func)
    assert e.value.code == "NT317" and e.value.loc.line == 12
    assert "64x64, not 64x32" in e.value.message and "transposed" in e.value.message
