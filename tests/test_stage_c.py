"""Stage C: C1 lower-shared-to-cb (L3 -> L4), C2 lower-tile-intrinsics (L4 -> L5), C3
build-tile-dataflow (L5 -> L6) and the interpreters of L4, L5, L6.

Programs are L3 kernels built by hand here, as B2 would write them: a GEMM with two K tiles per
block in a pipelined K loop, a clear-accumulate GEMM copied out in another dtype, an elementwise
map with constants over bf16 inputs into a float32 fragment stored as bf16, and a few small
kernels for one rule each. Numbers are compared with independent NumPy computations:
  - elementwise: NumPy doing the same float32 operations in the same order, then rounding:
    bit-identical at every level (the promise of C2 and C3);
  - GEMM: float64 A @ B within float32's tolerance (rtol = atol = 1e-4, K = 256, |inputs| < 1);
    L5 and L6 also bit-identical to a NumPy chain of 32x32 tile products added in K order.
"""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import ml_dtypes
import numpy as np
import pytest
from conftest import cb_named

from nanott.diagnostics import NanottError
from nanott.ir import Loc, walk
from nanott.languages import l1, l3, l4, l5, l6
from nanott.languages.l3_interp import InterpL3
from nanott.languages.l4_interp import InterpL4
from nanott.languages.l5_interp import InterpL5
from nanott.languages.l6_interp import InterpL6
from nanott.passes._affine import divide
from nanott.passes._cb_plan import cb_plan
from nanott.passes.a1_infer_layout import tile_layout
from nanott.passes.c1_lower_shared_to_cb import lower_shared_to_cb
from nanott.pipeline import PIPELINE, STAGES, language
from nanott.printing import render
from nanott.target import DEFAULT_TARGET

pytestmark = [pytest.mark.C1, pytest.mark.C2, pytest.mark.C3]
BF16, F32 = ml_dtypes.bfloat16, np.float32
INTERP = {"L3": InterpL3, "L4": InterpL4, "L5": InterpL5, "L6": InterpL6}


# ----- building L3 kernels by hand -----
def c(v):
    return l3.Const(v, "int32" if isinstance(v, int) else "float32")


def v(name):
    return l3.Var(name)


def mul(a, b):
    return l3.BinOp("*", a, b)


def ld(buf):
    return l3.Load(buf, (v("i"), v("j")))


def tensor(name, shape, dtype):
    return l1.Tensor(name, shape, dtype, tile_layout(shape, dtype), None)


def alloc(name, shape, dtype, scope="shared", depth=2):
    return l3.Alloc(name, shape, dtype, scope, cb_plan(shape, dtype, depth, "test"))


def region(buf, starts, extents):
    return l3.Region(buf, tuple(starts), tuple(extents))


def whole(buf, shape):
    return region(buf, (c(0), c(0)), shape)


