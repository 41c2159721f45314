"""Floats read from DRAM into scalars and used in elementwise math (P0b: _p0b_scalars.py): the
combine step of split-KV decoding (TileLang's DeepSeek MLA and GQA decode) reads each split's
log-sum-exp as a scalar, reduces them into T.alloc_var's (a max, a sum of exp2), and scales each
split's partial output by `exp2(lse - logsum)`. A tile has no scalar, so each such let becomes a
float32 vector of the T.Parallel's extent, holding the value in every element; the DRAM element
it reads is picked out of the tile row that holds it (_p0b_pick.py).

Numerics against an independent NumPy reference (float64) on random inputs at every level and
through `compile --execute`, within the float32 tolerance of api.within: 1e-4 of |ref| and of
max|ref|. Why: the kernel computes in float32 (exp2, log2, a sum of a few terms), whose rounding
is ~1e-7 relative per operation; 1e-4 leaves room for NumPy's float64 reference, never for a
wrong split or a missing scale (those are off by O(1)).
"""
from __future__ import annotations

import shutil

import numpy as np
import pytest
from conftest import load_text, nanott_cli
from test_generality import check_levels

from nanott import api
from nanott.diagnostics import NanottError
from nanott.ir import walk
from nanott.languages import l0

# Factory style, the combine of TileLang's split-KV decode: scalars carried across loops over k
COMBINE = '''
import tilelang
import tilelang.language as T


@tilelang.jit(out_idx=[-1])
def combine(batch, heads, splits, dim):
    @T.prim_func
    def main(Lse: T.Tensor((batch, heads, splits), T.float32),
             Part: T.Tensor((batch, heads, splits, dim), T.float32),
             Out: T.Tensor((batch, heads, dim), T.float32)):
        with T.Kernel(heads, batch) as (h, b):
            po = T.alloc_fragment((dim,), T.float32)
            acc = T.alloc_fragment((dim,), T.float32)
            lse = T.alloc_var(T.float32)
            total = T.alloc_var(T.float32)
            mx = T.alloc_var(T.float32)
            scale = T.alloc_var(T.float32)
            T.clear(acc)
            T.clear(total)
            mx = -T.infinity(T.float32)
            for k in T.serial(splits):
                mx = T.max(mx, Lse[b, h, k])
            for k in T.Pipelined(splits, num_stages=1):
                lse = Lse[b, h, k]
                total += T.exp2(lse - mx)
            total = T.log2(total) + mx
            for k in T.serial(splits):
                for i in T.Parallel(dim):
                    po[i] = Part[b, h, k, i]
                lse = Lse[b, h, k]
                scale = T.exp2(lse - total)
                for i in T.Parallel(dim):
                    acc[i] += po[i] * scale
            for i in T.Parallel(dim):
                Out[b, h, i] = acc[i]
    return main
'''
COMBINE_SETS = {"batch": 2, "heads": 4, "splits": 3, "dim": 64}

# Eager style: a softmax-normalised weight per block row, used against a 2-D block (a column
# broadcast), and a weight chosen under an `if` on an integer element of DRAM, filled into a block
EAGER = '''
import tilelang
import tilelang.language as T


@tilelang.jit(out_idx=[-1])
def weighted_rows(X, W, Mask, bm=32, bn=64):
    M, nblk = T.const("M, nblk")
    X: T.Tensor((M, bn), T.float32)
    W: T.Tensor((M // bm, nblk), T.float32)
    Mask: T.Tensor((M // bm, nblk), T.int32)
    Y = T.empty((M, bn), T.float32)
    with T.Kernel(M // bm) as bx:
        xs = T.alloc_shared((bm, bn), T.float32)
        acc = T.alloc_fragment((bm, bn), T.float32)
        wsum = T.alloc_var(T.float32)
        wmax = T.alloc_var(T.float32)
        last = T.alloc_var(T.float32)
        T.clear(wsum)
        T.clear(last)
        wmax = -T.infinity(T.float32)
        for k in T.serial(nblk):
            wmax = T.max(wmax, W[bx, k])
        for k in T.serial(nblk):
            wsum += T.exp(W[bx, k] - wmax)
            if Mask[bx, k]:
                last = W[bx, k]
        T.copy(X[bx * bm, 0], xs)
        T.fill(acc, last)
        for i, j in T.Parallel(bm, bn):
            acc[i, j] += xs[i, j] / wsum
        T.copy(acc, Y[bx * bm, 0])
    return Y
'''
EAGER_SETS = {"M": 96, "nblk": 5}


def combine_reference(ins):
    lse, part = ins["Lse"].astype(np.float64), ins["Part"].astype(np.float64)
    total = np.log2(np.exp2(lse - lse.max(-1, keepdims=True)).sum(-1)) + lse.max(-1)
    return {"Out": (part * np.exp2(lse - total[..., None])[..., None]).sum(2).astype(np.float32)}


