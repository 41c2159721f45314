"""C2a drop-dead-blocks: L5 -> L5

Changes:   a tile group that reads no CB and writes one CB whose next toucher in the same
           statement list is a group writing it again without reading it (T.fill, then a
           reduction with clear=True) is dropped; so is a loop that never runs (its extent decided
           0: a guard `if_then_else(c, 1, 0)` whose c is decided false, as `if k < n - 1` becomes
           in a peeled loop's last trip), with everything in it.
Preserves: every value anyone reads: the dropped block is overwritten before any read, and the
           dropped loop's statements never run.
Why:       nobody would ever pop that block: on the device its producer would wait forever for
           room in the CB. And a loop that never runs still reads to C3 as a reader of its CBs: it
           would peek a block the statement before it takes, and free it after the loop (a pop
           of pages nobody pushed). C3 builds the dataflow on the statements that remain.
"""
from __future__ import annotations

from nanott.ir import replace
from nanott.languages import l5
from nanott.passes._cb_uses import touches, trips
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
        return tuple(self.visit(s) for n, s in enumerate(stmts)
                     if not self.dead(s, stmts[n + 1:]) and not never_runs(s))

    @staticmethod
    def dead(s, rest: tuple) -> bool:
        reads, writes = touches(s)
        if not isinstance(s, l5.TileGroup) or reads or len(writes) != 1:
            return False
        nxt = next((t for t in rest if writes & set().union(*touches(t))), None)
        return isinstance(nxt, l5.TileGroup) and not writes & touches(nxt)[0]


def never_runs(s) -> bool:
    """A loop whose extent is decided 0 (a guard decided false)."""
    return isinstance(s, l5.For) and trips(s.extent) == (0, 0)
