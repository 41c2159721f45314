"""C2b add-intermediate-cbs: L5 -> L5

Changes:   a CB read by both compute and the writer, or written out to a tensor of another
           dtype, is copied by a compute group into a new CB in the tensor's dtype (scope
           "intermediate", named <cb>_out), which the writer reads instead; a read_to_cb into a CB
           of another dtype than its tensor's, or into a CB compute also writes (a fragment loaded
           from DRAM and updated in place: `A_local[i, j] *= s[i]`), lands in a new staging CB in
           the tensor's dtype (<cb>_in), which a compute group copies into the CB. Each new CB is
           double-buffered.
Preserves: every value and every rounding: a cast moves from the transfer into a compute copy
           and rounds the same.
Why:       Metalium allows one producer and one consumer thread per CB, and the NoC moves bytes: only compute
           converts data formats. C3 then finds one producer and one consumer on every CB.
"""
from __future__ import annotations

from typing import Any

from nanott.ir import replace
from nanott.languages import l5
from nanott.passes._cb_plan import cb_plan
from nanott.passes._cb_uses import roles
from nanott.passes._names import NameSupply, names_in
from nanott.passes._rewriter import Rewriter
from nanott.passes._tile_groups import copy_group, tile_grid
from nanott.target import Target

DRAM_DEPTH = 2            # a CB that crosses to or from DRAM is double-buffered


def add_intermediate_cbs(program: l5.Kernel, target: Target) -> l5.Kernel:
    return AddIntermediateCbs(program).visit(program)


class AddIntermediateCbs(Rewriter, src=l5.LANG, dst=l5.LANG):
    """The CBs and compute copies that one consumer per CB and NoC-only-moves-bytes require next
    to the reader and the writer."""

    def __init__(self, program: l5.Kernel):
        self.cbs = list(program.cbs)
        self.dtypes = {p.name: p.dtype for p in program.params}
        self.producers, self.consumers = roles(program)
        self.names = NameSupply(names_in(program, own_scope=(l5.TileGroup,)))
        self.tile_vars = (self.names.fresh("ti"), self.names.fresh("tj"))

    def visit_Kernel(self, k: l5.Kernel) -> l5.Kernel:
        body = self.visit(k.body)
        return replace(k, cbs=tuple(self.cbs), body=body)

    def visit_WriteFromCb(self, w: l5.WriteFromCb) -> Any:
        dtype = self.dtypes[w.dst.tensor]
        if self.consumers[w.cb] == ["writer"] and self.cbs[w.cb].dtype == dtype:
            return w
        new = self.staging(w.cb, "out", dtype, "staged for the writer", w.loc)
        grid = tile_grid(self.cbs[w.cb].shape)
        return [copy_group(w.cb, new, grid, self.tile_vars, w.loc), replace(w, cb=new)]

    def visit_ReadToCb(self, r: l5.ReadToCb) -> Any:
        dtype = self.dtypes[r.src.tensor]
        if self.cbs[r.cb].dtype == dtype and self.producers[r.cb] == ["reader"]:
            return r
        new = self.staging(r.cb, "in", dtype, "staged from the reader", r.loc)
        grid = tile_grid(self.cbs[r.cb].shape)
        return [replace(r, cb=new), copy_group(new, r.cb, grid, self.tile_vars, r.loc)]

    def staging(self, of: int, suffix: str, dtype: str, why: str, loc) -> int:
        cb = self.cbs[of]
        name = self.names.fresh(f"{cb.name}_{suffix}")
        plan = cb_plan(cb.shape, dtype, DRAM_DEPTH, why)
        self.cbs.append(l5.CircularBuffer(len(self.cbs), name, cb.shape, dtype, "intermediate", plan,
                                          loc=loc))
        return len(self.cbs) - 1