def eager_inputs(kernel):
    mask = (np.random.default_rng(4).random((3, 5)) < 0.5).astype(np.int32)
    mask[0] = 0                                    # no block chosen: last stays 0
    return api.random_inputs(kernel, seed=7) | {"Mask": mask}


def eager_reference(ins):
    x, w, mask = ins["X"].astype(np.float64), ins["W"].astype(np.float64), ins["Mask"]
    wsum = np.exp(w - w.max(1, keepdims=True)).sum(1)
    last = np.array([w[b, np.flatnonzero(mask[b])[-1]] if mask[b].any() else 0.0 for b in range(3)])
    return {"Y": (x / np.repeat(wsum, 32)[:, None] + np.repeat(last, 32)[:, None]).astype(np.float32)}


def test_the_combine_of_split_kv_decoding_runs_at_every_level(tmp_path):
    loaded = load_text(tmp_path, COMBINE, COMBINE_SETS)
    staged = api.lower(loaded.prim_func, stop_after="P0b")
    lets = [s for s in walk(staged.body) if isinstance(s, l0.Let)]
    assert lets == []                              # every scalar of Lse is a vector now
    vectors = [s for s in staged.body if isinstance(s, l0.Alloc) and s.name.endswith("_vec")]
    assert {v.shape for v in vectors} == {(64,)} and {v.dtype for v in vectors} == {"float32"}
    assert len(vectors) == 3                       # mx, total, total after log2: lse and scale put in place
    check_levels(loaded, combine_reference)


def test_scalars_against_a_block_and_chosen_under_an_if_on_data_at_every_level(tmp_path):
    loaded = load_text(tmp_path, EAGER, EAGER_SETS)
    staged = api.lower(loaded.prim_func, stop_after="P0b")
    assert [s.var for s in walk(staged.body) if isinstance(s, l0.Let)] == ["Mask_elem"]   # the reader's
    check_levels(loaded, eager_reference, eager_inputs)


def test_the_block_filled_with_such_a_scalar_reads_its_vector(tmp_path):
    staged = api.lower(load_text(tmp_path, EAGER, EAGER_SETS).prim_func, stop_after="P0b")
    assert not any(isinstance(s, l0.Fill) and s.buffer == "acc" for s in walk(staged.body))
    assert any(isinstance(s, l0.Store) and s.buffer == "acc" and "last_vec" in str(s.value) for s in walk(staged.body))


def test_a_float_computed_from_dram_and_tested_by_an_if_is_nt318_at_its_line(tmp_path):
    """The reader would have to compute exp of a float to decide the `if`: it computes integers."""
    text = EAGER.replace("        T.copy(acc, Y[bx * bm, 0])\n", "        if wsum > 2.0:\n"
                         "            for i, j in T.Parallel(bm, bn):\n                acc[i, j] = acc[i, j] * 2\n"
                         "        T.copy(acc, Y[bx * bm, 0])\n")
    with pytest.raises(NanottError) as e:
        api.lower(load_text(tmp_path, text, EAGER_SETS).prim_func, stop_after="P0b")
    assert e.value.code == "NT318" and "computes only integer indices" in e.value.message and e.value.hint
    assert e.value.loc.line == text.splitlines().index("            wsum += T.exp(W[bx, k] - wmax)") + 1


def test_scalars_of_dram_read_by_loops_of_two_lengths_are_nt318(tmp_path):
    text = COMBINE.replace("            for i in T.Parallel(dim):\n                Out[b, h, i] = acc[i]\n",
                           "            for i in T.Parallel(dim):\n                Out[b, h, i] = acc[i]\n"
                           "            for i in T.Parallel(32):\n                acc[i] = total\n")
    with pytest.raises(NanottError) as e:
        api.lower(load_text(tmp_path, text, COMBINE_SETS).prim_func, stop_after="P0b")
    assert e.value.code == "NT318" and "over 64 and over 32" in e.value.message and e.value.hint


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("g++") is None, reason="g++ is not installed")
@pytest.mark.parametrize("text, sets", [(COMBINE, COMBINE_SETS), (EAGER, EAGER_SETS)])
def test_the_cpp_builds_runs_and_matches_numpy(tmp_path, text, sets):
    path = tmp_path / "kernel.py"
    path.write_text(text)
    args = [a for k, v in sets.items() for a in ("--set", f"{k}={v}")]
    out = nanott_cli("compile", str(path), *args, "-o", str(tmp_path / "out"), "--execute").output
    assert out.strip().splitlines()[-1].endswith("within tolerance: PASS")
