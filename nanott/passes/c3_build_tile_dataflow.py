"""C3 build-tile-dataflow: L5 -> L6

Changes:   the dataflow becomes explicit, found by analysis of who reads and writes each CB.
           Roles: read_to_cb and generate_to_cb produce their CB (reader), write_from_cb consumes it (writer), a tile
           group that stores to a CB produces it and one that reads a CB consumes it (compute).
           Effects of a tile group on each CB it touches: `update` if it reads and writes it,
           `give` if it only writes it; if it only reads it, `take` when it is the block's last
           reader (no later statement of its statement list reads that CB before one writes it,
           and the loop around the list does not carry it to its next iteration), else `peek`. Intermediate CBs (scope "intermediate", named <cb>_out / <cb>_in):
           a CB read by both compute and the writer, or written out to a tensor of another
           dtype, is copied by a compute group into a new CB in the tensor's dtype, which the
           writer reads instead; a read_to_cb into a CB of another dtype than its tensor's lands
           in a new staging CB in the tensor's dtype, which a compute group copies into the CB.
           A loop carries a CB's block from one iteration to the next when the first statement of
           its body that touches the CB reads it (a Q tile read by every step of a K loop; online
           softmax's running max, read, then updated): the last reader in the body peeks it, and
           after the loop a Release frees it, unless a later group takes it. A dead block is
           dropped first: a tile group that reads nothing and writes one CB whose
           next toucher in the same statement list is a group writing it again without reading
           it (T.fill, then a reduction with clear=True): nobody would ever pop that block.
Preserves: every value and every rounding (a cast moves from the transfer into a compute copy
           and rounds the same); the order of operations.
Why:       Metalium allows one producer thread and one consumer thread per CB, and the NoC moves
           bytes: only compute converts data formats. D1 splits the program along these roles.
"""
from __future__ import annotations

from typing import Any

from nanott.diagnostics import NanottError
from nanott.ir import replace
from nanott.languages import l5, l6
from nanott.passes._cb_plan import cb_plan, check_l1_budget
from nanott.passes._cb_uses import DropDeadBlocks, leaves, touches
from nanott.passes._rewriter import Rewriter
from nanott.passes._names import NameSupply
from nanott.passes._tile_groups import copy_group, tile_grid, used_names
from nanott.target import Target

DRAM_DEPTH = 2            # a CB that crosses to or from DRAM is double-buffered


def build_tile_dataflow(program: l5.Kernel, target: Target) -> l6.Kernel:
    program = DropDeadBlocks().visit(program)
    program = AddIntermediateCbs(program).visit(program)
    producers, consumers = roles(program)
    for cb in program.cbs:
        made, used = producers[cb.index], consumers[cb.index]
        if len(made) != 1 or len(used) != 1:
            raise NanottError("NT320", f"{cb.name} is written by {' and '.join(made) or 'nobody'} and "
                              f"read by {' and '.join(used) or 'nobody'}; a circular buffer has exactly "
                              "one producer and one consumer", cb.loc,
                              "give each producer its own buffer (copy from DRAM into one, compute into "
                              "another), and remove buffers nobody reads")
    out = Dataflow(program.cbs, producers, consumers).visit(program)
    check_l1_budget(((cb.name, cb.plan, cb.loc) for cb in out.cbs), target)
    return out


def roles(program: l5.Kernel) -> tuple[dict[int, list[str]], dict[int, list[str]]]:
    """Per CB, the roles that write it and the roles that read it, in the order of l6.ROLES."""
    made: dict[int, set[str]] = {cb.index: set() for cb in program.cbs}
    used: dict[int, set[str]] = {cb.index: set() for cb in program.cbs}
    for s in leaves(program.body):
        role = {l5.ReadToCb: "reader", l5.GenerateToCb: "reader", l5.WriteFromCb: "writer"}.get(type(s), "compute")
        reads, writes = touches(s)
        for cb in reads:
            used[cb].add(role)
        for cb in writes:
            made[cb].add(role)
    order = l6.ROLES.index
    return ({cb: sorted(r, key=order) for cb, r in made.items()},
            {cb: sorted(r, key=order) for cb, r in used.items()})


