"""A2 plan-circular-buffers: L1 -> L1

Changes:   every on-chip buffer gets its CB plan: pages of one tile, the block's tiles, and a depth
           in blocks found from how the body uses the buffer: filled by a copy inside a pipelined
           loop of s stages -> s blocks (at least 2 if also updated in place); updated in place (a gemm accumulating into it, a store that
           reads it, a reduction with clear=False) -> 2 (old and new block); copied to or from DRAM
           -> 2 (double-buffered); otherwise 1. Then the plans are checked against a core's L1;
           the count against its CB indices waits for C3, after C2c has let buffers that are not
           alive at once share a CB.
Preserves: everything else; no node is added, moved or removed.
Why:       every on-chip buffer becomes a circular buffer in L1 (C1), and its depth decides whether
           the data movers can run ahead of compute. Running out of L1 or CB indices is a hardware
           limit the user must hear about at their line, with the numbers, before anything is built.
"""
from __future__ import annotations

from nanott.ir import replace, walk
from nanott.languages import l1
from nanott.passes._cb_plan import cb_plan, check_l1_bytes
from nanott.passes._rewriter import Rewriter
from nanott.target import Target


def plan_circular_buffers(program: l1.Kernel, target: Target) -> l1.Kernel:
    out = PlanCircularBuffers(BufferUses(program)).visit(program)
    check_l1_bytes(((a.name, a.cb, a.loc) for a in walk(out.body) if isinstance(a, l1.Alloc)), target)
    return out


class BufferUses:
    """How the body uses each buffer, found by one walk over the statements."""

    def __init__(self, k: l1.Kernel):
        self.dram = {p.name for p in k.params}
        self.pipelined: dict[str, int] = {}    # buffer -> stages of the pipelined loop that fills it
        self.in_place: set[str] = set()
        self.moved: set[str] = set()           # copied from or to a DRAM tensor
        self.scan(k.body, None)

    def scan(self, stmts: tuple, stages: int | None) -> None:
        for s in stmts:
            match s:
                case l1.Copy(src, dst):
                    if stages is not None:
                        self.pipelined[dst.buffer] = max(stages, self.pipelined.get(dst.buffer, 0))
                    if src.buffer in self.dram:
                        self.moved.add(dst.buffer)
                    if dst.buffer in self.dram:
                        self.moved.add(src.buffer)
                case l1.Gemm(c=c, clear_accum=False) | l1.Reduce(dst=c, clear=False):
                    self.in_place.add(c)
                case l1.Store(buffer, _, value) if any(
                        isinstance(x, l1.Load) and x.buffer == buffer for x in walk(value)):
                    self.in_place.add(buffer)
                case l1.For(kind="pipelined", num_stages=n, body=body):
                    self.scan(body, n)
                    continue
            self.scan(getattr(s, "body", ()), stages)

    def depth(self, buffer: str) -> tuple[int, str]:
        if buffer in self.pipelined:
            s = self.pipelined[buffer]
            why = f"pipelined, {s} stage{'' if s == 1 else 's'}"
            if buffer in self.in_place and s < 2:           # the update needs a block beside the old one
                return 2, why + "; updated in place: old and new block"
            return max(s, 1), why
        if buffer in self.in_place:
            return 2, "updated in place: old and new block"
        if buffer in self.moved:
            return 2, "double-buffered"
        return 1, "one block"


class PlanCircularBuffers(Rewriter, src=l1.LANG, dst=l1.LANG):
    def __init__(self, uses: BufferUses):
        self.uses = uses

    def visit_Alloc(self, a: l1.Alloc) -> l1.Alloc:
        return replace(a, cb=cb_plan(a.shape, a.dtype, *self.uses.depth(a.name)))
