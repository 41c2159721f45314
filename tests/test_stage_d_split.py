"""Stages D1 split-device-kernel, D2 bind-tensor-accessors, D3 lower-cb-protocol on L6 programs
built by hand: a GEMM with a pipelined K loop and an accumulator CB it updates, and an
elementwise kernel. The programs are shared with test_simulator.py.
"""
from __future__ import annotations

import pytest

from nanott.ir import Loc, walk
from nanott.languages import l6, l7, l8
from nanott.passes.d1_split_device_kernel import split_device_kernel
from nanott.passes.d2_bind_tensor_accessors import bind_tensor_accessors
from nanott.passes.d3_lower_cb_protocol import lower_cb_protocol
from nanott.printing import render
from nanott.target import DEFAULT_TARGET, FORMATS, TILE

pytestmark = [pytest.mark.D1, pytest.mark.D2, pytest.mark.D3]


def c(n):
    return l6.Const(n, "int32")


def v(name):
    return l6.Var(name)


def binop(op, a, b):
    return l6.BinOp(op, a, b)


def tensor(name, shape, dtype):
    fmt, page = FORMATS[dtype]
    tiles = (shape[0] // TILE, shape[1] // TILE)
    layout = l6.TileLayout("dram", "interleaved", fmt, shape, tiles, page)
    return l6.Tensor(name, shape, dtype, layout, l6.Accessor(page, 12, True, 2))


def cb(index, name, shape, dtype, depth, producer, consumer, scope="shared"):
    fmt, page = FORMATS[dtype]
    pages = (shape[0] // TILE) * (shape[1] // TILE)
    return l6.CircularBuffer(index, name, shape, dtype, scope, l6.CbPlan(fmt, page, pages, depth, "test"),
                             producer, consumer)


def work(blocks, cores):
    """`blocks` dealt to `cores` cores as B1 does: contiguous runs, the remainder first."""
    out, start = [], 0
    for i in range(cores):
        n = blocks // cores + (1 if i < blocks % cores else 0)
        out.append(l6.CoreWork((i % 8, i // 8), start, n))
        start += n
    return l6.WorkSplit((8, 8), blocks, tuple(out))


def persistent(gx, body):
    """B2's loop: for blk in 0..count: let id = start + blk; let bx = id % gx; let by = id // gx."""
    return l6.For("blk", l6.CoreArg("count"), "persistent", 0, (
        l6.Let("block_id", binop("+", l6.CoreArg("start"), v("blk"))),
        l6.Let("bx", binop("%", v("block_id"), c(gx))),
        l6.Let("by", binop("//", v("block_id"), c(gx))),
        l6.Let("unused", binop("*", v("block_id"), c(3))),
        *body))


def gemm_l6(M=256, N=256, K=256, bm=64, bn=64, bk=32, dtype="bfloat16", acc="float32", cores=64,
            depth=2):
    """C = A @ B: cb0 = A block, cb1 = B block (pipelined, `depth` blocks), cb2 the accumulator
    (filled with zero, updated once per K step), cb3 the output block the writer takes."""
    ti, tj, tk = bm // TILE, bn // TILE, bk // TILE
    ij = (v("i"), v("j"))
    zero = l6.TileGroup(("i", "j"), (ti, tj), (
        l6.TAssign("t0", l6.TileFill(0.0)), l6.TStore(l6.TileRef(2, *ij), "t0")),
        (l6.CbEffect(2, "give"),), loc=Loc("gemm.py", 12))
    step = l6.TileGroup(("i", "j"), (ti, tj), (
        l6.TAssign("t0", l6.TileLoad(l6.TileRef(2, *ij))),
        l6.TFor("k", tk, (l6.TAssign("t0", l6.TileMatmul(l6.TileRef(0, v("i"), v("k")),
                                                         l6.TileRef(1, v("k"), v("j")), "t0")),)),
        l6.TStore(l6.TileRef(2, *ij), "t0")),
        (l6.CbEffect(0, "take"), l6.CbEffect(1, "take"), l6.CbEffect(2, "update")), loc=Loc("gemm.py", 16))
    out = l6.TileGroup(("i", "j"), (ti, tj), (
        l6.TAssign("t0", l6.TileLoad(l6.TileRef(2, *ij))), l6.TStore(l6.TileRef(3, *ij), "t0")),
        (l6.CbEffect(2, "take"), l6.CbEffect(3, "give")), loc=Loc("gemm.py", 18))
    kloop = l6.For("kt", c(K // bk), "pipelined", depth, (
        l6.ReadToCb(l6.TileSlice("A", binop("*", v("by"), c(ti)), binop("*", v("kt"), c(tk)), ti, tk), 0,
                    loc=Loc("gemm.py", 14)),
        l6.ReadToCb(l6.TileSlice("B", binop("*", v("kt"), c(tk)), binop("*", v("bx"), c(tj)), tk, tj), 1,
                    loc=Loc("gemm.py", 15)),
        step))
    body = (persistent(N // bn, (zero, kloop, out, l6.WriteFromCb(3, l6.TileSlice(
        "C", binop("*", v("by"), c(ti)), binop("*", v("bx"), c(tj)), ti, tj), loc=Loc("gemm.py", 19)))),)
    cbs = (cb(0, "A_s", (bm, bk), dtype, depth, "reader", "compute"),
           cb(1, "B_s", (bk, bn), dtype, depth, "reader", "compute"),
           cb(2, "C_acc", (bm, bn), acc, 2, "compute", "compute", "fragment"),
           cb(3, "C_out", (bm, bn), acc, 2, "compute", "writer"))
    params = (tensor("A", (M, K), dtype), tensor("B", (K, N), dtype), tensor("C", (M, N), acc))
    blocks = (M // bm) * (N // bn)
    return l6.Kernel("gemm", params, work(blocks, min(blocks, cores)), cbs, body, ())


def eltwise_l6(M=128, N=256, b=64, dtype="bfloat16", cores=64):
    """Y = (X + Z) * 2 - 0.5, a 64x64 block at a time."""
    t = b // TILE
    ij = (v("i"), v("j"))
    at = (binop("*", v("by"), c(t)), binop("*", v("bx"), c(t)))
    group = l6.TileGroup(("i", "j"), (t, t), (
        l6.TAssign("t0", l6.TileBinary("add", l6.TileRef(0, *ij), l6.TileRef(1, *ij))),
        l6.TAssign("t1", l6.TileScalar("mul", "t0", 2.0)),
        l6.TAssign("t1", l6.TileScalar("sub", "t1", 0.5)),
        l6.TStore(l6.TileRef(2, *ij), "t1")),
        (l6.CbEffect(0, "take"), l6.CbEffect(1, "take"), l6.CbEffect(2, "give")), loc=Loc("eltwise.py", 12))
    body = (persistent(N // b, (l6.ReadToCb(l6.TileSlice("X", *at, t, t), 0, loc=Loc("eltwise.py", 10)),
                                l6.ReadToCb(l6.TileSlice("Z", *at, t, t), 1, loc=Loc("eltwise.py", 11)),
                                group,
                                l6.WriteFromCb(2, l6.TileSlice("Y", *at, t, t), loc=Loc("eltwise.py", 13)))),)
    cbs = (cb(0, "X_s", (b, b), dtype, 2, "reader", "compute"),
           cb(1, "Z_s", (b, b), dtype, 2, "reader", "compute"),
           cb(2, "Y_s", (b, b), dtype, 2, "compute", "writer"))
    params = (tensor("X", (M, N), dtype), tensor("Z", (M, N), dtype), tensor("Y", (M, N), dtype))
    blocks = (M // b) * (N // b)
    return l6.Kernel("eltwise", params, work(blocks, min(blocks, cores)), cbs, body, ())


def lower_d(k: l6.Kernel, stop_after: str = "D3"):
    """D1, D2, D3 in order, each output checked against its language."""
    l6.LANG.check(k)
    p = split_device_kernel(k, DEFAULT_TARGET)
    l7.LANG.check(p, after="D1 split-device-kernel")
    if stop_after == "D1":
        return p
    p = bind_tensor_accessors(p, DEFAULT_TARGET)
    l7.LANG.check(p, after="D2 bind-tensor-accessors")
    if stop_after == "D2":
        return p
    p = lower_cb_protocol(p, DEFAULT_TARGET)
    l8.LANG.check(p, after="D3 lower-cb-protocol")
    return p


def kinds(body) -> list[str]:
    return [type(x).__name__ for x in walk(body) if hasattr(x, "head")]


# ----- D1 -----
def test_d1_each_kernel_keeps_its_role_loops_and_lets():
    p = lower_d(gemm_l6(), "D1")
    reader, compute, writer = p.kernels
    assert [k.role for k in p.kernels] == ["reader", "compute", "writer"]
    assert kinds(reader.body) == ["For", "Let", "Let", "Let", "For", "ReadToCb", "ReadToCb"]
    assert kinds(compute.body) == ["For", "TileGroup", "TAssign", "TStore", "For", "TileGroup", "TAssign",
                                   "TFor", "TAssign", "TStore", "TileGroup", "TAssign", "TStore"]
    assert kinds(writer.body) == ["For", "Let", "Let", "Let", "WriteFromCb"]
    # the compute kernel addresses no tensor: it needs no block index, so no let survives
    assert all(k.bindings == () for k in p.kernels)
    kloop = reader.body[0].body[3]
    assert (kloop.var, kloop.kind, kloop.num_stages) == ("kt", "pipelined", 2)
    assert p.cbs == gemm_l6().cbs and p.work == gemm_l6().work


def test_d1_keeps_lets_used_only_through_other_lets_and_drops_the_rest():
    p = lower_d(eltwise_l6(), "D1")
    lets = [x.var for x in walk(p.kernel("reader").body) if isinstance(x, l7.Let)]
    assert lets == ["block_id", "bx", "by"]          # block_id only feeds bx, by; `unused` feeds nothing
    assert not any(isinstance(x, l7.Let) for x in walk(p.kernel("compute").body))


def test_d1_every_role_statement_is_kept_exactly_once():
    k = gemm_l6()
    p = lower_d(k, "D1")
    for t in (l6.ReadToCb, l6.TileGroup, l6.WriteFromCb):
        before = [x for x in walk(k.body) if isinstance(x, t)]
        after = [x for kern in p.kernels for x in walk(kern.body) if isinstance(x, t)]
        assert before == after


# ----- D2 -----
def test_d2_binds_tensors_in_order_of_first_use_one_word_each():
    p = lower_d(gemm_l6(), "D2")
    assert p.kernel("reader").bindings == (l7.Binding("A", 0, "A_addr"), l7.Binding("B", 1, "B_addr"))
    assert p.kernel("compute").bindings == ()
    assert p.kernel("writer").bindings == (l7.Binding("C", 0, "C_addr"),)
    assert "binds A (accessor args at cta 0, base address in A_addr)" in render(p)


def test_d2_rejects_a_sharded_tensor():
    k = gemm_l6()
    sharded = l6.Tensor("A", k.params[0].shape, k.params[0].dtype, k.params[0].layout,
                        l6.Accessor(2048, 12, True, 3))
    from nanott.diagnostics import NanottError
    with pytest.raises(NanottError, match="NT321.*A is not interleaved"):
        lower_d(l6.Kernel(k.name, (sharded, *k.params[1:]), k.work, k.cbs, k.body, k.attrs), "D2")


# ----- D3 -----
def test_d3_reader_reserves_reads_every_tile_barriers_and_pushes():
    p = lower_d(gemm_l6())
    kloop = p.kernel("reader").body[0].body[3]
    assert kinds(kloop.body) == ["CbReserve", "For", "NocReadPage", "NocReadBarrier", "CbPush",
                                 "CbReserve", "For", "NocReadPage", "NocReadBarrier", "CbPush"]
    reserve, loop, _, push = kloop.body[:4]
    assert (reserve, push) == (l8.CbReserve(0, 2), l8.CbPush(0, 2))
    # A's block is 2x1 tiles: one loop over its rows; page (by*2 + i) * 8 + kt, slot i
    assert (loop.var, loop.extent) == ("i0", c(2))
    assert str(loop.body[0].page) == "((((by * 2) + i0) * 8) + (kt * 1))"
    assert loop.body[0].slot == v("i0")
    # B's block is 1x2 tiles: one loop over its columns, slot j
    b_loop = kloop.body[5]
    assert (b_loop.var, str(b_loop.body[0].page), b_loop.body[0].slot) == (
        "j0", "(((kt * 1) * 8) + ((bx * 2) + j0))", v("j0"))


def test_d3_two_dimensional_slices_get_two_loops_and_row_major_slots():
    p = lower_d(eltwise_l6())
    body = p.kernel("writer").body[0].body
    assert kinds(body[3:]) == ["CbWait", "For", "For", "NocWritePage", "NocWriteBarrier", "CbPop"]
    outer = body[4]
    inner = outer.body[0]
    w = inner.body[0]
    assert (outer.var, inner.var) == ("i2", "j2")          # fresh names, numbered per kind
    assert str(w.slot) == "((i2 * 2) + j2)"
    assert str(w.page) == "((((by * 2) + i2) * 8) + ((bx * 2) + j2))"
    assert (body[3], body[-1]) == (l8.CbWait(2, 4), l8.CbPop(2, 4))


def test_d3_wraps_each_group_in_the_calls_its_effects_name():
    p = lower_d(gemm_l6())
    compute = p.kernel("compute").body[0].body
    assert kinds(compute[:1]) == ["CbReserve"] and compute[0] == l8.CbReserve(2, 4)
    assert compute[2] == l8.CbPush(2, 4)
    step = compute[3].body
    assert step[:4] == (l8.CbWait(0, 2), l8.CbWait(1, 2), l8.CbWait(2, 4), l8.CbReserve(2, 4))
    assert isinstance(step[4], l8.TileGroup) and step[4].body == gemm_l6().body[0].body[5].body[2].body
    assert step[5:] == (l8.CbPop(0, 2), l8.CbPop(1, 2), l8.CbPop(2, 4), l8.CbPush(2, 4))
    assert compute[4:] == (l8.CbWait(2, 4), l8.CbReserve(3, 4), compute[6], l8.CbPop(2, 4),
                           l8.CbPush(3, 4))


def test_d3_single_tile_slices_need_no_loop():
    p = lower_d(eltwise_l6(M=64, N=64, b=32))
    reader = p.kernel("reader").body[0].body
    assert kinds(reader[3:]) == ["CbReserve", "NocReadPage", "NocReadBarrier", "CbPush"] * 2
    assert str(reader[4].page) == "(((by * 1) * 2) + (bx * 1))" and reader[4].slot == c(0)


def test_d3_printed_ir_reads_as_metalium():
    text = render(lower_d(eltwise_l6()))
    for line in ("cb_reserve_back cb0, 4", "noc_async_read_page X.page[", "noc_async_read_barrier",
                 "cb_push_back cb0, 4", "cb_wait_front cb2, 4", "noc_async_write_page cb2.front[",
                 "noc_async_write_barrier", "cb_pop_front cb2, 4"):
        assert line in text
