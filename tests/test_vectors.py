"""Vectors and reductions (issue 4, step 4), through the real pipeline from kernels written as
source: 1-D fragments, T.reduce_sum / _max / _min along either dim with clear=True and clear=False,
T.fill with -T.infinity, row and column broadcasts (s[i], w[j]) in T.Parallel, elementwise maps
over a vector (1-D T.Parallel).

How a vector lies in tiles (C2 and _c2_vectors.py), which tile operations and Metalium calls a
reduction and a broadcast become, the reduce_init / reduce_uninit pair in the init model (checked by
the L9 simulator and by F1), numbers at every interpreted level against NumPy, and the diagnostics.
"""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from test_generality import check_levels

from nanott import api
from nanott.diagnostics import NanottError
from nanott.ir import CheckError, walk
from nanott.languages import l1, l5, l9
from nanott.languages.l9_interp import InterpL9
from nanott.loader import load_kernel
from nanott.passes.f1_verify import verify
from nanott.sim.errors import ProtocolError
from nanott.target import DEFAULT_TARGET

COLUMN_SOFTMAX = '''
import nanott.language as T

@T.prim_func
def colsoftmax(A: T.Tensor((64, 96), "float32"), B: T.Tensor((64, 96), "float32")):
    with T.Kernel(3) as bx:
        A_s = T.alloc_shared((64, 32), "float32")
        A_l = T.alloc_fragment((64, 32), "float32")
        mx = T.alloc_fragment((32,), "float32")
        sm = T.alloc_fragment((32,), "float32")
        T.copy(A[0, bx * 32], A_s)
        T.reduce_max(A_s, mx, dim=0)
        for i, j in T.Parallel(64, 32):
            A_l[i, j] = T.exp(A_s[i, j] - mx[j])
        T.reduce_sum(A_l, sm, dim=0)
        for i, j in T.Parallel(64, 32):
            A_l[i, j] = A_l[i, j] / sm[j]
        T.copy(A_l, B[0, bx * 32])
'''

RUNNING_MIN = '''
import nanott.language as T

@T.prim_func
def runmin(A: T.Tensor((64, 128), "bfloat16"), B: T.Tensor((64, 32), "float32")):
    with T.Kernel(2) as bx:
        A_s = T.alloc_shared((32, 64), "bfloat16")
        mn = T.alloc_fragment((32,), "float32")
        O_l = T.alloc_fragment((32, 32), "float32")
        T.fill(mn, T.infinity("float32"))
        for k in T.serial(2):
            T.copy(A[bx * 32, k * 64], A_s)
            T.reduce_min(A_s, mn, dim=1, clear=False)
        T.fill(O_l, 0.0)
        for i, j in T.Parallel(32, 32):
            O_l[i, j] = O_l[i, j] + mn[i]
        T.copy(O_l, B[bx * 32, 0])
'''


def load(tmp_path: Path, text: str, name: str = "k.py"):
    path = tmp_path / name
    path.write_text(text)
    return load_kernel(path)


def column_softmax(arrays):
    a = arrays["A"].astype(np.float64)
    e = np.exp(a - a.max(axis=0, keepdims=True))
    return {"B": e / e.sum(axis=0, keepdims=True)}


def test_a_column_softmax_reduces_along_dim_0_into_row_vectors_at_every_level(tmp_path):
    loaded = load(tmp_path, COLUMN_SOFTMAX)
    check_levels(loaded, column_softmax)
    p5 = api.lower(loaded.prim_func, stop_after="C2")
    vectors = {cb.name: cb.shape for cb in p5.cbs if cb.name in ("mx", "sm")}
    assert vectors == {"mx": (32, 32), "sm": (32, 32)}          # one tile each: a row of 1 tile
    ops = [str(x.op) for x in walk(p5.body) if isinstance(x, l5.TAssign)]
    assert "reduce_max_col(t0, cb0[ki, tj], scaler cb4[0, 0])" in ops
    assert "sub_tiles_bcast_rows(cb0[ti, tj], cb2[0, tj])" in ops    # A_s[i, j] - mx[j]: FPU
    assert "bcast_rows cb3[0, tj]" in ops                             # / sm[j]: spread, then SFPU


