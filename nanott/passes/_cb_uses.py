"""Who reads and writes each CB, for C2a, C2b, C2c and C3: the CBs a statement touches, the statements
that touch CBs in program order, the roles (reader, compute, writer) on each side of a CB, and how
many trips a loop runs (a loop of one trip carries nothing; one of none is dropped).
A let reading DRAM elements (Element) both writes and reads their scratch CBs, in the reader.
"""
from __future__ import annotations

from typing import Any, Iterator

from nanott.ir import walk
from nanott.languages import l5, l6
from nanott.value_bounds import bounds, decided


def touches(s: Any) -> tuple[set[int], set[int]]:
    """(CBs read, CBs written) by a statement, the statements nested in it included."""
    match s:
        case l5.ReadToCb(_, cb) | l5.GenerateToCb(cb, _, _, _):
            return set(), {cb}
        case l5.WriteFromCb(cb, _) | l5.PrintCb(_, cb):
            return {cb}, set()
        case l5.Let(_, value):
            scratch = {x.cb for x in walk(value) if isinstance(x, l5.Element)}
            return scratch, scratch
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
        elif isinstance(s, (l5.ReadToCb, l5.GenerateToCb, l5.WriteFromCb, l5.TileGroup, l5.PrintCb)) or reads_dram(s):
            yield s


def reads_dram(s: Any) -> bool:
    """A let whose value reads an element of a DRAM tensor (the reader's)."""
    return isinstance(s, l5.Let) and any(isinstance(x, l5.Element) for x in walk(s.value))


def carried_by(body: tuple) -> set[int]:
    """The CBs whose block a loop with this body carries from one iteration to the next: the first
    statement of the body that touches them reads them (a let's scratch page holds nothing across lets)."""
    first: dict[int, bool] = {}
    for s in (s for s in leaves(body) if not reads_dram(s)):
        reads, writes = touches(s)
        for cb in reads | writes:
            first.setdefault(cb, cb in reads)
    return {cb for cb, read in first.items() if read}


def roles(program: l5.Kernel) -> tuple[dict[int, list[str]], dict[int, list[str]]]:
    """Per CB, the roles that write it and the roles that read it, in the order of l6.ROLES."""
    made: dict[int, set[str]] = {cb.index: set() for cb in program.cbs}
    used: dict[int, set[str]] = {cb.index: set() for cb in program.cbs}
    for s in leaves(program.body):
        role = {l5.ReadToCb: "reader", l5.GenerateToCb: "reader", l5.Let: "reader",
                l5.WriteFromCb: "writer"}.get(type(s), "compute")
        reads, writes = touches(s)
        for cb in reads:
            used[cb].add(role)
        for cb in writes:
            made[cb].add(role)
    order = l6.ROLES.index
    return ({cb: sorted(r, key=order) for cb, r in made.items()},
            {cb: sorted(r, key=order) for cb, r in used.items()})


def trips(extent: l5.Expr) -> tuple[int, int] | None:
    """The fewest and most trips of a loop of this extent (a guard `if_then_else(c, 1, 0)` whose c
    is decided: its branch), or None when unknown."""
    if isinstance(extent, l5.Select) and (c := decided(extent.cond, {})) is not None:
        extent = extent.then if c else extent.other
    return bounds(extent, {})
