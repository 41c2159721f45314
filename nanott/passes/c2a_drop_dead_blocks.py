"""C2a drop-dead-blocks: L5 -> L5

Changes:   a tile group that reads no CB and writes one CB whose next toucher in the same
           statement list is a group writing it again without reading it (T.fill, then a
           reduction with clear=True) is dropped.
Preserves: every value anyone reads: the dropped block is overwritten before any read.
Why:       nobody would ever pop that block: on the device its producer would wait forever for
           room in the CB. C3 builds the dataflow on the statements that remain.
"""
from __future__ import annotations

from nanott.ir import replace
from nanott.languages import l5
from nanott.passes._cb_uses import touches
from nanott.passes._rewriter import Rewriter
from nanott.target import Target


def drop_dead_blocks(program: l5.Kernel, target: Target) -> l5.Kernel:
    return DropDeadBlocks().visit(program)


class DropDeadBlocks(Rewriter, src=l5.LANG, dst=l5.LANG):
    """Each statement list without the tile groups whose block is overwritten before anyone reads it."""

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