def test_a_release_without_the_row_broadcast_subtract_spreads_the_vector_and_subtracts_on_the_sfpu(tmp_path):
    """ttnn 0.66.0 has no sub_tiles_bcast_rows (api.fpu_broadcasts): C2 spreads mx[j] over a
    temporary (unary_bcast<ROW>) and subtracts on the SFPU; L9 still matches NumPy."""
    loaded = load(tmp_path, COLUMN_SOFTMAX)
    target = replace(DEFAULT_TARGET, release="0.66.0")
    p5 = api.lower(loaded.prim_func, stop_after="C2", target=target)
    ops = [str(x.op) for x in walk(p5.body) if isinstance(x, l5.TAssign)]
    assert not any("sub_tiles_bcast_rows" in op for op in ops), ops
    assert "bcast_rows cb2[0, tj]" in ops and any(op.startswith("sub(") for op in ops), ops
    kernel = api.lower(loaded.prim_func, stop_after="P0")
    inputs = api.random_inputs(kernel, seed=3)
    got = api.simulate(api.lower(loaded.prim_func, target=target), "L9", inputs)
    assert api.within(got["B"], column_softmax(inputs)["B"], "float32")


def test_running_min_accumulates_across_a_loop_with_clear_false(tmp_path):
    loaded = load(tmp_path, RUNNING_MIN)
    check_levels(loaded, lambda a: {"B": np.repeat(a["A"].astype(np.float64).min(axis=1, keepdims=True),
                                                    32, axis=1)})
    p5 = api.lower(loaded.prim_func, stop_after="C2")
    (reduce_group,) = [g for g in walk(p5.body) if isinstance(g, l5.TileGroup)
                       and any(isinstance(x, l5.TileReduce) for x in walk(g.body))]
    first = reduce_group.body[0].op
    assert first == l5.TileLoad(l5.TileRef(1, l5.Var("ti"), l5.Var("tj")))    # the old minimum
    fills = [x.op.value for x in walk(p5.body) if isinstance(x, l5.TAssign) and isinstance(x.op, l5.TileFill)]
    assert float("inf") in fills and 1.0 in fills                            # T.infinity, the scaler


def test_examples_lay_their_vectors_down_columns():
    root = Path(__file__).resolve().parent.parent / "examples"
    for example, names in (("softmax", ("m", "s")), ("rms_norm", ("A_powsum",))):
        p5 = api.lower(load_kernel(root / f"{example}.py").prim_func, stop_after="C2")
        assert all(cb.shape == (32, 32) for cb in p5.cbs if cb.name in names)
        scaler = [cb for cb in p5.cbs if cb.name == "reduce_scaler"]
        assert len(scaler) == 1 and scaler[0].plan.block_pages == 1


# ----- D4, D5: the Metalium calls, and the reduce_init / reduce_uninit pair -----
def test_a_reduction_is_reduce_init_tiles_then_reduce_uninit_before_the_pack():
    root = Path(__file__).resolve().parent.parent / "examples"
    p = api.lower(load_kernel(root / "softmax.py").prim_func)
    heads = [s.head() for s in walk(p.kernel("compute").body) if hasattr(s, "head")]
    i = heads.index("reduce_init<MAX, REDUCE_ROW>(cb1, cb4, cb2)")
    assert heads[i + 2].startswith("reduce_tile<MAX, REDUCE_ROW> cb1[")
    rest = heads[i:]
    assert rest.index("reduce_uninit()") < rest.index(next(h for h in rest if h.startswith("pack_tile")))
    assert "sub_bcast_cols_init_short(cb1, cb2)" in heads and "unary_bcast_init<COL>(cb3, cb1)" in heads
    assert any(h.startswith("sub_tiles_bcast_cols cb1[") for h in heads)
    assert any(h.startswith("unary_bcast<COL> cb3[") for h in heads)


def strip(p: l9.Program, op: str) -> l9.Program:
    def edit(stmts):
        return tuple(replace(s, body=edit(s.body)) if isinstance(s, l9.For) else s
                     for s in stmts if not (isinstance(s, l9.Init) and s.op == op))
    return replace(p, kernels=tuple(replace(k, body=edit(k.body)) for k in p.kernels))


def test_a_pack_after_a_reduction_without_reduce_uninit_is_caught(tmp_path):
    loaded = load(tmp_path, COLUMN_SOFTMAX)
    p = strip(api.lower(loaded.prim_func), "reduce_uninit")
    inputs = api.random_inputs(api.lower(loaded.prim_func, stop_after="P0"), seed=0)
    with pytest.raises(ProtocolError) as e:
        InterpL9().run(p, inputs)
    assert e.value.rule == "5.3.6" and "without reduce_uninit(): the mask slot holds True" in str(e.value)
    with pytest.raises(CheckError, match=r"needs reduce_uninit\(\)"):
        verify(p, DEFAULT_TARGET)