class AddIntermediateCbs(Rewriter, src=l5.LANG, dst=l5.LANG):
    """L5 -> L5: the CBs and compute copies that one producer, one consumer and NoC-only-moves-
    bytes require next to the reader and the writer."""

    def __init__(self, program: l5.Kernel):
        self.cbs = list(program.cbs)
        self.dtypes = {p.name: p.dtype for p in program.params}
        self.consumers = roles(program)[1]
        self.names = NameSupply(used_names(program))
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
        if self.cbs[r.cb].dtype == dtype:
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


class Dataflow(Rewriter, src=l5.LANG, dst=l6.LANG):
    """L5 -> L6: roles on CBs, effects on tile groups; each statement list is walked knowing what
    follows the statement being rewritten (`self.rest`)."""

    def __init__(self, cbs: tuple, producers: dict[int, list[str]], consumers: dict[int, list[str]]):
        self.names = [cb.name for cb in cbs]
        self.producers, self.consumers = producers, consumers
        self.rest: tuple = ()
        self.carried: set[int] = set()           # CBs the innermost enclosing loop carries

    def visit_Kernel(self, k: l5.Kernel) -> l6.Kernel:
        return replace(k, cbs=self.visit(k.cbs), body=self.block(k.body))

    def visit_CircularBuffer(self, cb: l5.CircularBuffer) -> l6.CircularBuffer:
        return l6.CircularBuffer(cb.index, cb.name, cb.shape, cb.dtype, cb.scope, cb.plan,
                                 self.producers[cb.index][0], self.consumers[cb.index][0], loc=cb.loc)

    def block(self, stmts: tuple) -> tuple:
        out = []
        for i, s in enumerate(stmts):
            self.rest = stmts[i + 1:]
            r = self.visit(s)
            out.extend(r if isinstance(r, list) else [r])
        return tuple(out)

    def visit_For(self, f: l5.For) -> list:
        reads, writes = touches(f)
        for cb in sorted(reads - writes):
            if self.consumers[cb] != ["compute"]:
                raise NanottError("NT319", f"{self.names[cb]} is produced outside the loop over {f.var} "
                                  f"and read inside it by the {self.consumers[cb][0]}; only compute "
                                  "can hold a block through a loop yet", f.loc,
                                  "copy or compute the block inside the loop, once per iteration")
        carried, rest, outer = self.carried_by(f.body), self.rest, self.carried
        self.carried = carried
        body = self.block(f.body)
        self.carried, self.rest = outer, rest
        return [replace(f, body=body), *(l6.Release(cb, loc=f.loc) for cb in sorted(carried)
                                         if self.mode(False, False, cb) == "take")]

    @staticmethod
    def carried_by(body: tuple) -> set[int]:
        """The CBs whose block a loop carries from one iteration to the next: the first statement
        of the body that touches them reads them."""
        first: dict[int, bool] = {}
        for s in leaves(body):
            reads, writes = touches(s)
            for cb in reads | writes:
                first.setdefault(cb, cb in reads)
        return {cb for cb, read in first.items() if read}

    def visit_TileGroup(self, g: l5.TileGroup) -> l6.TileGroup:
        reads, writes = touches(g)
        effects = tuple(l6.CbEffect(cb, self.mode(cb in reads, cb in writes, cb), loc=g.loc)
                        for cb in sorted(reads | writes))
        return l6.TileGroup(g.vars, g.extents, g.body, effects, loc=g.loc)

    def mode(self, reads: bool, writes: bool, cb: int) -> str:
        if writes:
            return "update" if reads else "give"
        for s in leaves(self.rest):              # is a later statement reading this block?
            later_reads, later_writes = touches(s)
            if cb in later_reads:
                return "peek"
            if cb in later_writes:
                return "take"
        return "peek" if cb in self.carried else "take"     # the next iteration reads it first
