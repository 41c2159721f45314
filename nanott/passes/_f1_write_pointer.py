"""Where a circular buffer's write pointer may stand, followed through a kernel for F1's rule 3.

The ring's pointer moves by whole pushes, so after a push of n pages it stands n pages further on
(mod the ring); after a loop whose trip pushes t pages it may stand at any multiple of gcd(t, pages)
from where it stood; after an `if` it stands where either path left it. A set of positions, or
None when it cannot be followed (a loop of unknown trips that pushes): rule 3 then falls back to
its one-push-size argument (`steps`: the page counts each CB's pointers advance by). A reserve of n pages is a crossing exactly when some position x has
x + n > pages.
"""
from __future__ import annotations

from math import gcd

from nanott.ir import walk
from nanott.languages import l9

Positions = frozenset | None


def steps(program: l9.Program) -> dict[tuple[str, int], set[int]]:
    """("push" | "pop", cb) -> the page counts the CB's pointers advance by."""
    out: dict[tuple[str, int], set[int]] = {}
    for x in walk(tuple(k.body for k in program.kernels)):
        if isinstance(x, (l9.CbPush, l9.CbPop)):
            out.setdefault(("push" if isinstance(x, l9.CbPush) else "pop", x.cb), set()).add(x.pages)
    return out


def net_pushes(stmts: tuple) -> dict[int, int | None]:
    """Per CB, the pages the statements push in all (None: not known, a loop of unknown trips or an
    `if` that pushes)."""
    out: dict[int, int | None] = {}
    for s in stmts:
        inner = ({s.cb: s.pages} if isinstance(s, l9.CbPush) else
                 net_pushes(s.body) if isinstance(s, (l9.For, l9.When)) else {})
        for cb, t in inner.items():
            if t != 0:
                trips = s.extent.value if isinstance(s, l9.For) and isinstance(s.extent, l9.Const) else \
                    None if isinstance(s, (l9.For, l9.When)) else 1
                out[cb] = None if t is None or trips is None or out.get(cb, 0) is None else out.get(cb, 0) + t * trips
    return out


def around(at: frozenset, step: int, pages: int) -> frozenset:
    """The pointer positions `at` after any number of moves by `step` pages round a ring of `pages`."""
    g = gcd(step, pages)
    return frozenset((x + k * g) % pages for x in at for k in range(pages // g)) if g else at


def moved(at: Positions, n: int, pages: int) -> Positions:
    """The positions after a push of n pages."""
    return None if at is None else frozenset((x + n) % pages for x in at)


def after_any_trips(at: dict[int, Positions], body: tuple, pages: dict[int, int]) -> dict[int, Positions]:
    """Each CB's positions after any number of trips of a loop with this body."""
    out = dict(at)
    for cb, t in net_pushes(body).items():
        if out[cb] is not None:
            out[cb] = None if t is None else around(out[cb], t, pages[cb])
    return out


def either(taken: dict[int, Positions], skipped: dict[int, Positions]) -> dict[int, Positions]:
    """The positions after an `if`: where the taken body left the pointer, or where it stood."""
    return {i: None if a is None or skipped[i] is None else a | skipped[i] for i, a in taken.items()}
