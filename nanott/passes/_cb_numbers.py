"""CB indices moved: C2c (buffers sharing a CB) and D5a (an accumulator kept in DST) both leave
fewer CBs than they found, and the indices of a program's CBs must stay 0..n-1 in declaration
order. One rewrite renames every field naming a CB, at any level from L5 on.
"""
from __future__ import annotations

from typing import Any

from nanott.ir import field_names, replace

CB_FIELDS = ("cb", "a_cb", "b_cb", "scaler_cb", "out")     # int fields naming a CB (L5's `out` of a
                                                           # broadcast or reduction: the CB it packs to)


def renumber(x: Any, number: dict[int, int]) -> Any:
    """x with every CB index (the int fields naming CBs, an init's `cbs`) mapped by `number`: the CBs
    after a removed one move down; two indices mapped to one become one CB."""
    if isinstance(x, tuple):
        return tuple(renumber(y, number) for y in x)
    names = field_names(type(x))
    if names is None:
        return x
    changes = {n: number[v] if n in CB_FIELDS and isinstance(v, int) else
               tuple(number[c] for c in v) if n == "cbs" else renumber(v, number)
               for n in names for v in (getattr(x, n),)}
    if all(v is getattr(x, n) for n, v in changes.items()):
        return x                                 # nothing renumbered below: x itself
    return replace(x, **changes)
