"""An `if` on a value read from DRAM around tile operations, as TileLang's block-sparse and NSA
kernels write it: `i_s = BlockIndices[...] * bs; if i_s <= i_t and i_s >= 0:` (an index tensor),
or `T.copy(Mask[...], mask)` then `if mask[k] != 0:` (a mask row copied into a fragment, which P0
reads from DRAM instead); and a loop bounded by such a value. P0 makes the branch a loop run once
or never; the reader reads the value (C1's Element) and, since compute needs it for the loop's
extent, D1 makes the scratch CB reader -> compute: the reader reads the element from the page it
reserved and pushes it, compute waits, reads the same element (read_tile_value) and pops. Both
skip the branch together, so every CB stays balanced (the L8 and L9 simulators count every call).

Numerics against NumPy at every level on inputs whose conditions both hold and fail (asserted),
in the factory and the eager style; tolerances the output dtype's (api.within: relative to each
element and to the output's own scale), because the GEMMs and sums add bfloat16 values in float32
as NumPy's float64 does to within float32's rounding.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from conftest import load_text
from nanott import api
from nanott.backends.metalium.api import VERSIONS
from nanott.diagnostics import NanottError
from nanott.ir import walk
from nanott.languages import l8
from nanott.passes.g1_emit_metalium import emit_metalium
from nanott.target import WORMHOLE_N150

LEVELS = ("L0", "L1", "L2", "L3", "L4", "L5", "L6", "L7", "L8", "L9")

# Factory style, NSA's guard: block row `by` of C sums A[by, s] @ B[s, bx] over the blocks s its
# index row lists that are at or below the diagonal and not -1 (padding).
FACTORY = '''
import tilelang
import tilelang.language as T


@tilelang.jit(out_idx=[-1])
def selected(M, N, K, topk, bm=32, bn=32, bk=32):
    @T.prim_func
    def main(A: T.Tensor((M, K), T.bfloat16), B: T.Tensor((K, N), T.bfloat16),
             Sel: T.Tensor((M // bm, topk), T.int32), C: T.Tensor((M, N), T.float32)):
        with T.Kernel(T.ceildiv(N, bn), T.ceildiv(M, bm), threads=128) as (bx, by):
            a = T.alloc_shared((bm, bk), T.bfloat16)
            b = T.alloc_shared((bk, bn), T.bfloat16)
            acc = T.alloc_fragment((bm, bn), T.float32)
            T.clear(acc)
            for t in T.Pipelined(topk, num_stages=2):
                i_s = Sel[by, t] * bk
                if i_s <= by * bk and i_s >= 0:
                    T.copy(A[by * bm, i_s], a)
                    T.copy(B[i_s, bx * bn], b)
                    T.gemm(a, b, acc)
            T.copy(acc, C[by * bm, bx * bn])
    return main
'''

# Eager style, block-sparse attention's mask: a row of a bool mask copied into a fragment, and the
# blocks of columns of X whose mask element is set summed (scaled by 2 in compute).
EAGER = '''
import tilelang
import tilelang.language as T


@tilelang.jit(out_idx=[-1])
def masked_sum(X, Mask, bm=32, bn=32):
    M, N = T.const("M, N")
    X: T.Tensor((M, N), T.bfloat16)
    Mask: T.Tensor((M // bm, N // bn), T.bool)
    Y = T.empty((M, bn), T.float32)
    with T.Kernel(T.ceildiv(M, bm), threads=128) as bx:
        X_s = T.alloc_shared((bm, bn), T.bfloat16)
        acc = T.alloc_fragment((bm, bn), T.float32)
        mask = T.alloc_fragment((N // bn,), T.bool)
        T.clear(acc)
        T.copy(Mask[bx, :], mask)
        for k in T.serial(N // bn):
            if mask[k] != 0:
                T.copy(X[bx * bm, k * bn], X_s)
                for i, j in T.Parallel(bm, bn):
                    acc[i, j] += X_s[i, j] * 2.0
        T.copy(acc, Y[bx * bm, 0])
    return Y
'''

# A loop bounded by a value read from DRAM: block b of Y is Counts[b] times block b of X.
COUNTED = '''
import nanott.language as T


@T.prim_func
def counted(X: T.Tensor((64, 64), "bfloat16"), Counts: T.Tensor((2,), "int32"), Y: T.Tensor((64, 64), "float32")):
    with T.Kernel(2, threads=128) as bx:
        X_s = T.alloc_shared((32, 64), "bfloat16")
        acc = T.alloc_fragment((32, 64), "float")
        T.fill(acc, 0)
        for t in T.serial(Counts[bx]):
            T.copy(X[bx * 32, 0], X_s)
            for i, j in T.Parallel(32, 64):
                acc[i, j] += X_s[i, j]
        T.copy(acc, Y[bx * 32, 0])
'''


def load(tmp_path: Path, text: str, sets: dict):
    return load_text(tmp_path, text, sets)


def check_levels(loaded, inputs: dict, expected: dict) -> None:
    for level in LEVELS:
        program = api.lower(loaded.prim_func, stop_after=api.stage_for_level(level).id)
        got = api.simulate(program, level, {k: v.copy() for k, v in inputs.items()})
        for name, want in expected.items():
            assert api.within(got[name], want, "float32"), (level, name, api.max_rel_error(got[name], want))


def selected_inputs(loaded, seed: int):
    kernel = api.lower(loaded.prim_func, stop_after="P0")
    inputs = api.random_inputs(kernel, seed)
    inputs["Sel"][:] = np.random.default_rng(seed).integers(-1, 3, size=inputs["Sel"].shape)   # -1: padding
    sel, rows = inputs["Sel"], np.arange(len(inputs["Sel"]))[:, None]
    kept = (sel >= 0) & (sel <= rows)
    assert kept.any() and not kept.all()            # some blocks are skipped, some are not
    a, b = inputs["A"].astype(np.float64), inputs["B"].astype(np.float64)
    c = np.zeros((a.shape[0], b.shape[1]))
    for r in range(len(sel)):
        for s in sel[r][kept[r]]:
            c[r * 32:(r + 1) * 32] += a[r * 32:(r + 1) * 32, s * 32:(s + 1) * 32] @ b[s * 32:(s + 1) * 32]
    return inputs, {"C": c}


@pytest.mark.parametrize("topk", [2, 3])
def test_an_if_on_an_index_read_from_dram_matches_numpy_at_every_level(tmp_path, topk):
    loaded = load(tmp_path, FACTORY, {"M": 96, "N": 64, "K": 96, "topk": topk})
    check_levels(loaded, *selected_inputs(loaded, topk))


def test_an_if_on_a_mask_copied_into_a_fragment_matches_numpy_at_every_level(tmp_path):
    loaded = load(tmp_path, EAGER, {"M": 96, "N": 128})
    kernel = api.lower(loaded.prim_func, stop_after="P0")
    assert "mask" not in {x.name for x in walk(kernel.body) if hasattr(x, "scope")}   # read from DRAM instead
    inputs = api.random_inputs(kernel, 3)
    inputs["Mask"][:] = np.random.default_rng(3).integers(0, 2, size=inputs["Mask"].shape).astype(bool)
    mask, x = inputs["Mask"], inputs["X"].astype(np.float64)
    assert mask.any() and not mask.all()
    y = np.stack([sum((2 * x[r * 32:(r + 1) * 32, k * 32:(k + 1) * 32] for k in range(4) if mask[r, k]),
                      np.zeros((32, 32))) for r in range(3)])
    check_levels(loaded, inputs, {"Y": y.reshape(-1, 32)})


def test_a_loop_bounded_by_a_value_read_from_dram_matches_numpy_at_every_level(tmp_path):
    loaded = load(tmp_path, COUNTED, {})
    inputs = api.random_inputs(api.lower(loaded.prim_func, stop_after="P0"), 1)
    inputs["Counts"][:] = [0, 3]
    x = inputs["X"].astype(np.float64)
    check_levels(loaded, inputs, {"Y": np.concatenate([0 * x[:32], 3 * x[32:]])})


def test_the_reader_sends_the_value_to_compute_through_its_scratch_page(tmp_path):
    program = api.lower(load(tmp_path, FACTORY, {"M": 96, "N": 64, "K": 96, "topk": 2}).prim_func, stop_after="D3")
    scratch = next(cb for cb in program.cbs if cb.name == "Sel_elem")
    assert (scratch.producer, scratch.consumer, scratch.plan.pages) == ("reader", "compute", 1)
    reads = {k.role: {type(x).__name__ for x in walk(k.body) if isinstance(x, (l8.FrontElement, l8.BackElement))}
             for k in program.kernels}
    assert reads == {"reader": {"BackElement"}, "compute": {"FrontElement"}, "writer": set()}
    n = scratch.index
    reader, compute = str(program.kernel("reader")), str(program.kernel("compute"))
    order = [f"cb_reserve_back cb{n}, 1", "noc_async_read_page Sel.page", "noc_async_read_barrier",
             f"let i_s = (cb{n}.back[0]", f"cb_push_back cb{n}, 1", "for once in 0..if_then_else("]
    assert [reader.index(s) for s in order] == sorted(reader.index(s) for s in order)
    order = [f"cb_wait_front cb{n}, 1", f"let i_s = (cb{n}.front[0]", f"cb_pop_front cb{n}, 1", "for once in 0.."]
    assert [compute.index(s) for s in order] == sorted(compute.index(s) for s in order)
    assert not program.kernel("compute").bindings          # compute reads no tensor: it is sent the value


def test_compute_reads_the_value_with_read_tile_value_where_the_release_has_it(tmp_path):
    program = api.lower(load(tmp_path, EAGER, {"M": 96, "N": 128}).prim_func, stop_after="F1")
    compute = emit_metalium(program, WORMHOLE_N150, VERSIONS["0.81.1"])["compute.cpp"]
    assert "read_tile_value(cb_Mask_elem, 0, " in compute and "& 0xff" in compute    # a byte of a bool
    with pytest.raises(NanottError) as e:
        emit_metalium(program, WORMHOLE_N150, VERSIONS["0.65.0"])
    assert e.value.code == "NT330" and "has no read_tile_value" in e.value.message
