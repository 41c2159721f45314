"""D3 lower-cb-protocol: L7 -> L8

Changes:   the protocol-less block transfers and dataflow effects become the calls Metalium makes.
           Reader: `read_to_cb slice -> cb` becomes cb_reserve_back(cb, n); one
           noc_async_read_page per tile of the slice, page (row + i) * tensor_tile_cols + (col + j)
           into slot i * cols + j of the reserved region (one loop when the slice is one tile row
           or column, none for one tile); noc_async_read_barrier; cb_push_back(cb, n).
           Writer, symmetrically: cb_wait_front, noc_async_write_page per tile, the write barrier,
           cb_pop_front. A slice with a line (one row of its tiles: a vector in one row of a
           tensor) moves that row of each page and row 0 of each slot (noc_async_read_row,
           noc_async_write_row). A read slice with a start row (a block from any row: the
           grouped cast's `X[row_offset + bx * 32, ...]`) moves its rows one at a time: row i of
           the block is row start + i of the matrix, read into row i % 32 of slot
           (i // 32) * cols + j, under `when` the row lies inside the tensor; where the block runs
           past an end, the reader first writes zeros into it (a generate_to_cb): L0 reads
           zeros there. A gathered slice (a RowGather: a convolution's im2col) is such a loop too,
           row i read from the row the gather names, under `when` its condition holds, after zeros
           written into the whole block. A scattered slice (a RowGather written) is the same loop
           for the writer: row i of the waited block written from its row i % 32 of slot
           (i // 32) * cols + j (noc_async_write_row), under `when` its condition holds; nothing
           where it fails. generate_to_cb: cb_reserve_back, the values written into the reserved
           block, cb_push_back (no NoC: nothing is read). Compute: a tile group is wrapped in cb_wait_front for each CB it peeks,
           takes or updates, cb_reserve_back for each CB it gives or updates, and after it
           cb_pop_front (take, update) and cb_push_back (give, update). n is always the CB's
           block size in pages. A release (of a block a loop peeked, or a print read last) is
           its cb_pop_front, after a cb_wait_front for an unread one (a block a loop overwrites);
           a print of a CB waits for its block first (waiting again for pages
           already visible returns at once, so the group reading the block next is unchanged). The loop
           variables are fresh names (i0, j0, ...). A let reading an element of a DRAM tensor
           (an Element) gets the protocol of its scratch CB, whose both ends are the reader:
           cb_reserve_back, the page read, the barrier, cb_push_back, cb_wait_front; the let reads
           the element from the front page (a FrontElement), then cb_pop_front (the writer's own
           scratch CB, D1's twin, the same way). When D1 made the
           scratch CB reader -> compute (compute needs the value), the reader's let reads the
           element from the page it reserved (a BackElement) after the barrier, then pushes it;
           compute's same let is cb_wait_front, the FrontElement, cb_pop_front.
Preserves: the tile programs (a TileRef now reads the waited front of its CB at slot
           row * block_cols + col, a TStore writes the reserved back at the same slot), loops,
           lets, CBs, bindings, and every value computed.
Why:       on the device, a CB is a ring of pages with two counters; the producer must reserve
           before it writes and push after, the consumer wait before it reads and pop after, and a
           NoC read lands in L1 only by its barrier. Each call is a node here so that a learner
           sees the protocol and the L8 simulator can check it.
"""
from __future__ import annotations

from nanott.ir import field_names, replace, walk
from nanott.languages import l7, l8
from nanott.passes._d3_row_gather import gathered
from nanott.passes._names import NameSupply, names_in
from nanott.passes._rewriter import Rewriter
from nanott.target import TILE, Target

CONSUMES, PRODUCES = ("peek", "take", "update"), ("give", "update")
FREES = ("take", "update")


def lower_cb_protocol(program: l7.Program, target: Target) -> l8.Program:
    return LowerCbProtocol(program).visit(program)


