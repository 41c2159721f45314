"""A1a remove-dead-buffers: L1 -> L1

Changes:   first (drop_overwritten_values) a statement whose only effect is a value in an on-chip
           buffer goes when the next statement of its list to touch that buffer overwrites it
           whole without reading it (valid TileLang: a fragment computed, then computed again),
           or, in the kernel's own list (not a loop's, whose next trip may read it), when no later
           statement touches it (a fragment updated after its last read: MLA's log-sum-exp when
           no glse is written).
           Then an on-chip buffer whose contents never reach a tensor goes, with every statement that
           only writes it. A statement is live when it writes a tensor parameter or a live buffer,
           or writes no buffer at all (a let); a buffer is live when a live statement reads it.
           Liveness is found by iterating to a fixpoint, so a chain of copies that ends nowhere goes
           whole; a loop or T.Parallel whose body this empties goes too.
Preserves: every tensor the kernel writes, bit for bit: only work whose result nobody reads goes.
           A value overwritten in a later trip of a loop, or by a partial write, is kept.
Why:       a circular buffer has one producer and one consumer (C3's NT320); a buffer nobody reads
           has no consumer, and moving data into it would cost NoC traffic and L1 for nothing.
"""
from __future__ import annotations

from typing import Any, Iterator

from nanott.ir import walk
from nanott.languages import l1
from nanott.passes._rewriter import Rewriter
from nanott.target import Target


def remove_dead_buffers(program: l1.Kernel, target: Target) -> l1.Kernel:
    program = drop_overwritten_values(program)
    return RemoveDeadBuffers(live_names(program)).visit(program)


def drop_overwritten_values(program: l1.Kernel) -> l1.Kernel:
    """Statements whose value the next statement touching its buffer overwrites whole, unread."""
    shapes = {a.name: tuple(a.shape) for a in walk(program.body) if isinstance(a, l1.Alloc)}
    return DropOverwritten(shapes).visit(program)


def effects(s: Any) -> tuple[set[str], set[str]]:
    """(names read, buffers written) by one statement that is not a loop."""
    reads = {x.buffer for x in walk(s) if isinstance(x, l1.Load)}
    match s:
        case l1.Copy(src, dst) | l1.AtomicAdd(src, dst):
            return reads | {src.buffer}, {dst.buffer}
        case l1.Gemm(a, b, c, _, _, clear):
            return reads | {a, b} | (set() if clear else {c}), {c}
        case l1.Reduce(_, src, dst, _, clear):
            return reads | {src} | (set() if clear else {dst}), {dst}
        case l1.Fill(buffer) | l1.Store(buffer):
            return reads, {buffer}
    return reads, set()


def touched(s: Any) -> tuple[set[str], set[str]]:
    """(names read, buffers written) by a statement, the statements nested in it included."""
    reads, writes = set(), set()
    for leaf in leaves((s,)):
        r, w = effects(leaf)
        reads, writes = reads | r, writes | w
    return reads, writes


def leaves(stmts: tuple) -> Iterator[Any]:
    """The statements that are not loops, loops opened."""
    for s in stmts:
        if isinstance(s, (l1.For, l1.Parallel)):
            yield from leaves(s.body)
        else:
            yield s


def live_names(program: l1.Kernel) -> set[str]:
    """The tensors, and the buffers whose contents reach a tensor."""
    live = {p.name for p in program.params}
    while True:
        grown = set(live)
        for s in leaves(program.body):
            reads, writes = effects(s)
            if not writes or writes & live:
                grown |= reads
        if grown == live:
            return live
        live = grown


class RemoveDeadBuffers(Rewriter, src=l1.LANG, dst=l1.LANG):
    def __init__(self, live: set[str]):
        self.live = live

    def visit_Kernel(self, k: l1.Kernel) -> l1.Kernel:
        return self.rebuild(k, body=self.block(k.body))

    def block(self, stmts: tuple) -> tuple:
        out = []
        for s in stmts:
            if isinstance(s, (l1.For, l1.Parallel)):
                body = self.block(s.body)
                out += [self.rebuild(s, body=body)] if body or not s.body else []
            elif isinstance(s, l1.Alloc):
                out += [s] if s.name in self.live else []
            else:
                writes = effects(s)[1]
                out += [s] if not writes or writes & self.live else []
        return tuple(out)


class DropOverwritten(Rewriter, src=l1.LANG, dst=l1.LANG):
    def __init__(self, shapes: dict[str, tuple[int, ...]]):
        self.shapes = shapes

    def visit_Kernel(self, k: l1.Kernel) -> l1.Kernel:
        return self.rebuild(k, body=self.block(k.body, top=True))

    def block(self, stmts: tuple, top: bool = False) -> tuple:
        stmts = tuple(self.rebuild(s, body=self.block(s.body)) if isinstance(s, l1.For) else s for s in stmts)
        while True:                # dropping a value may leave the one before it unread: repeat
            kept = tuple(s for n, s in enumerate(stmts) if not self.dead(s, stmts[n + 1:], top))
            if len(kept) == len(stmts):
                return stmts
            stmts = kept

    def dead(self, s: Any, rest: tuple, top: bool) -> bool:
        writes = touched(s)[1]
        if len(writes) != 1 or not writes <= set(self.shapes):
            return False
        nxt = next((t for t in rest if writes & set().union(*touched(t))), None)
        if nxt is None:
            return top and not isinstance(s, l1.Alloc)
        return nxt is not None and self.overwritten(nxt) in writes and not writes & touched(nxt)[0]

    def overwritten(self, s: Any) -> str | None:
        """The on-chip buffer a statement writes whole (its reads are for the caller to check)."""
        match s:
            case l1.Fill(buffer) | l1.Gemm(c=buffer, clear_accum=True) | l1.Reduce(dst=buffer, clear=True):
                return buffer
            case l1.Copy(_, dst) if (tuple(dst.extents) == self.shapes.get(dst.buffer)
                                     and all(isinstance(i, l1.Const) and i.value == 0 for i in dst.starts)):
                return dst.buffer
            case l1.Parallel(names, extents, (*lets, l1.Store(buffer, indices))) if (
                    all(isinstance(x, l1.Let) for x in lets) and tuple(extents) == self.shapes.get(buffer)
                    and [getattr(i, "name", None) for i in indices] == list(names)):
                return buffer
        return None
