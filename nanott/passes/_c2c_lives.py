"""Live ranges of circular buffers, for C2c: the stretch of the program in which a CB may hold a block.

A position numbers each statement that touches CBs (C3's leaves: a tile group, a read or write of
DRAM, a print) in program order, loops opened. A CB's live range is the span from the first
position that touches it to the last. A loop widens the span to the whole loop when the CB's block
lives from one trip to the next (the first statement of the body that touches it reads it:
`carried_by`, as C3 decides its peeks) or when the span crosses the loop's boundary (a block made
before the loop and read in it, or made in it and read after): every trip runs the whole body, so
the block is alive all through it. Widening repeats until nothing changes, since a span widened to
an inner loop may cross an outer one. A loop of exactly one trip (`for k in T.serial(1)`) widens
nothing (it runs its body once, in program order), and one that never runs (a guard whose
condition is decided false, `if_then_else(1 < 1, 1, 0)`: a peeled loop's last trip) holds no
position: none of its statements runs. A kernel that runs these statements in this order (compute,
for the CBs compute alone writes and reads) never holds blocks of two CBs whose spans are disjoint
at the same time.
"""
from __future__ import annotations

from dataclasses import dataclass

from nanott.languages import l5
from nanott.passes._cb_uses import carried_by, touches, trips


@dataclass(frozen=True)
class Span:
    """Positions first..last, both included."""
    first: int
    last: int

    def meets(self, other: Span) -> bool:
        return self.first <= other.last and other.first <= self.last

    def within(self, other: Span) -> bool:
        return other.first <= self.first and self.last <= other.last

    def cover(self, other: Span) -> Span:
        return Span(min(self.first, other.first), max(self.last, other.last))

    def __str__(self) -> str:
        return f"{self.first}..{self.last}"


class Positions:
    """One walk over a body: the positions touching each CB, whether its first touch writes it
    without reading it, and each loop's span with the CBs it carries."""

    def __init__(self, body: tuple):
        self.touched: dict[int, list[int]] = {}
        self.made_first: dict[int, bool] = {}      # cb -> its first touch writes it and does not read it
        self.loops: list[tuple[Span, set[int]]] = []
        self.locs: list = []                       # position -> the statement's source location
        self.count = 0
        self.scan(body)

    def scan(self, stmts: tuple) -> None:
        for s in stmts:
            if isinstance(s, l5.For):
                runs = trips(s.extent)
                if runs == (0, 0):                 # a branch whose condition is decided false
                    continue
                start = self.count
                self.scan(s.body)
                if self.count > start and runs != (1, 1):
                    self.loops.append((Span(start, self.count - 1), carried_by(s.body)))
                continue
            reads, writes = touches(s)
            if not reads | writes:
                continue
            for cb in reads | writes:
                self.touched.setdefault(cb, []).append(self.count)
                self.made_first.setdefault(cb, cb in writes and cb not in reads)
            self.locs.append(s.loc)
            self.count += 1


@dataclass(frozen=True)
class Lives:
    """cb -> its live span; the CBs whose first touch reads them (their block comes from before
    the program: no span can say when it starts); position -> its statement's location."""
    spans: dict[int, Span]
    unmade: set[int]
    locs: list

    def fullest(self) -> tuple[int, int]:
        """(a position where the most spans meet, how many meet there)."""
        count = [0] * (len(self.locs) + 1)
        for span in self.spans.values():
            count[span.first] += 1
            count[span.last + 1] -= 1
        alive = [sum(count[:p + 1]) for p in range(len(self.locs))]
        best = max(range(len(alive)), key=lambda p: alive[p], default=0)
        return best, (alive[best] if alive else 0)


def live_ranges(body: tuple) -> Lives:
    """The live span of every CB the body touches (module docstring)."""
    p = Positions(body)
    spans = {cb: Span(at[0], at[-1]) for cb, at in p.touched.items()}
    changed = True
    while changed:
        changed = False
        for loop, carried in p.loops:
            for cb, span in spans.items():
                if span.meets(loop) and (cb in carried or not span.within(loop)) and not loop.within(span):
                    spans[cb], changed = span.cover(loop), True
    return Lives(spans, {cb for cb, made in p.made_first.items() if not made}, p.locs)