def kernel(name, params, grid, body):
    """The persistent loop B2 writes: two blocks per core, (bx, by) recovered by lets."""
    gx, gy = grid
    blocks = gx * gy
    cores = tuple(l3.CoreWork((i, 0), 2 * i, min(2, blocks - 2 * i)) for i in range((blocks + 1) // 2))
    bid = v("block_id")
    loop = l3.For("blk", l3.CoreArg("count"), "persistent", 0, (
        l3.Let("block_id", l3.BinOp("+", l3.CoreArg("start"), v("blk"))),
        l3.Let("bx", l3.BinOp("%", bid, c(gx))), l3.Let("by", l3.BinOp("//", bid, c(gx))), *body))
    return l3.Kernel(name, tuple(params), l3.WorkSplit((8, 8), blocks, cores), (loop,), ())


def gemm_kernel(M=128, N=128, K=256, bM=64, bN=64, bK=64, out="float32", clear_accum=False,
                k_var="k"):
    """C = A @ B. clear_accum=False: T.clear, then a pipelined K loop of copies and gemm;
    clear_accum=True: one K step, gemm with clear_accum. A, B bfloat16; C_f float32."""
    body = [alloc("A_s", (bM, bK), "bfloat16"), alloc("B_s", (bK, bN), "bfloat16"),
            alloc("C_f", (bM, bN), "float32", "fragment")]
    k0 = mul(v(k_var), c(bK)) if not clear_accum else c(0)
    step = (l3.Copy(region("A", (mul(v("by"), c(bM)), k0), (bM, bK)), whole("A_s", (bM, bK))),
            l3.Copy(region("B", (k0, mul(v("bx"), c(bN))), (bK, bN)), whole("B_s", (bK, bN))),
            l3.Gemm("A_s", "B_s", "C_f", False, False, clear_accum))
    if clear_accum:
        body += step
    else:
        body += [l3.Fill("C_f", c(0.0)), l3.For(k_var, c(K // bK), "pipelined", 2, step)]
    out_at = (mul(v("by"), c(bM)), mul(v("bx"), c(bN)))
    body.append(l3.Copy(whole("C_f", (bM, bN)), region("C", out_at, (bM, bN))))
    params = (tensor("A", (M, K), "bfloat16"), tensor("B", (K, N), "bfloat16"), tensor("C", (M, N), out))
    return kernel("gemm", params, (N // bN, M // bM), body)


def elementwise_kernel(value=None, dst=("i", "j"), extents=(64, 64), out="bfloat16"):
    """C = ((A + B) * (2 * 0.25)) - ((1 - A) * B): bf16 inputs, a float32 fragment, bf16 output."""
    value = value or l3.BinOp("-", mul(l3.BinOp("+", ld("A_s"), ld("B_s")), mul(c(2), c(0.25))),
                              mul(l3.BinOp("-", c(1.0), ld("A_s")), ld("B_s")))
    at = (mul(v("by"), c(64)), mul(v("bx"), c(64)))
    body = (alloc("A_s", (64, 64), "bfloat16"), alloc("B_s", (64, 64), "bfloat16"),
            alloc("C_f", (64, 64), "float32", "fragment", 1),
            l3.Copy(region("A", at, (64, 64)), whole("A_s", (64, 64))),
            l3.Copy(region("B", at, (64, 64)), whole("B_s", (64, 64))),
            l3.Parallel(("i", "j"), extents, (l3.Store("C_f", tuple(map(v, dst)), value),)),
            l3.Copy(whole("C_f", (64, 64)), region("C", at, (64, 64))))
    params = [tensor(n, (128, 128), "bfloat16") for n in "AB"] + [tensor("C", (128, 128), out)]
    return kernel("elementwise", params, (2, 2), body)


def two_uses_kernel():
    """X (float32) is read into a bfloat16 buffer, then used twice: Y = 2 X_s, Z = 1 - X_s."""
    ij, at = (v("i"), v("j")), (mul(v("by"), c(32)), c(0))
    body = (alloc("X_s", (32, 64), "bfloat16"), alloc("Y_f", (32, 64), "float32", "fragment"),
            alloc("Z_f", (32, 64), "float32", "fragment"),
            l3.Copy(region("X", at, (32, 64)), whole("X_s", (32, 64))),
            l3.Parallel(("i", "j"), (32, 64), (l3.Store("Y_f", ij, mul(ld("X_s"), c(2.0))),
                                                l3.Store("Z_f", ij, l3.BinOp("-", c(1.0), ld("X_s"))))),
            l3.Copy(whole("Y_f", (32, 64)), region("Y", at, (32, 64))),
            l3.Copy(whole("Z_f", (32, 64)), region("Z", at, (32, 64))))
    return kernel("two_uses", [tensor(n, (64, 64), "float32") for n in "XYZ"], (1, 2), body)


# ----- lowering and running -----
def lower_c(program, upto="C3", target=DEFAULT_TARGET):
    """{level: program} from L3 to the language after `upto`, each checked against its grammar."""
    levels = {"L3": program}
    l3.LANG.check(program)
    for s in PIPELINE[STAGES["C1"].position:STAGES[upto].position + 1]:     # C1, C2, C2a, ... upto
        program = s.function(program, target)
        language(s.dst).check(program, after=s.id)
        levels[s.dst] = program
    return levels


def inputs(program, seed=0):
    """Inputs uniform in [-1, 1) in their dtype; outputs NaN, so a hole cannot pass."""
    rng = np.random.default_rng(seed)
    written = {x.dst.buffer for x in walk(program.body) if isinstance(x, l3.Copy)}
    return {p.name: (np.full(p.shape, np.nan) if p.name in written else rng.uniform(-1, 1, p.shape))
            .astype(BF16 if p.dtype == "bfloat16" else F32) for p in program.params}


def run(level, program, arrays):
    out = {k: a.copy() for k, a in arrays.items()}
    INTERP[level]().run(program, out)
    return out


def run_all(levels, arrays):
    return {level: run(level, p, arrays) for level, p in levels.items()}


def same_bits(a, b):
    return a.dtype == b.dtype and np.array_equal(a.view(np.uint8), b.view(np.uint8))


def k_chain(A, B, tiles_out):
    """NumPy's own chain of 32x32 tile products, added into a float32 tile in K order."""
    a, b = A.astype(F32), B.astype(F32)
    out = np.empty(tiles_out, F32)
    for r in range(0, tiles_out[0], 32):
        for col in range(0, tiles_out[1], 32):
            acc = np.zeros((32, 32), F32)
            for k in range(0, a.shape[1], 32):
                a_tile, b_tile = a[r:r + 32, k:k + 32], b[k:k + 32, col:col + 32]
                acc = acc + np.ascontiguousarray(a_tile) @ np.ascontiguousarray(b_tile)
            out[r:r + 32, col:col + 32] = acc
    return out


def error(program, upto="C3", target=DEFAULT_TARGET) -> NanottError:
    with pytest.raises(NanottError) as e:
        lower_c(program, upto, target)
    assert e.value.hint, f"{e.value.code} has no hint"
    return e.value


# ----- affine analysis -----
def test_affine_division_by_a_tile():
    by, k, opaque = v("by"), v("k"), l3.BinOp("%", l3.BinOp("+", l3.CoreArg("start"), v("b")), c(4))
    assert divide(mul(by, c(64)), 32) == mul(by, c(2))
    assert divide(l3.BinOp("+", mul(by, c(64)), c(32)), 32) == l3.BinOp("+", mul(by, c(2)), c(1))
    assert divide(mul(c(32), k), 32) == k
    assert divide(mul(mul(k, c(32)), c(2)), 32) == mul(k, c(2))
    assert divide(l3.BinOp("-", mul(k, c(96)), mul(k, c(32))), 32) == mul(k, c(2))
    assert divide(mul(opaque, c(32)), 32) == opaque                  # an opaque term is one atom
    assert divide(l3.BinOp("-", mul(k, c(32)), mul(k, c(32))), 32) == c(0)
    assert divide(mul(by, c(48)), 32) is None
    assert divide(l3.BinOp("+", mul(by, c(64)), c(16)), 32) is None
    assert divide(mul(l3.BinOp("+", by, c(16)), c(2)), 32) is None   # 2 by + 32: by's 2 is not
    assert divide(l3.BinOp("//", mul(by, c(64)), c(2)), 32) == by    # 64 by // 2 divides exactly: 32 by
    assert divide(l3.BinOp("//", l3.BinOp("+", mul(by, c(64)), c(1)), c(2)), 32) is None  # one atom, coef 1


# ----- C1 -----
def test_c1_declares_cbs_and_splits_copies_by_memory():
    p3 = gemm_kernel()
    p4 = lower_c(p3, "C1")["L4"]
    allocs = [x for x in walk(p3.body) if isinstance(x, l3.Alloc)]
    assert [(cb.index, cb.name, cb.shape, cb.dtype, cb.scope, cb.plan) for cb in p4.cbs] == [
        (i, a.name, a.shape, a.dtype, a.scope, a.cb) for i, a in enumerate(allocs)]
    ops = (l4.ReadToCb, l4.WriteFromCb, l4.Gemm, l4.Fill)
    kinds = [type(x).__name__ for x in walk(p4.body) if isinstance(x, ops)]
    assert kinds == ["Fill", "ReadToCb", "ReadToCb", "Gemm", "WriteFromCb"]
    reads = [x for x in walk(p4.body) if isinstance(x, l4.ReadToCb)]
    assert reads[0] == l4.ReadToCb(l4.TileSlice("A", mul(v("by"), c(2)), mul(v("k"), c(2)), 2, 2), 0)
    assert reads[1] == l4.ReadToCb(l4.TileSlice("B", mul(v("k"), c(2)), mul(v("bx"), c(2)), 2, 2), 1)
    write = next(x for x in walk(p4.body) if isinstance(x, l4.WriteFromCb))
    assert write == l4.WriteFromCb(2, l4.TileSlice("C", mul(v("by"), c(2)), mul(v("bx"), c(2)), 2, 2))
    gemm = next(x for x in walk(p4.body) if isinstance(x, l4.Gemm))
    assert gemm == l4.Gemm(0, 1, 2, False, False, False)
    assert not any(isinstance(x, (l3.Alloc, l3.Copy, l3.Region)) for x in walk(p4.body))


def test_c1_copy_between_cbs_and_loads_by_index():
    p3 = elementwise_kernel()
    body = list(p3.body[0].body)
    body.insert(-1, alloc("C_s", (64, 64), "bfloat16"))
    body[-1] = l3.Copy(whole("C_f", (64, 64)), whole("C_s", (64, 64)))
    body.append(l3.Copy(whole("C_s", (64, 64)), region("C", (c(0), c(0)), (64, 64))))
    p4 = lower_c(replace(p3, body=(replace(p3.body[0], body=tuple(body)),)), "C1")["L4"]
    assert any(x == l4.CopyCb(2, 3) for x in walk(p4.body))
    assert {x.cb for x in walk(p4.body) if isinstance(x, l4.Load)} == {0, 1}


def test_c1_on_the_l3_demo_is_the_hand_written_l4_demo():
    from nanott.languages.l3_interp import demo_kernel as l3_demo
    from nanott.languages.l4_interp import demo_kernel as l4_demo
    assert lower_shared_to_cb(l3_demo(), DEFAULT_TARGET) == l4_demo()


def clear_gemm_kernel():
    return gemm_kernel(out="bfloat16", clear_accum=True, K=64)


@pytest.mark.parametrize("make", [gemm_kernel, clear_gemm_kernel, elementwise_kernel, two_uses_kernel])
def test_c1_l4_is_bit_identical_to_l3(make):
    p3 = make()
    levels = lower_c(p3, "C1")
    out = run_all(levels, inputs(p3))
    for p in p3.params:
        assert not np.isnan(out["L4"][p.name].astype(F32)).any()
        assert same_bits(out["L4"][p.name], out["L3"][p.name]), p.name


def test_c1_nt104_copy_start_off_a_tile():
    p3 = gemm_kernel()
    loop = p3.body[0].body[-2]
    off = (mul(v("by"), c(48)), mul(v("k"), c(64)))
    bad = l3.Copy(region("A", off, (64, 64)), whole("A_s", (64, 64)), loc=Loc("k.py", 7))
    e = error(replace_stmt(p3, -2, replace(loop, body=(bad, *loop.body[1:]))), "C1")
    assert e.code == "NT112" and "(by * 48)" in e.message and "tile boundary" in e.message
    assert e.loc.line == 7 and "multiple of 32" in e.hint


def replace_stmt(program, index, *stmts):
    """The kernel with statement `index` of its persistent loop replaced by `stmts`."""
    loop = program.body[0]
    body = list(loop.body)
    body[index:index + 1] = stmts
    return replace(program, body=(replace(loop, body=tuple(body)),))


@pytest.mark.parametrize("copy, code, words", [
    (l3.Copy(region("A_s", (c(32), c(0)), (32, 64)), region("C", (c(0), c(0)), (32, 64))), "NT314",
     "part of on-chip buffer"),
    (l3.Copy(region("A", (c(0), c(0)), (64, 64)), region("C", (c(0), c(0)), (64, 64))), "NT314",
     "both in DRAM"),
    (l3.Copy(region("A", (c(0), c(0)), (32, 128)), whole("A_s", (64, 64))), "NT314", "differ in shape"),
])
def test_c1_unsupported_copies(copy, code, words):
    e = error(replace_stmt(elementwise_kernel(), -1, copy), "C1")
    assert e.code == code and words in e.message and "not supported yet" in e.message


def test_c1_nt305_parallel_reads_a_dram_tensor():
    e = error(elementwise_kernel(value=l3.BinOp("+", ld("A"), c(1.0))), "C1")
    assert e.code == "NT315" and "A is a DRAM tensor" in e.message and "shared buffer first" in e.hint


@pytest.mark.parametrize("stmt, words", [
    (l3.Gemm("A", "B_s", "C_f", False, False, False), "T.gemm uses A directly"),
    (l3.Parallel(("i", "j"), (64, 64), (l3.Store("C", (v("i"), v("j")), ld("A_s")),)),
     "T.Parallel writes C directly"),
    (l3.Fill("C", c(0.0)), "T.fill writes C directly"),
])
def test_c1_nt305_ops_on_dram_tensors(stmt, words):
    e = error(replace_stmt(elementwise_kernel(), -2, stmt), "C1")
    assert e.code == "NT315" and words in e.message and "DRAM tensor" in e.message


def test_c1_nt104_copy_extent_not_whole_tiles():
    body = (alloc("X_s", (48, 64), "float32"),                   # A1 would refuse this buffer
            l3.Copy(region("X", (c(0), c(0)), (48, 64)), whole("X_s", (48, 64))),
            l3.Copy(whole("X_s", (48, 64)), region("Y", (c(0), c(0)), (48, 64))))
    e = error(kernel("ragged", [tensor(n, (64, 64), "float32") for n in "XY"], (1, 1), body), "C1")
    assert e.code == "NT112" and "copy extent 48 of X is not a whole number of tiles" in e.message


# ----- C2 -----
def test_c2_gemm_is_a_k_chain_per_output_tile():
    p5 = lower_c(gemm_kernel(), "C2")["L5"]
    groups = [x for x in walk(p5.body) if isinstance(x, l5.TileGroup)]
    fill, gemm = groups
    ij = (v("ti"), v("tj"))
    assert fill == l5.TileGroup(("ti", "tj"), (2, 2), (l5.TAssign("t0", l5.TileFill(0.0)),
                                                       l5.TStore(l5.TileRef(2, *ij), "t0")))
    mi, ni, ki = v("mi"), v("ni"), v("ki")
    assert gemm == l5.TileGroup(("mi", "ni"), (2, 2), (
        l5.TAssign("t0", l5.TileLoad(l5.TileRef(2, mi, ni))),
        l5.TFor("ki", 2, (
            l5.TAssign("t0", l5.TileMatmul(l5.TileRef(0, mi, ki), l5.TileRef(1, ki, ni), "t0")),)),
        l5.TStore(l5.TileRef(2, mi, ni), "t0")))


def test_c2_clear_accum_starts_from_a_zero_tile_and_names_are_fresh():
    p5 = lower_c(gemm_kernel(k_var="ki"), "C2")["L5"]            # the user's K loop is called ki
    gemm = [x for x in walk(p5.body) if isinstance(x, l5.TileGroup)][1]
    assert gemm.body[1].var == "ki1"
    p5 = lower_c(gemm_kernel(out="bfloat16", clear_accum=True, K=64), "C2")["L5"]
    gemm = next(x for x in walk(p5.body) if isinstance(x, l5.TileGroup))
    assert gemm.body[0] == l5.TAssign("t0", l5.TileFill(0.0))


def test_c2_elementwise_value_as_tile_operations():
    p5 = lower_c(elementwise_kernel(), "C2")["L5"]
    (group,) = [x for x in walk(p5.body) if isinstance(x, l5.TileGroup)]
    a, b = (l5.TileRef(cb, v("ti"), v("tj")) for cb in (0, 1))
    assert group.body == (                                            # (1 - a) * b needs 2 DST
        l5.TAssign("t0", l5.TileLoad(a)),                             # tiles, (a + b) * 0.5 one:
        l5.TAssign("t1", l5.TileScalar("rsub", "t0", 1.0)),           # 1 - a   (the needier first)
        l5.TAssign("t2", l5.TileLoad(b)),
        l5.TAssign("t3", l5.TileBinaryTemps("mul", "t1", "t2")),
        l5.TAssign("t4", l5.TileBinary("add", a, b)),                 # FPU: both from CBs
        l5.TAssign("t5", l5.TileScalar("mul", "t4", 0.5)),            # 2 * 0.25 folded
        l5.TAssign("t6", l5.TileBinaryTemps("sub", "t5", "t3")),      # still lhs - rhs
        l5.TStore(l5.TileRef(2, v("ti"), v("tj")), "t6"))
    assert group.extents == (2, 2)


def test_c2_one_group_per_store_in_order():
    p5 = lower_c(two_uses_kernel(), "C2")["L5"]
    groups = [x for x in walk(p5.body) if isinstance(x, l5.TileGroup)]
    assert [g.body[-1].dst.cb for g in groups] == [1, 2]
    assert groups[1].body[1] == l5.TAssign("t1", l5.TileScalar("rsub", "t0", 1.0))


def test_c2_elementwise_is_bit_identical_and_matches_numpy():
    p3 = elementwise_kernel()
    arrays = inputs(p3)
    out = run_all(lower_c(p3, "C3"), arrays)
    a, b = (arrays[n].astype(F32) for n in "AB")
    expected = ((a + b) * F32(0.5) - (F32(1.0) - a) * b).astype(BF16)
    for level in ("L3", "L4", "L5", "L6"):
        assert same_bits(out[level]["C"], expected), level


def test_c2_gemm_numerics():
    p3 = gemm_kernel()
    arrays = inputs(p3)
    out = run_all(lower_c(p3, "C3"), arrays)
    exact = arrays["A"].astype(np.float64) @ arrays["B"].astype(np.float64)
    for level in ("L3", "L4", "L5", "L6"):
        np.testing.assert_allclose(out[level]["C"], exact, rtol=1e-4, atol=1e-4, err_msg=level)
    chain = k_chain(arrays["A"], arrays["B"], (128, 128))
    assert same_bits(out["L5"]["C"], chain) and same_bits(out["L6"]["C"], chain)
    assert same_bits(out["L4"]["C"], out["L3"]["C"])


def test_c2_clear_gemm_copied_out_as_bf16():
    p3 = gemm_kernel(out="bfloat16", clear_accum=True, K=64)
    arrays = inputs(p3)
    out = run_all(lower_c(p3, "C3"), arrays)
    chain = k_chain(arrays["A"], arrays["B"], (128, 128)).astype(BF16)
    assert same_bits(out["L5"]["C"], chain) and same_bits(out["L6"]["C"], chain)
    exact = arrays["A"].astype(np.float64) @ arrays["B"].astype(np.float64)
    # L4 rounds the float32 block product to bf16 once: within 2^-8 relative, plus float32 noise
    np.testing.assert_allclose(out["L4"]["C"].astype(F32), exact, rtol=2**-8, atol=1e-3)


def test_c2_transposed_b_is_a_flag_of_the_matmul_transposed_a_a_group_of_its_own():
    p3 = gemm_kernel(out="bfloat16", clear_accum=True, K=64)          # square blocks: any flags fit
    p4 = lower_c(replace_stmt(p3, -2, l3.Gemm("A_s", "B_s", "C_f", True, True, True)), "C2")["L5"]
    first, gemm = [s for s in walk(p4.body) if isinstance(s, l5.TileGroup)][:2]
    (transpose,) = [x.op for x in first.body if isinstance(x, l5.TAssign)]
    new = cb_named(p4, "A_s_T")
    assert new.scope == "intermediate" and new.shape == cb_named(p4, "A_s").shape[::-1]
    assert transpose == l5.TileTranspose(l5.TileRef(0, l5.Var("tj"), l5.Var("ti")))
    (matmul,) = [x.op for x in walk(gemm.body) if isinstance(x, l5.TAssign) and
                 isinstance(x.op, l5.TileMatmul)]
    assert matmul.a.cb == new.index and matmul.transpose_b
    assert (matmul.b.row, matmul.b.col) == (l5.Var("ni"), l5.Var("ki"))


@pytest.mark.parametrize("kwargs, words", [
    ({"value": l3.BinOp("+", l3.Load("A_s", (v("i"), l3.BinOp("+", v("j"), c(1)))), c(1.0))},
     "index 1 is (j + 1)"),
    ({"extents": (32, 64)}, "T.Parallel over 32x64 accesses C_f[i, j], and C_f is 64x64"),
])
def test_c2_nt307_identity_indexing_only(kwargs, words):
    e = error(elementwise_kernel(**kwargs), "C2")
    assert e.code == "NT317" and words in e.message and "identity indexing" in e.message


def test_c2_nt317_a_transposed_store():
    """A read a[j, i] is a transpose (tests/test_transposed_reads.py); a store C[j, i] is not yet."""
    e = error(elementwise_kernel(dst=("j", "i")), "C2")
    assert e.code == "NT317" and "C_f[j, i] stores its buffer transposed" in e.message
    assert "swap the loop variables" in e.hint


@pytest.mark.parametrize("value, words", [
    (l3.BinOp("//", ld("A_s"), ld("B_s")), "the operator //"),
    (l3.BinOp("%", ld("A_s"), c(2.0)), "the operator %"),
    (l3.BinOp("max", ld("A_s"), l3.BinOp("<", v("bx"), c(1))), "the operator <"),
])
def test_c2_nt308_unsupported_operations(value, words):
    p3 = elementwise_kernel(value=value)
    loop = p3.body[0]
    par = replace(loop.body[-2], body=(replace(loop.body[-2].body[0], loc=Loc("k.py", 12)),))
    e = error(replace_stmt(p3, -2, par), "C2")
    assert e.code == "NT318" and words in e.message and "line 12" in e.message and e.loc.line == 12


def test_c2_a_scalar_in_an_elementwise_value_is_a_block_the_reader_generates():
    """max(A_s[i, j], bx): the part of indices (bx) becomes a float32 block the reader generates."""
    p5 = lower_c(elementwise_kernel(value=l3.BinOp("max", ld("A_s"), v("bx"))), "C2")["L5"]
    (gen,) = [s for s in walk(p5.body) if isinstance(s, l5.GenerateToCb)]
    assert gen.value == l5.Var("bx") and cb_named(p5, "C_f_gen").dtype == "float32"


def test_c2_nt304_fill_with_a_computed_value():
    p3 = gemm_kernel()
    e = error(replace_stmt(p3, 6, l3.Fill("C_f", v("bx"))), "C2")       # the T.clear
    assert e.code == "NT314" and "not supported yet" in e.message


@pytest.mark.parametrize("stmt, words", [
    (l3.Store("C_f", (c(0), c(0)), c(1.0), loc=Loc("k.py", 5)), "a store outside T.Parallel"),
    (l3.Parallel(("i", "j"), (64, 64), (l3.For("k", c(2), "serial", 0, (), loc=Loc("k.py", 5)),)),
     "a For inside T.Parallel"),
    (l3.Let("x", l3.Load("C_f", (c(0), c(0))), loc=Loc("k.py", 5)),
     "reading one element of C_f outside T.Parallel"),
])
def test_c2_nt304_element_access_outside_an_elementwise_map(stmt, words):
    e = error(replace_stmt(elementwise_kernel(), -2, stmt), "C2")
    assert e.code == "NT314" and words in e.message and e.loc.line == 5


# ----- C3 -----
def roles(p6):
    return {cb.name: (cb.producer, cb.consumer, cb.dtype, cb.scope) for cb in p6.cbs}


def effects(p6):
    return [" ".join(map(str, g.effects)) for g in walk(p6.body) if isinstance(g, l6.TileGroup)]


def test_c3_gemm_dataflow():
    p6 = lower_c(gemm_kernel())["L6"]
    assert roles(p6) == {"A_s": ("reader", "compute", "bfloat16", "shared"),
                         "B_s": ("reader", "compute", "bfloat16", "shared"),
                         "C_f": ("compute", "compute", "float32", "fragment"),
                         "C_f_out": ("compute", "writer", "float32", "intermediate")}
    assert effects(p6) == ["give cb2", "take cb0 take cb1 update cb2", "take cb2 give cb3"]
    out = cb_named(p6, "C_f_out")
    assert out.plan == cb_plan((64, 64), "float32", 2, out.plan.why)
    body = p6.body[0].body
    assert isinstance(body[-2], l6.TileGroup) and body[-1] == l6.WriteFromCb(3, body[-1].dst)


def test_c3_elementwise_dataflow_casts_in_compute():
    p6 = lower_c(elementwise_kernel())["L6"]
    assert roles(p6)["C_f"] == ("compute", "compute", "float32", "fragment")
    assert roles(p6)["C_f_out"] == ("compute", "writer", "bfloat16", "intermediate")
    assert effects(p6) == ["take cb0 take cb1 give cb2", "take cb2 give cb3"]
    assert cb_named(p6, "C_f_out").plan.format == "Float16_b" and cb_named(p6, "C_f_out").plan.depth == 2


def test_c3_reader_staging_peek_and_take():
    p3 = two_uses_kernel()
    levels = lower_c(p3)
    p6 = levels["L6"]
    assert roles(p6)["X_s_in"] == ("reader", "compute", "float32", "intermediate")
    assert roles(p6)["X_s"] == ("compute", "compute", "bfloat16", "shared")
    assert effects(p6) == ["give cb0 take cb3", "peek cb0 give cb1", "take cb0 give cb2"]
    read = next(x for x in walk(p6.body) if isinstance(x, l6.ReadToCb))
    assert read.cb == 3
    arrays = inputs(p3)
    out = run_all(levels, arrays)
    xs = arrays["X"].astype(BF16).astype(F32)                       # rounded once, on the way in
    for level in out:
        assert same_bits(out[level]["Y"], xs * F32(2)) and same_bits(out[level]["Z"], F32(1) - xs), level


def test_c3_holds_a_block_read_in_a_loop_it_was_not_produced_in():
    """X_s is read by every step of the loop over r and written by none: the step peeks it, and a
    release after the loop frees it (the loop's line), with the same numbers as L3."""
    body = (alloc("X_s", (32, 32), "float32"), alloc("Y_f", (32, 32), "float32", "fragment"),
            l3.Fill("Y_f", c(0.0)), l3.Copy(region("X", (c(0), c(0)), (32, 32)), whole("X_s", (32, 32))),
            l3.For("r", c(3), "serial", 0, (l3.Parallel(("i", "j"), (32, 32), (
                l3.Store("Y_f", (v("i"), v("j")), l3.BinOp("+", ld("Y_f"), ld("X_s"))),)),),
                   loc=Loc("k.py", 9)),
            l3.Copy(whole("Y_f", (32, 32)), region("Y", (c(0), c(0)), (32, 32))))
    program = kernel("loop", [tensor(n, (32, 32), "float32") for n in "XY"], (1, 1), body)
    levels = lower_c(program)
    persistent = levels["L6"].body[0]
    loop = next(i for i, s in enumerate(persistent.body) if isinstance(s, l6.For))
    group = persistent.body[loop].body[0]
    assert l6.CbEffect(0, "peek") in group.effects
    assert persistent.body[loop + 1] == l6.Release(0) and persistent.body[loop + 1].loc.line == 9
    arrays = inputs(program)
    out = run_all(levels, arrays)
    assert same_bits(out["L6"]["Y"], out["L3"]["Y"])
    assert np.allclose(out["L6"]["Y"], 3 * arrays["X"])


def test_c2b_stages_a_block_read_into_then_updated_in_place():
    from nanott.languages.l3_interp import demo_kernel
    p6 = lower_c(demo_kernel())["L6"]                        # S is read into, then updated in place
    assert roles(p6)["S_in"][:2] == ("reader", "compute") and roles(p6)["S"][0] == "compute"


def test_c3_nt320_a_buffer_nobody_uses():
    p3 = elementwise_kernel()
    e = error(replace_stmt(p3, 3, alloc("unused", (32, 32), "float32"), p3.body[0].body[3]))
    assert e.code == "NT320" and "unused is written by nobody and read by nobody" in e.message


def test_c3_rechecks_the_cb_count():
    target = replace(DEFAULT_TARGET, num_cbs=3)               # A_s, B_s, C_f fit; C_f_out does not
    e = error(elementwise_kernel(), target=target)
    assert e.code == "NT202" and "4 circular buffers" in e.message


# ----- the examples, through the real pipeline -----
def test_c3_on_examples_gemm():
    from nanott.loader import load_kernel
    from nanott.pipeline import lower
    root = Path(__file__).resolve().parent.parent
    kernel = load_kernel(root / "examples" / "gemm.py").prim_func
    p6 = lower(kernel, stop_after="C3")
    assert [(cb.producer, cb.consumer) for cb in p6.cbs] == [
        ("reader", "compute"), ("reader", "compute"), ("compute", "compute"), ("compute", "writer")]
    assert effects(p6) == ["give cb2", "take cb0 take cb1 update cb2", "take cb2 give cb3"]
    assert render(lower(kernel, stop_after="C3")) == render(p6)          # the same bytes every time


def test_interpreter_demos_run():
    from nanott.languages import l4_interp, l5_interp, l6_interp
    levels = ((l4_interp, l4, InterpL4), (l5_interp, l5, InterpL5), (l6_interp, l6, InterpL6))
    for module, lang, interp in levels:
        k = module.demo_kernel()
        lang.LANG.check(k)
        x = np.random.default_rng(1).uniform(-1, 1, (64, 64)).astype(F32)
        arrays = {"X": x, "Y": np.full((64, 64), np.nan, F32)}
        interp().run(k, arrays)
        assert same_bits(arrays["Y"], x * F32(2) + F32(1)), module.__name__


def test_c1_names_a_copy_start_read_from_dram():
    """A start of a write into a vector computed from a DRAM element (through a let) is data: NT112
    says so (a block of rows from there is moved row by row: tests/test_row_windows.py); a start
    that is data times 32 stays a tile start."""
    from nanott.loader import load_kernel
    from nanott.pipeline import lower
    path = Path(__file__).resolve().parent / "kernels" / "bad_copy_at_data_row.py"
    with pytest.raises(NanottError) as info:
        lower(load_kernel(path).prim_func, stop_after="C1")
    assert info.value.code == "NT112" and "m_start of Y is a value read from DRAM" in info.value.message
    gather = load_kernel(Path(__file__).resolve().parent.parent / "examples" / "gather_blocks.py")
    assert any(isinstance(x, l4.Element) for x in walk(lower(gather.prim_func, stop_after="C1")))
