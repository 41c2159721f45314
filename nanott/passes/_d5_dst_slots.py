"""DST slot allocation for D5: which of a tile's DST registers each tile temporary lives in.

A tile program's temporaries are assigned slots 0..r-1 by a linear scan over their live ranges (a
temporary lives from its first mention to its last, in body order). A new temporary takes the lowest
slot no live temporary holds; an in-place op (an SFPU scalar op `t1 = mul(t0, 2)`, an SFPU function
`t1 = exp(t0)` or cast, a bit operation with a constant, a matmul's accumulator) takes the slot of the operand it updates when that
operand dies there, since the DST has no register-to-register copy. A temporary mentioned both
inside a TFor and outside it lives through the whole loop; one defined and dead within one iteration
stays local. Stores come last in a tile program (D5 checks it), so a stored temporary lives through
all math.
"""
from __future__ import annotations

from typing import Any

from nanott.languages import l5

IN_PLACE = (l5.TileScalar, l5.TileUnary, l5.TileCast, l5.TileMatmul, l5.TileReduce)   # update a DST tile
ACCUMULATE = (l5.TileMatmul, l5.TileReduce)                 # the operand they update is `acc`


def dst_slots(body: tuple) -> dict[str, int]:
    """Temporary -> DST slot within one tile, by a linear scan over live ranges: a temporary
    takes the lowest slot no live temporary holds, an in-place op (SFPU scalar, matmul) its
    operand's slot. A temporary touched inside a TFor and outside it lives through the whole loop."""
    flat: list = []
    loops: list[tuple[int, int]] = []

    def visit(stmts: tuple) -> None:
        for x in stmts:
            if isinstance(x, l5.TFor):
                lo = len(flat)
                visit(x.body)
                loops.append((lo, len(flat) - 1))
            else:
                flat.append(x)
    visit(body)
    first: dict[str, int] = {}
    last: dict[str, int] = {}
    for i, x in enumerate(flat):
        for t in _reads(x) | _writes(x):
            first.setdefault(t, i)
            last[t] = i
    for _ in range(len(loops)):
        for lo, hi in loops:
            for t in first:
                local = lo <= first[t] and last[t] <= hi and t not in _reads(flat[first[t]])
                if first[t] <= hi and last[t] >= lo and not local:
                    first[t], last[t] = min(first[t], lo), max(last[t], hi)
    slots: dict[str, int] = {}
    for i, x in enumerate(flat):
        if not isinstance(x, l5.TAssign) or x.dst in slots:
            continue
        operand = getattr(x.op, "acc" if isinstance(x.op, ACCUMULATE) else "a", None)
        in_place = isinstance(x.op, IN_PLACE) or isinstance(x.op, l5.TileBits) and isinstance(x.op.b, int)
        if in_place and operand in slots and last[operand] == i:
            slots[x.dst] = slots[operand]
        else:
            busy = {slots[t] for t in slots if last[t] > i}
            slots[x.dst] = min(k for k in range(len(slots) + 1) if k not in busy)
    return slots


def _reads(x: Any) -> set[str]:
    """The temporaries a statement reads."""
    if isinstance(x, l5.TStore):
        return {x.src}
    if isinstance(x, l5.TAssign):
        return {getattr(x.op, f) for f in ("cond", "a", "b", "acc") if isinstance(getattr(x.op, f, None), str)}
    return set()


def _writes(x: Any) -> set[str]:
    """The temporary a statement assigns."""
    return {x.dst} if isinstance(x, l5.TAssign) else set()
