"""Runs of CB pages, one per trip of a loop (D5c): which pages each trip of a loop packs, writes or
reloads, found by running the loop's index expressions on constants, and the indices rewritten to
count from the trip's first page."""
from __future__ import annotations

from typing import Any

from nanott.ir import replace, walk
from nanott.languages import l9
from nanott.passes._dst_pages import evaluate, executed

I32 = "int32"


def touches(s: Any, c: int) -> bool:
    """s or a statement inside it names CB c."""
    return any(getattr(x, "cb", None) == c for x in walk(s))


def runs(loop: l9.For, kind: type, c: int, n: int, field: str = "slot") -> int | None:
    """s if trip t of the loop handles exactly the pages t*s .. t*s + s - 1 of c (in any order):
    the `field` index of its `kind` calls on c, run for each trip."""
    if not isinstance(loop.extent, l9.Const) or loop.extent.value < 2 or n % loop.extent.value:
        return None
    s = n // loop.extent.value
    if s < 2:
        return None                  # a barrier per page pays a write's latency per tile
    try:
        for t in range(loop.extent.value):
            pages = sorted(evaluate(getattr(x, field), env) for x, env in executed(loop.body, {loop.var: t})
                           if isinstance(x, kind) and x.cb == c)
            if pages != list(range(t * s, t * s + s)):
                return None
    except KeyError:
        return None
    return s


def shifted(body: tuple, kind: type, c: int, s: int, field: str = "slot") -> tuple:
    """body with the `field` index of its `kind` calls on c counted from the trip's first page: % s,
    as trip t's slots are t*s .. t*s + s - 1 (runs() checked it)."""
    def go(x: Any) -> Any:
        if isinstance(x, kind) and x.cb == c:
            return replace(x, **{field: l9.BinOp("%", getattr(x, field), l9.Const(s, I32))})
        if isinstance(x, l9.For):
            return replace(x, body=tuple(go(y) for y in x.body))
        return x
    return tuple(go(x) for x in body)
