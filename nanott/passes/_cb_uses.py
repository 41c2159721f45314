"""Who reads and writes each CB, for C3: the CBs a statement touches, the statements that touch
CBs in program order, and the dead blocks C3 drops before it builds the dataflow.
"""
from __future__ import annotations

from typing import Any, Iterator

from nanott.ir import replace, walk
from nanott.languages import l5
from nanott.passes._rewriter import Rewriter


def touches(s: Any) -> tuple[set[int], set[int]]:
    """(CBs read, CBs written) by a statement, the statements nested in it included."""
    match s:
        case l5.ReadToCb(_, cb) | l5.GenerateToCb(cb, _, _, _):
            return set(), {cb}
        case l5.WriteFromCb(cb, _):
            return {cb}, set()
        case l5.TileGroup(_, _, body):
            ops = [x.op for x in walk(body) if isinstance(x, l5.TAssign)]
            return ({r.cb for r in walk(tuple(ops)) if isinstance(r, l5.TileRef)},
                    {x.dst.cb for x in walk(body) if isinstance(x, l5.TStore)})
        case l5.For(_, _, _, _, body):
            reads, writes = set(), set()
            for inner in body:
                r, w = touches(inner)
                reads, writes = reads | r, writes | w
            return reads, writes
    return set(), set()


def leaves(stmts: tuple) -> Iterator[Any]:
    """The statements that touch CBs, in program order, loops opened."""
    for s in stmts:
        if isinstance(s, l5.For):
            yield from leaves(s.body)
        elif isinstance(s, (l5.ReadToCb, l5.GenerateToCb, l5.WriteFromCb, l5.TileGroup)):
            yield s


class DropDeadBlocks(Rewriter, src=l5.LANG, dst=l5.LANG):
    """L5 -> L5: without the tile groups whose block is overwritten before anyone reads it."""

    def visit_Kernel(self, k: l5.Kernel) -> l5.Kernel:
        return replace(k, body=self.live(k.body))

    def visit_For(self, f: l5.For) -> l5.For:
        return replace(f, body=self.live(f.body))

    def live(self, stmts: tuple) -> tuple:
        return tuple(self.visit(s) for n, s in enumerate(stmts) if not self.dead(s, stmts[n + 1:]))

    @staticmethod
    def dead(s, rest: tuple) -> bool:
        reads, writes = touches(s)
        if not isinstance(s, l5.TileGroup) or reads or len(writes) != 1:
            return False
        nxt = next((t for t in rest if writes & set().union(*touches(t))), None)
        return isinstance(nxt, l5.TileGroup) and not writes & touches(nxt)[0]
