"""The hooks of P0's builder for `if` statements: an `if` on a Python value runs one branch, on a
run-time value both (predicate.py, branch_scalars.py). A mixin of builder.Builder: it uses the
builder's frames, names, shapes and emit.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterator

from nanott.diagnostics import NanottError
from nanott.ir import walk
from nanott.languages import l0
from nanott.language.branch_scalars import declared, truth
from nanott.language.predicate import (copied_elements, once_if, predicable, predicated, read_anywhere, reads,
                                       subst_nodes, without_copy_into, writers)
from nanott.language.values import Buffer, Cond, Sym, symbolic_condition, to_expr
from nanott.value_bounds import decided

HINT_DATA_WRITTEN = "copy the mask from DRAM into its own buffer and write to another one"


@dataclass
class Frame:
    """An open statement list: the kernel body or a loop body."""
    stmts: list = field(default_factory=list)
    scope: set = field(default_factory=set)       # loop variables opened by this frame
    parallel: bool = False                        # the body of a T.Parallel nest
    branch: bool = False                          # a branch of an `if` on a run-time value
    cond: Any = None                              # a branch's condition (branch_scalars.py)


class RunTimeIfs:
    def ctx_if(self, cond: Any) -> bool:
        if isinstance(cond, (Sym, Cond)):
            raise symbolic_condition(cond)
        return bool(cond)

    def ctx_branches(self, cond: Any) -> Iterator[bool]:
        """`if c: A else: B` (rewrite.py): a Python bool runs one branch; a condition on run-time
        values runs A, then B, each in its own frame, and makes their statements conditional on c
        and on not c (predicate.py), the names they assign too (branch_scalars.py). `if x:` on a
        run-time scalar is `if x != 0:`; an element of a DRAM tensor it reads outside a T.Parallel
        is a let first (the reader reads it)."""
        cond = truth(cond)
        if not isinstance(cond, Cond):
            yield self.ctx_if(cond)
            return
        if (fixed := decided(to_expr(cond), self.ranges)) is not None:    # `i < 32` in a T.Parallel(32)
            yield fixed
            return
        self.unstaged_lets: dict[l0.Load, l0.Var] = {}     # one let per element, for both branches
        parallel = any(f.parallel for f in self.frames)
        dram_lets: dict[l0.Load, l0.Var] = {}
        for branch, c in ((True, cond), (False, ~cond)):
            expr = to_expr(c) if parallel else self.dram_elements(to_expr(c), dram_lets)
            frame = Frame(parallel=parallel, branch=True, cond=expr)
            self.frames.append(frame)
            loc = self.loc
            yield branch
            body = self.close(frame)
            self.loc = loc
            if body and not frame.parallel and (not predicable(body, self.shapes) or self.first_writes(body)) \
                    and not reads(cond_read := self.unstaged(expr)):     # else predicated() says NT302
                lets, body = declared(body, self.selects)
                for s in lets:
                    self.emit(s, "a run-time if")
                self.emit(once_if(body, cond_read, self.fresh("once"), loc), "a run-time if")
                continue
            for s in predicated(body, expr, self.shapes, self.fresh, frame.parallel):
                self.emit(s, "a run-time if")

    def first_writes(self, body: tuple) -> bool:
        """Whether body stores into an on-chip buffer nothing before it has written: its predicated
        store would keep elements never set (NT115), so the branch runs as a loop (once_if) instead."""
        before = tuple(s for f in self.frames for s in f.stmts if not isinstance(s, Buffer))
        stored = {x.buffer for x in walk(body) if isinstance(x, (l0.Store, l0.Fill)) and x.buffer in self.shapes}
        return any(writers(before, b) == 0 for b in stored)

    def dram_elements(self, cond: l0.Expr, lets: dict) -> l0.Expr:
        """cond, each element of a DRAM tensor it reads (`if block_mask[b, h, k]:`) a let before the `if`."""
        for e in walk(cond):
            if isinstance(e, l0.Load) and e.buffer not in self.shapes and e not in lets:
                lets[e] = l0.Var(self.fresh(f"{e.buffer}_elem"), loc=e.loc)
                self.emit(l0.Let(lets[e].name, e, loc=e.loc), "a run-time if")
        return subst_nodes(cond, lets) if lets else cond

    def unstaged(self, cond: l0.Expr) -> l0.Expr:
        """cond, each on-chip element it reads that a T.copy brought from DRAM read from DRAM instead,
        through a let (the reader reads it, and sends it to compute: D1); as it is when it reads none."""
        if not reads(cond):
            return cond
        before = [s for f in self.frames for s in f.stmts]
        elements = copied_elements(cond, before, self.shapes)
        if elements is None:
            return cond
        names = self.unstaged_lets
        for load, dram in elements.items():
            if load not in names:
                names[load] = l0.Var(self.fresh(f"{load.buffer}_elem"), loc=load.loc)
                self.emit(l0.Let(names[load].name, dram, loc=load.loc), "a run-time if")
                self.at_close.append(lambda b=load.buffer, loc=load.loc: self.only_copied(b, loc))
        return subst_nodes(cond, names)

    def only_copied(self, buffer: str, loc: Any) -> None:
        """The buffer's copy from DRAM is its only write (else NT302); when nothing reads the buffer
        any more, the copy and the allocation go (a mask read only by `if`s)."""
        top = self.frames[0]
        if writers(tuple(s for s in top.stmts if not isinstance(s, Buffer)), buffer) != 1:
            raise NanottError("NT302", f"an `if` reads {buffer}, which is written after its copy from DRAM: the "
                              "condition is read from DRAM, where the copy read it", loc, HINT_DATA_WRITTEN)
        if not read_anywhere(tuple(s for s in top.stmts if not isinstance(s, Buffer)), buffer):
            top.stmts[:] = without_copy_into(top.stmts, buffer)
