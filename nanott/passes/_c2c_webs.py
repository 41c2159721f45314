"""Webs of circular buffers, for C2c: a buffer that a statement writes without reading holds,
from there on, a block that has nothing to do with the one it held before.

A register allocator does not give a variable one live range but one per *web*: a definition and
the uses it reaches. A buffer is the same: `T.copy(scores_max, scores_max_prev)` in every step of
an unrolled loop makes a new block, and the one the step before made was taken by its last reader
already (C3 takes a block at its last reader before a later write). So the buffer's live range
is not one span from its first touch to its last, but one span per web, and between two webs the
CB holds nothing another buffer could not use.

A web starts at a statement that writes the buffer and does not read it (C3's `give`), once the
buffer has been touched before, unless a loop around the statement carries the buffer (the first
statement of its body that touches it reads it: the next trip reads this block) or may run no
trip while the buffer is touched after it (after the loop, the block would come from this web or
the one before, and one statement can name only one CB). A loop whose guard is decided false starts
no web: none of its statements runs, and they name the web before them. Each web after a
buffer's first gets a CB of its own, a copy of the buffer's declaration under a fresh name, and
every statement names the CB of the web it belongs to: the program is the same, and C2c colours
webs instead of buffers.
"""
from __future__ import annotations

from nanott.ir import replace
from nanott.languages import l5
from nanott.passes._cb_numbers import renumber
from nanott.passes._cb_uses import carried_by, touches, trips
from nanott.passes._names import NameSupply


def split_webs(program: l5.Kernel, buffers: set[int]) -> tuple[l5.Kernel, dict[int, int]]:
    """The program with every web after the first of each of `buffers` on a CB of its own; and
    new CB -> the buffer it is a web of."""
    webs = Webs(program, buffers)
    body = webs.block(program.body, (), True)
    return replace(program, cbs=tuple(webs.cbs), body=body), webs.origin


class Webs:
    """One walk in program order: each buffer's current web, and the CBs the webs take."""

    def __init__(self, program: l5.Kernel, buffers: set[int]):
        self.buffers = buffers
        self.cbs = list(program.cbs)
        self.current = {cb.index: cb.index for cb in program.cbs}
        self.origin: dict[int, int] = {}
        self.seen: set[int] = set()
        self.names = NameSupply({cb.name for cb in program.cbs})
        self.after = touched_after(program.body)
        self.loops = 0                             # loops entered so far, in program order

    def block(self, stmts: tuple, loops: tuple, runs: bool) -> tuple:
        """stmts with each CB renamed to its web; `loops`: (the CBs each enclosing loop keeps
        a web in), `runs`: whether the statements run at all."""
        out = []
        for s in stmts:
            if isinstance(s, l5.For):
                inner = (*loops, self.kept(s))
                out.append(replace(s, body=self.block(s.body, inner, runs and trips(s.extent) != (0, 0))))
                continue
            reads, writes = touches(s)
            if runs:
                for cb in sorted(writes - reads):
                    if cb in self.buffers and cb in self.seen and not any(cb in keep for keep in loops):
                        self.current[cb] = self.web_of(cb)
                self.seen |= reads | writes
            out.append(renumber(s, self.current) if reads | writes else s)
        return tuple(out)

    def kept(self, loop: l5.For) -> set[int]:
        """The buffers a web may not start for inside this loop: those it carries, and, when it
        may run no trip, those touched after it."""
        runs, number = trips(loop.extent), self.loops
        self.loops += 1
        if runs == (1, 1):
            return set()
        maybe_none = runs is None or runs[0] < 1
        return carried_by(loop.body) | (self.after[number] if maybe_none else set())

    def web_of(self, cb: int) -> int:
        """A new CB for the next web of buffer cb: its declaration under a fresh name."""
        first = self.cbs[cb]
        index = len(self.cbs)
        self.cbs.append(replace(first, index=index, name=self.names.fresh(f"{first.name}_web")))
        self.origin[index] = cb
        return index


def touched_after(body: tuple) -> list[set[int]]:
    """Per loop, numbered as the walk enters them: the CBs statements after it (in program order,
    outside it) touch."""
    order: list[tuple[int, object]] = []          # (loop number, None) at a loop's end, (-1, leaf)
    count = 0

    def walk(stmts: tuple) -> None:
        nonlocal count
        for s in stmts:
            if isinstance(s, l5.For):
                number, count = count, count + 1
                walk(s.body)
                order.append((number, None))
            else:
                order.append((-1, s))

    walk(body)
    after: list[set[int]] = [set() for _ in range(count)]
    later: set[int] = set()
    for number, s in reversed(order):
        if s is None:
            after[number] = set(later)
        else:
            reads, writes = touches(s)
            later |= reads | writes
    return after