def test_a_reduce_tile_without_reduce_init_is_caught(tmp_path):
    loaded = load(tmp_path, COLUMN_SOFTMAX)
    p = api.lower(loaded.prim_func)
    (init,) = {s.op for s in walk(p.kernel("compute").body) if isinstance(s, l9.Init)
               and s.op.startswith("reduce_init<MAX")}
    inputs = api.random_inputs(api.lower(loaded.prim_func, stop_after="P0"), seed=0)
    with pytest.raises(ProtocolError, match=r"reduce_tile<MAX, REDUCE_COL> .* without reduce_init"):
        InterpL9().run(strip(p, init), inputs)


# ----- what is still refused, with its line -----
def kernel_with(tmp_path: Path, lines: str) -> str:
    return f'''
import nanott.language as T

@T.prim_func
def k(A: T.Tensor((64, 64), "float32"), B: T.Tensor((64, 64), "float32")):
    with T.Kernel(1) as bx:
        A_s = T.alloc_shared((64, 64), "float32")
        A_l = T.alloc_fragment((64, 64), "float32")
        v = T.alloc_fragment((64,), "float32")
        T.copy(A, A_s)
{lines}
        T.copy(A_l, B)
'''


@pytest.mark.parametrize("lines, code, words, line", [
    ("""        T.reduce_sum(A_s, v, dim=1)
        for i, j in T.Parallel(64, 64):
            A_l[i, j] = A_s[i, j] * v[i] + v[j]""", "NT322", "the vector v lies down a column", 13),
    ("""        for i, j in T.Parallel(64, 64):
            v[i] = A_s[i, j]
        for i, j in T.Parallel(64, 64):
            A_l[i, j] = v[i]""", "NT317", "v[i] is stored inside a T.Parallel over 64x64: that is a reduction",
     12),
    ("""        T.reduce_sum(A_s, v, dim=1)
        T.reduce_sum(v, v, dim=0)""", "NT304", "T.reduce_sum of the 1-D buffer v", 12),
    ("""        T.reduce_sum(A_s, A_l, dim=1)""", "NT105", "gives (64,), but A_l is (64, 64)", 11),
    ("""        T.reduce_max(A_s, v, dim=2)""", "NT104", "reduces along dim 2", 11),
])
def test_what_vectors_cannot_do_yet_is_a_diagnostic_at_its_line(tmp_path, lines, code, words, line):
    loaded = load(tmp_path, kernel_with(tmp_path, lines))
    with pytest.raises(NanottError) as e:
        api.lower(loaded.prim_func)
    assert e.value.code == code and words in e.value.message, e.value.message
    assert e.value.loc.line == line and e.value.hint


def test_a_row_that_does_not_fit_in_l1_is_nt201_with_the_numbers(tmp_path):
    text = (Path(__file__).resolve().parent.parent / "examples" / "softmax.py").read_text()
    text = text.replace("M, N = 128, 128", "M, N = 128, 8192")
    with pytest.raises(NanottError) as e:
        api.lower(load(tmp_path, text, "wide_softmax.py").prim_func, stop_after="A2")
    assert e.value.code == "NT201" and "KiB of L1" in e.value.message and "1,363 KiB" in e.value.message
    assert e.value.loc.line and "A_local" in e.value.hint


def test_a_fill_overwritten_by_a_cleared_reduction_is_a_dead_value_a1a_drops(tmp_path, monkeypatch):
    """A1a drops the dead fill; without A1a, C2a drops its tile block before C3 builds the dataflow."""
    from dataclasses import replace as swap
    from nanott import pipeline
    text = COLUMN_SOFTMAX.replace("        T.reduce_max(A_s, mx, dim=0)\n",
                                  "        T.fill(mx, 5.0)\n        T.reduce_max(A_s, mx, dim=0)\n")
    loaded = load(tmp_path, text)
    check_levels(loaded, column_softmax)            # the fill changes nothing: clear=True

    def fills(stage):
        nodes = list(walk(api.lower(loaded.prim_func, stage).body))
        return ([x.value.value for x in nodes if isinstance(x, l1.Fill)] if stage.startswith("A") else
                [x.op.value for x in nodes if isinstance(x, l5.TAssign) and isinstance(x.op, l5.TileFill)])
    assert 5.0 in fills("A1") and 5.0 not in fills("A1a")
    without = tuple(swap(s, function=lambda program, target: program) if s.id == "A1a" else s
                    for s in pipeline.PIPELINE)
    monkeypatch.setattr(pipeline, "PIPELINE", without)
    monkeypatch.setattr(pipeline, "STAGES", {s.id: s for s in without})
    assert 5.0 in fills("C2") and 5.0 not in fills("C3")