class LowerCbProtocol(Rewriter, src=l7.LANG, dst=l8.LANG):
    def __init__(self, program: l7.Program):
        self.cbs = {cb.index: cb for cb in program.cbs}
        self.tensors = {t.name: t for t in program.params}
        self.names = NameSupply(names_in(program))

    def visit_ReadToCb(self, r: l7.ReadToCb) -> list:
        n, loc = self.pages(r.cb), r.loc
        if r.src.gather is not None:
            return [l8.CbReserve(r.cb, n, loc=loc), *gathered(self, r.src, r.cb), l8.NocReadBarrier(loc=loc),
                    l8.CbPush(r.cb, n, loc=loc)]
        if r.src.start_row is not None:
            return [l8.CbReserve(r.cb, n, loc=loc), *self.window(r), l8.NocReadBarrier(loc=loc), l8.CbPush(r.cb, n, loc=loc)]
        line = self.visit(r.src.line) if r.src.line is not None else None
        noc = lambda page, slot: l8.NocReadPage(r.src.tensor, page, r.cb, slot, line, loc=loc)  # noqa: E731
        return [l8.CbReserve(r.cb, n, loc=loc), *self.tiles(r.src, r.cb, noc),
                l8.NocReadBarrier(loc=loc), l8.CbPush(r.cb, n, loc=loc)]

    def window(self, r: l7.ReadToCb) -> list:
        """A block whose first row is any row (a slice's start row): row i of the block is row
        start + i of the matrix, moved alone into row i % 32 of its tile (two 16-element runs); a
        row past either end of the tensor is not read, and where the block runs past an end the
        reader first writes zeros into the whole block (L0 reads zeros there)."""
        s, loc, i, j = r.src, r.loc, self.names.numbered("i"), self.names.numbered("j")
        tile_rows, tile_cols = self.tensors[s.tensor].layout.tiles
        start, size = self.visit(s.start_row), const(TILE)
        row = add(start, var(i))
        page = add(mul(l8.BinOp("//", row, size), const(tile_cols)), add(s.col, var(j)))
        slot = add(mul(l8.BinOp("//", var(i), size), const(s.cols)), var(j))
        inside = l8.BinOp("and", l8.BinOp(">=", row, const(0)), l8.BinOp("<", row, const(tile_rows * TILE)))
        read = l8.NocReadPage(s.tensor, page, r.cb, slot, l8.BinOp("%", row, size), l8.BinOp("%", var(i), size), loc=loc)
        rows = l8.For(i, const(s.rows * TILE), "serial", 0, (l8.For(j, const(s.cols), "serial", 0, (
            l8.When(inside, (read,), loc=loc),), loc=loc),), loc=loc)
        past = l8.BinOp("or", l8.BinOp("<", start, const(0)),
                        l8.BinOp(">", add(start, const(s.rows * TILE)), const(tile_rows * TILE)))
        a, b = self.names.fresh("r"), self.names.fresh("c")
        zeros = l8.GenerateToCb(r.cb, (a, b), (s.rows * TILE, s.cols * TILE), l8.Const(0.0, "float32"), loc=loc)
        return [l8.When(past, (zeros,), loc=loc), rows]

    def visit_GenerateToCb(self, g: l7.GenerateToCb) -> list:
        n = self.pages(g.cb)
        return [l8.CbReserve(g.cb, n, loc=g.loc), self.generic_visit(g), l8.CbPush(g.cb, n, loc=g.loc)]

    def visit_WriteFromCb(self, w: l7.WriteFromCb) -> list:
        n, loc = self.pages(w.cb), w.loc
        if w.dst.gather is not None:
            return [l8.CbWait(w.cb, n, loc=loc), *gathered(self, w.dst, w.cb, write=True),
                    l8.NocWriteBarrier(loc=loc), l8.CbPop(w.cb, n, loc=loc)]
        line = self.visit(w.dst.line) if w.dst.line is not None else None
        noc = lambda page, slot: l8.NocWritePage(w.cb, slot, w.dst.tensor, page, line, loc=loc)  # noqa: E731
        return [l8.CbWait(w.cb, n, loc=loc), *self.tiles(w.dst, w.cb, noc),
                l8.NocWriteBarrier(loc=loc), l8.CbPop(w.cb, n, loc=loc)]

    def visit_TileGroup(self, g: l7.TileGroup) -> list:
        def calls(node, modes):
            return [node(e.cb, self.pages(e.cb), loc=g.loc) for e in g.effects if e.mode in modes]
        group = l8.TileGroup(g.vars, g.extents, self.visit(g.body), loc=g.loc)
        return (calls(l8.CbWait, CONSUMES) + calls(l8.CbReserve, PRODUCES) + [group]
                + calls(l8.CbPop, FREES) + calls(l8.CbPush, PRODUCES))

    def visit_PrintCb(self, p: l7.PrintCb) -> list:
        return [l8.CbWait(p.cb, self.pages(p.cb), loc=p.loc), p]

    def visit_Release(self, r: l7.Release) -> list:
        """A release's cb_pop_front; an unread block (a loop's overwritten one) is waited for first."""
        pop = l8.CbPop(r.cb, self.pages(r.cb), loc=r.loc)
        return [l8.CbWait(r.cb, self.pages(r.cb), loc=r.loc), pop] if r.unread else [pop]

    def visit_DeviceKernel(self, k: l7.DeviceKernel) -> l8.DeviceKernel:
        self.role = k.role
        return self.generic_visit(k)

    def visit_Let(self, s: l7.Let) -> list | l8.Let:
        """A let reading DRAM elements: per element, its tile into the scratch CB (reserve, read,
        barrier). Kept by the reader (reader -> reader): push, wait, the let reads the front page,
        pop. Sent to compute (reader -> compute): the reader's let reads the reserved page, then
        pushes it; compute's waits, reads the front page, pops."""
        elements = list(dict.fromkeys(x for x in walk(s.value) if isinstance(x, l7.Element)))
        if not elements:
            return self.generic_visit(s)
        before, after, reads, loc = [], [], {}, s.loc
        for e in elements:
            sent = self.cbs[e.cb].consumer == "compute"
            if self.role != "compute":             # the reader's, or the writer's own (D1)
                before += [l8.CbReserve(e.cb, 1, loc=loc),
                           *self.tiles(e.src, e.cb, lambda page, slot: l8.NocReadPage(e.src.tensor, page, e.cb, slot,
                                                                                      loc=loc)),
                           l8.NocReadBarrier(loc=loc)]
                before += [] if sent else [l8.CbPush(e.cb, 1, loc=loc), l8.CbWait(e.cb, 1, loc=loc)]
            else:
                before.append(l8.CbWait(e.cb, 1, loc=loc))
            back = sent and self.role == "reader"
            after.append(l8.CbPush(e.cb, 1, loc=loc) if back else l8.CbPop(e.cb, 1, loc=loc))
            reads[e] = (l8.BackElement if back else l8.FrontElement)(e.cb, e.row, e.col, loc=e.loc)
        return [*before, l8.Let(s.var, substitute(s.value, reads), s.update, loc=loc), *after]

    def visit_Element(self, e: l7.Element):
        raise AssertionError("an Element is lowered by its Let")

    def visit_TileSlice(self, s: l7.TileSlice):
        raise AssertionError("a TileSlice is lowered by its ReadToCb or WriteFromCb")

    def visit_RowGather(self, g: l7.RowGather):
        raise AssertionError("a RowGather is lowered by its ReadToCb or WriteFromCb")

    def visit_CbEffect(self, e: l7.CbEffect):
        raise AssertionError("a CbEffect is lowered by its TileGroup")

    def pages(self, cb: int) -> int:
        return self.cbs[cb].plan.block_pages

    def tiles(self, s: l7.TileSlice, cb: int, transfer) -> list:
        """One transfer per tile of the slice: page id in the tensor, slot in the CB's block."""
        assert s.rows * s.cols == self.pages(cb), f"{s} is not one block of cb{cb}"
        tile_cols = self.tensors[s.tensor].layout.tiles[-1]
        i = self.names.numbered("i") if s.rows > 1 else None
        j = self.names.numbered("j") if s.cols > 1 else None
        row = add(s.row, var(i))
        col = add(s.col, var(j))
        page = add(mul(row, const(tile_cols)), col)
        slot = add(mul(var(i), const(s.cols)), var(j))
        out = [transfer(page, slot)]
        for v, n in ((j, s.cols), (i, s.rows)):
            if v is not None:
                out = [l8.For(v, const(n), "serial", 0, tuple(out), loc=s.loc)]
        return out


def substitute(e, values: dict):
    """e with each node that is a key of `values` replaced by its value."""
    if e in values:
        return values[e]
    names = field_names(type(e))
    return replace(e, **{f: substitute(getattr(e, f), values) for f in names}) if names else e


def const(n: int) -> l8.Const:
    return l8.Const(n, "int32")


def var(name: str | None):
    return l8.Var(name) if name is not None else const(0)


def is_const(e, value=None) -> bool:
    return isinstance(e, l8.Const) and (value is None or e.value == value)


def add(a, b):
    if is_const(a) and is_const(b):
        return const(a.value + b.value)
    if is_const(b, 0):
        return a
    return b if is_const(a, 0) else l8.BinOp("+", a, b)


def mul(a, b):
    if is_const(a) and is_const(b):
        return const(a.value * b.value)
    if is_const(a, 0) or is_const(b, 0):
        return const(0)
    if is_const(b, 1):
        return a
    return b if is_const(a, 1) else l8.BinOp("*", a, b)
