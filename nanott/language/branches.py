"""The hooks of P0's builder for `if` statements: an `if` on a Python value runs one branch, on a
run-time value both (predicate.py, branch_scalars.py). A mixin of builder.Builder: it uses the
builder's frames, names, shapes and emit.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterator

from nanott.diagnostics import NanottError
from nanott.ir import replace, walk
from nanott.languages import l0
from nanott.language.branch_scalars import declared, known, truth
from nanott.language.predicate import (copied_elements, once_if, predicable, predicated, read_anywhere, reads,
                                       subst_nodes, without_copy_into, writers)
from nanott.language.values import Buffer, Cond, Sym, symbolic_condition, to_expr
from nanott.value_bounds import decided
from nanott.language.role_fusion import Role, RoleSplit, Sync, fuse
from nanott.language.thread_copies import gather

HINT_DATA_WRITTEN = "copy the mask from DRAM into its own buffer and write to another one"


@dataclass
class Frame:
    """An open statement list: the kernel body or a loop body."""
    stmts: list = field(default_factory=list)
    scope: set = field(default_factory=set)       # loop variables opened by this frame
    parallel: bool = False                        # the body of a T.Parallel nest
    branch: bool = False                          # a branch of an `if` on a run-time value
    cond: Any = None                              # a branch's condition (branch_scalars.py)
    role: Any = None                              # a thread role's (lo, hi): thread_roles.py


def sync_runs(body: tuple) -> list:
    """A branch's statements in runs between its barrier operations (a role's `if k < n - 1:` around
    copies and the arrive after them), each Sync on its own; a Sync deeper inside is NT301."""
    out, run = [], []
    for s in body:
        if isinstance(s, Sync):
            out += [tuple(run), s] if run else [s]
            run = []
        elif any(isinstance(x, Sync) for x in walk(s)):
            raise NanottError("NT301", "a barrier operation inside a loop inside a run-time `if` is not "
                              "supported by nanott yet", s.loc,
                              hint="put the barrier operations directly in the `if`, or unroll the loop (T.unroll)")
        else:
            run.append(s)
    return out + [tuple(run)] if run or not out else out


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
        if getattr(type(cond), "threads_only", False):        # `if tx < 128:` (thread_roles.py)
            yield from self.thread_branches(cond)
            return
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
            for run in sync_runs(body):
                if isinstance(run, Sync):          # a barrier operation in a role: guarded (role_fusion.py)
                    self.emit(replace(run, guard=(*run.guard, expr)), "a run-time if")
                else:
                    self.conditional(run, expr, frame, loc)

    def conditional(self, body: tuple, expr: l0.Expr, frame: Frame, loc: Any) -> None:
        """The statements of a branch, made conditional on expr: a loop that runs once or never, or
        each statement predicated."""
        if body and not frame.parallel and (not predicable(body, self.shapes) or self.first_writes(body)) \
                and not reads(cond_read := self.unstaged(expr)):     # else predicated() says NT302
            lets, body = declared(body, self.selects)
            body = known(body, expr, self.selects)
            for s in lets:
                self.emit(s, "a run-time if")
            self.emit(once_if(body, cond_read, self.fresh("once"), loc), "a run-time if")
            return
        for s in predicated(body, expr, self.shapes, self.fresh, frame.parallel):
            self.emit(s, "a run-time if")

    def thread_branches(self, cond: Any) -> Iterator[bool]:
        """`if tx < 128: A else: B`: each branch the role of the threads where it runs (an empty one
        skipped, an always-true one no split); a split at the top of a role is the outer split's
        (an `elif` chain), a split at the kernel's top is fused at once (role_fusion.py)."""
        lo, hi = self.thread_range
        then = (max(lo, cond.lo), min(hi, cond.hi))
        if then[0] >= then[1] or then == (lo, hi):
            yield then == (lo, hi)
            return
        rest = [(a, b) for a, b in ((lo, then[0]), (then[1], hi)) if a < b]
        if len(rest) != 1:
            raise NanottError("NT301", f"a condition on tx that leaves the threads {rest} to its else branch "
                              "(two ranges) is not supported by nanott yet", self.loc,
                              hint="split the threads from the lowest up: `if tx < 128: ... elif tx < 256: ...`")
        loc, roles = self.loc, []
        for branch, rng in ((True, then), (False, rest[0])):
            frame = Frame(role=rng)
            self.frames.append(frame)
            outer, self.thread_range = self.thread_range, rng
            yield branch
            self.thread_range = outer
            body = gather(self.close(frame), rng[0], rng[1], self.tx_name, self.shapes)
            nested = [x for x in body if isinstance(x, RoleSplit)]
            if nested and len(body) > 1:
                raise NanottError("NT301", "a role that both runs statements of its own and splits its threads "
                                  "again is not supported by nanott yet", nested[0].loc,
                                  hint="split the threads once: `if tx < 128: ... elif tx < 256: ... else: ...`")
            roles += nested[0].roles if nested else [Role(rng[0], rng[1], body, loc=loc)]
        split = RoleSplit(tuple(sorted(roles, key=lambda r: r.lo)), loc=loc)
        if self.frames[-1].role is not None:
            self.frames[-1].stmts.append(split)
            return
        if len(self.frames) != 1:
            raise NanottError("NT301", "a split of the threads (`if tx < ...`) inside a loop or another `if` "
                              "is not supported by nanott yet", loc,
                              hint="split the threads at the top of the kernel, each role looping itself")
        self.fuse_roles(split)

    def fuse_roles(self, split: Any) -> None:
        top = self.frames[0].stmts
        fragments = {s.label for s in top if isinstance(s, Buffer) and s.scope == "fragment"}
        done = [s for s in top if not isinstance(s, Buffer)]
        written = {b for b in self.shapes if writers(tuple(done), b)}
        stmts, attrs = fuse(split, self.barriers, fragments, written, getattr(self, "parts", {}))
        for s in stmts:
            self.emit(s, "a thread role")
        for k, v in attrs.items():
            self.record(k, v)

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