# ----- vectors to and from DRAM (issue 4, step 2) -----
DRAM_VECTORS = '''
import nanott.language as T

@T.prim_func
def vecs(A: T.Tensor(({M}, 64), "float32"), w: T.Tensor((64,), "{dtype}"), s: T.Tensor(({M},), "{dtype}"),
         B: T.Tensor(({M}, 64), "float32"), r: T.Tensor(({M},), "float32")):
    with T.Kernel(T.ceildiv({M}, 32)) as bx:
        A_s = T.alloc_shared((32, 64), "float32")
        w_s = T.alloc_shared((64,), "{dtype}")
        s_s = T.alloc_shared((32,), "{dtype}")
        r_l = T.alloc_fragment((32,), "float32")
        B_l = T.alloc_fragment((32, 64), "float32")
        T.copy(A[bx * 32, 0], A_s)
        T.copy(w, w_s)
        T.copy(s[bx * 32], s_s)
        for i, j in T.Parallel(32, 64):
            B_l[i, j] = A_s[i, j] * w_s[j] + s_s[i]
        T.reduce_max(B_l, r_l, dim=1)
        T.copy(B_l, B[bx * 32, 0])
        T.copy(r_l, r[bx * 32])
'''


@pytest.mark.parametrize("M, dtype", [(64, "float32"), (100, "bfloat16")])
def test_vectors_from_and_to_1d_tensors(tmp_path, M, dtype):
    """w (one value per column) is read as the row DRAM holds; s and r (one value per row) are
    column vectors, so C2 reads s through a row CB it transposes, and transposes r before the
    writer; M = 100 pads s, r and the rows of A and B to 128 (A1)."""
    loaded = load(tmp_path, DRAM_VECTORS.format(M=M, dtype=dtype))

    def reference(arrays):
        a, w, s = (arrays[n].astype(np.float64) for n in ("A", "w", "s"))
        b = a * w[None, :] + s[:, None]
        return {"B": b, "r": b.max(axis=1)}

    check_levels(loaded, reference)
    l1 = api.lower(loaded.prim_func, stop_after="A3")
    assert {p.name: p.layout.padded_shape for p in l1.params if len(p.shape) == 1} == {
        "w": (32, 64), "s": (32, -(-M // 32) * 32), "r": (32, -(-M // 32) * 32)}
    c2 = api.lower(loaded.prim_func, stop_after="C2")
    cbs = {cb.name: cb for cb in c2.cbs}
    assert cbs["w_s"].shape == (32, 64) and "w_s_row" not in cbs          # a row: read as it lies
    assert cbs["s_s"].shape == (32, 32) and cbs["s_s_row"].dtype == dtype
    assert cbs["r_l_row"].shape == (32, 32) and cbs["r_l_row"].dtype == "float32"
    transposes = [x for x in walk(c2.body) if isinstance(x, l5.TileTranspose)]
    assert [t.src.cb for t in transposes] == [cbs["s_s_row"].index, cbs["r_l"].index]
    l9_ops = {type(x).__name__ for x in walk(api.lower(loaded.prim_func).kernels)}
    assert "TransposeTile" in l9_ops


def test_a_row_of_a_2d_tensor_copied_into_a_vector_matches_numpy_at_every_level(tmp_path):
    """Once NT314: the row A[0, :] is one row of A's tiles (_c1_vector_rows.py), read alone into w_s.
    float32 products and adds: api.within's float32 tolerance, relative to each output's scale."""
    text = DRAM_VECTORS.format(M=64, dtype="float32").replace("T.copy(w, w_s)", "T.copy(A[0, 0:64], w_s)")

    def reference(arrays):
        b = arrays["A"] * arrays["A"][0][None, :] + arrays["s"][:, None]
        return {"B": b, "r": b.max(axis=1)}
    check_levels(load(tmp_path, text), reference)


def test_a_column_of_a_2d_tensor_copied_in_blocks_too_is_a_diagnostic(tmp_path):
    """A is copied in 32x64 blocks, so it stays stored as written: its column A[0:32, 1] is 32
    elements a face row apart, which the NoC cannot move alone (NT314, naming the column)."""
    text = DRAM_VECTORS.format(M=64, dtype="float32").replace("T.copy(s[bx * 32], s_s)",
                                                              "T.copy(A[bx * 32:(bx + 1) * 32, 1], s_s)")
    with pytest.raises(NanottError) as e:
        api.lower(load(tmp_path, text).prim_func)
    assert e.value.code == "NT314" and "a column of A's tiles" in e.value.message and e.value.loc.line == 15
