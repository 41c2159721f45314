"""P0b's float scalars whose values nothing reads: such a let goes before P0b makes vectors of the
scalars read from DRAM (_p0b_scalars.py), each of which would be a circular buffer.

A persistent kernel's guarded wave (`if bid < batch: lse_max = -inf; for k: lse_max = T.max(lse_max,
glse[bid, hid, k])`) declares each T.alloc_var the branch assigns before the branch with its value
before (`let m_1 = m`), sets it in the branch (`set m_1 = -inf`), and carries it across the wave
loop (`set m = m_2` after the branch): copies that only a later wave could read, and none does when
the branch sets them before reading them. Those copies cost a vector (a CB) each, and one that reads
a value made inside the branch is read where the branch may not have run.

Liveness, backwards over the statements: a let or set of x is dead when no path from it reads x
before a set of x (a loop may run no trip: what is live after it is live before it; its body's
live-out is the union of what follows the loop and what its next trip reads, to a fixed point). A
statement other than a loop and a let reads every name in it. A dead let goes; a set of x left
without its let (its let's value was dead: every read of x follows a set) becomes the let, in the
statement list where it stands (`set m_1 = -inf` in the branch is `let m_1 = -inf` there).
Only the names given (the float scalars P0b would make vectors) are touched.
"""
from __future__ import annotations

from typing import Any

from nanott.ir import replace, walk
from nanott.languages import l0


def drop_unread(body: tuple, names: set[str]) -> tuple:
    """body without the dead lets and sets of `names` (module docstring)."""
    kept, _ = _block(body, set(), names)
    defined = {s.var for s in _all(kept) if isinstance(s, l0.Let) and not s.update}
    return _declare(kept, {s.var for s in _all(kept) if isinstance(s, l0.Let)} & names - defined, set())


def _block(stmts: tuple, out: set[str], names: set[str]) -> tuple[tuple, set[str]]:
    """(stmts without their dead lets, the names live before them) given the names live after."""
    live, kept = set(out), []
    for s in reversed(stmts):
        if isinstance(s, l0.Let) and s.var in names:
            if s.var not in live:
                continue
            live = live - {s.var} | _vars(s.value)
        elif isinstance(s, l0.For):
            s, inside = _loop(s, live, names)
            live = live | inside | _vars(s.extent)
        else:
            live |= _vars(s)
        kept.append(s)
    return tuple(reversed(kept)), live


def _loop(f: l0.For, out: set[str], names: set[str]) -> tuple[l0.For, set[str]]:
    """The loop with its body's dead lets gone, and what its body reads first, over every trip."""
    after, before = set(out), set()
    while True:
        body, before = _block(f.body, after, names)
        if out | before <= after:
            return replace(f, body=body), before
        after |= before


def _declare(stmts: tuple, orphans: set[str], declared: set[str]) -> tuple:
    """The first set of each orphan in a statement list (and in the lists nested in it) as its let."""
    declared, out = set(declared), []
    for s in stmts:
        if isinstance(s, l0.Let) and s.update and s.var in orphans - declared:
            s = replace(s, update=False)
            declared.add(s.var)
        elif isinstance(s, l0.For):
            s = replace(s, body=_declare(s.body, orphans, declared))
        out.append(s)
    return tuple(out)


def _all(body: tuple) -> Any:
    for s in body:
        yield s
        if isinstance(s, l0.For):
            yield from _all(s.body)


def _vars(x: Any) -> set[str]:
    return {y.name for y in walk(x) if isinstance(y, l0.Var)}
