"""Data-dependent loads: a let reading an element of a DRAM tensor chooses what the reader copies
(`i_s = BlockIndices[bz, by, bx, t]`, then `T.copy(K[..., i_s * bn:(i_s + 1) * bn, :], K_s)`), as
TileLang's block-sparse and NSA kernels write it.

C1 makes the let an Element (the tile holding the value, through a one-page scratch CB); D1 keeps it
in the reader; D3 gives the scratch CB its protocol (the reader is both ends) and the let reads a
FrontElement. Numbers at every level against NumPy, in the factory and the eager style; the reader
alone reads the index; random inputs are valid indices by analysis; an index outside its tensor is
a protocol fault at L8; compute needing the value is NT330 (tests/test_bad_inputs.py).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from test_generality import check_levels

from conftest import load_text
from nanott import api
from nanott.index_inputs import index_ranges
from nanott.ir import walk
from nanott.languages import l8
from nanott.sim.errors import SimulationError

# Factory style: each block of rows of Y is a block of rows of X chosen by an index, scaled.
FACTORY = '''
import tilelang
import tilelang.language as T


@tilelang.jit(out_idx=[-1])
def gather(M, N, n_src, bm=32, dtype="bfloat16"):
    @T.prim_func
    def main(X: T.Tensor((n_src * bm, N), dtype), Index: T.Tensor((M // bm,), "int32"),
             Y: T.Tensor((M, N), dtype)):
        with T.Kernel(T.ceildiv(M, bm), threads=128) as bx:
            X_s = T.alloc_shared((bm, N), dtype)
            y = T.alloc_fragment((bm, N), "float32")
            row = Index[bx]
            T.copy(X[row * bm:(row + 1) * bm, 0:N], X_s)
            for i, j in T.Parallel(bm, N):
                y[i, j] = X_s[i, j] * 2.0
            T.copy(y, Y[bx * bm, 0])
    return main
'''

# Eager style: the sum of the topk blocks of columns an index row lists (a block listed twice
# counts twice), over a serial loop.
EAGER = '''
import tilelang
import tilelang.language as T


@tilelang.jit(out_idx=[-1])
def block_sum(X, Sel, bm=32, bn=32, dtype=T.bfloat16):
    M, N, topk = T.const("M, N, topk")
    X: T.Tensor((M, N), dtype)
    Sel: T.Tensor((M // bm, topk), T.int32)
    Y = T.empty((M, bn), T.float32)
    with T.Kernel(T.ceildiv(M, bm), threads=128) as bx:
        X_s = T.alloc_shared((bm, bn), dtype)
        acc = T.alloc_fragment((bm, bn), T.float32)
        T.clear(acc)
        for t in T.serial(topk):
            kb = Sel[bx, t]
            T.copy(X[bx * bm, kb * bn], X_s)
            for i, j in T.Parallel(bm, bn):
                acc[i, j] += X_s[i, j]
        T.copy(acc, Y[bx * bm, 0])
    return Y
'''


def load(tmp_path: Path, text: str, sets: dict):
    return load_text(tmp_path, text, sets)


def gather_reference(inputs):
    x, index = inputs["X"].astype(np.float64), inputs["Index"]
    rows = np.concatenate([np.arange(i * 32, (i + 1) * 32) for i in index])
    return {"Y": (2 * x[rows]).astype(inputs["X"].dtype)}


def block_sum_reference(inputs):
    x, sel = inputs["X"].astype(np.float64), inputs["Sel"]
    y = np.stack([sum(x[b * 32:(b + 1) * 32, k * 32:(k + 1) * 32] for k in sel[b]) for b in range(len(sel))])
    return {"Y": y.reshape(-1, 32).astype(np.float32)}


@pytest.mark.parametrize("n_src", [2, 5])
def test_factory_gather_by_index_matches_numpy_at_every_level(tmp_path, n_src):
    check_levels(load(tmp_path, FACTORY, {"M": "128", "N": "64", "n_src": str(n_src)}), gather_reference)


@pytest.mark.parametrize("topk", [1, 3])
def test_eager_sum_of_selected_blocks_matches_numpy_at_every_level(tmp_path, topk):
    check_levels(load(tmp_path, EAGER, {"M": "64", "N": "128", "topk": str(topk)}), block_sum_reference)


def test_random_indices_keep_every_copy_inside_its_tensor(tmp_path):
    kernel = api.lower(load(tmp_path, FACTORY, {"M": "128", "N": "64", "n_src": "5"}).prim_func, stop_after="P0")
    assert index_ranges(kernel) == {"Index": (0, 5)}        # row * 32 + 32 <= 5 * 32
    index = api.random_inputs(kernel, 3)["Index"]
    assert index.min() >= 0 and index.max() < 5 and len(set(index)) > 1
    eager = api.lower(load(tmp_path, EAGER, {"M": "64", "N": "128", "topk": "2"}).prim_func, stop_after="P0")
    assert index_ranges(eager) == {"Sel": (0, 4)}


def test_only_the_reader_reads_the_index_through_its_scratch_page(tmp_path):
    program = api.lower(load(tmp_path, EAGER, {"M": "64", "N": "128", "topk": "2"}).prim_func, stop_after="D3")
    scratch = next(cb for cb in program.cbs if cb.name == "Sel_elem")
    assert (scratch.producer, scratch.consumer, scratch.plan.pages) == ("reader", "reader", 1)
    for k in program.kernels:
        fronts = [x for x in walk(k.body) if isinstance(x, l8.FrontElement)]
        assert bool(fronts) == (k.role == "reader"), k.role
    reader = str(program.kernel("reader"))
    order = ["cb_reserve_back cb{0}, 1", "noc_async_read_page Sel.page", "cb_push_back cb{0}, 1",
             "cb_wait_front cb{0}, 1", "let kb = cb{0}.front[0]", "cb_pop_front cb{0}, 1"]
    at = [reader.index(s.format(scratch.index)) for s in order]
    assert at == sorted(at)


def test_an_index_outside_its_tensor_is_a_protocol_fault(tmp_path):
    loaded = load(tmp_path, FACTORY, {"M": "128", "N": "64", "n_src": "2"})
    kernel = api.lower(loaded.prim_func, stop_after="P0")
    inputs = api.random_inputs(kernel, 0)
    inputs["Index"][:] = 7                      # X has 2 blocks of rows: block 7 is outside it
    program = api.lower(loaded.prim_func, stop_after="D3")
    with pytest.raises(SimulationError, match="noc_async_read_page X.page"):
        api.simulate(program, "L8", inputs)


# A mask made of values read from DRAM (TileLang's varlen decoding: `i_s * block_N + j >= seqlens[b]`):
# the reader makes it (generate_to_cb), reading both lets.
VARLEN = '''
import tilelang
import tilelang.language as T


@tilelang.jit(out_idx=[-1])
def masked(M, n_src, bm=32, dtype="bfloat16"):
    @T.prim_func
    def main(X: T.Tensor((M, n_src * 32), dtype), Index: T.Tensor((M // bm,), "int32"),
             Lens: T.Tensor((M // bm,), "int32"), Y: T.Tensor((M, 32), dtype)):
        with T.Kernel(T.ceildiv(M, bm), threads=128) as bx:
            X_s = T.alloc_shared((bm, 32), dtype)
            y = T.alloc_fragment((bm, 32), "float32")
            col = Index[bx]
            n = Lens[bx]
            T.copy(X[bx * bm, col * 32], X_s)
            for i, j in T.Parallel(bm, 32):
                y[i, j] = T.if_then_else(col * 32 + j < n, 1.0, 0.0)
            for i, j in T.Parallel(bm, 32):
                y[i, j] = y[i, j] * X_s[i, j]
            T.copy(y, Y[bx * bm, 0])
    return main
'''


def test_a_mask_of_values_read_from_dram_is_made_by_the_reader_at_every_level(tmp_path):
    loaded = load(tmp_path, VARLEN, {"M": "96", "n_src": "3"})
    kernel = api.lower(loaded.prim_func, stop_after="P0")
    inputs = api.random_inputs(kernel, 5)
    assert index_ranges(kernel) == {"Index": (0, 3)}          # Lens starts no copy: any int
    inputs["Lens"][:] = np.random.default_rng(5).integers(0, 96, size=3)   # cuts inside the 3 blocks
    x, index, lens = inputs["X"].astype(np.float64), inputs["Index"], inputs["Lens"]
    cols = index[:, None] * 32 + np.arange(32)
    assert 0 < (cols < lens[:, None]).mean() < 1                # the mask keeps some columns, not all
    expected = np.concatenate([x[b * 32:(b + 1) * 32, cols[b]] * (cols[b] < lens[b]) for b in range(3)])
    program = api.lower(loaded.prim_func, stop_after="D3")
    assert "generate_to_cb" in str(program.kernel("reader"))
    for level in ("L0", "L5", "L8", "L9"):
        got = api.simulate(api.lower(loaded.prim_func, stop_after=api.stage_for_level(level).id), level, inputs)
        assert api.within(got["Y"], expected.astype(inputs["X"].dtype), "bfloat16"), level
