"""T.Parallel bodies, for C2: which values are of indices alone, and the named temporaries.

A value of indices alone (some index of the T.Parallel, no buffer) is a block the reader can make.
A T.Parallel's named temporary: `q_idx = bx * block_M + i` inside the loop body (a Let
in L4) is put in place of each of its uses, so that every store is one expression of loads, indices
and constants, which C2 turns into tile operations or a generated block.

A temporary is a pure expression of the iteration, so a use reads what the definition would have
read, unless a store between the two wrote a buffer the temporary loads: that use is refused
(NT314) rather than given the newer value.
"""
from __future__ import annotations

from typing import Any

from nanott.diagnostics import not_yet
from nanott.ir import replace, walk
from nanott.languages import l4
from nanott.passes._affine import subst


def inline_lets(body: tuple) -> tuple:
    """The body's stores with the temporaries defined before them substituted."""
    values: dict[str, Any] = {}
    loads: dict[str, set[int]] = {}
    stale: set[str] = set()
    out = []
    for s in body:
        if isinstance(s, l4.Let):
            values[s.var] = subst(s.value, values)
            loads[s.var] = {x.cb for x in walk(values[s.var]) if isinstance(x, l4.Load)}
            stale.discard(s.var)
            continue
        if not isinstance(s, l4.Store):
            out.append(s)                        # C2 names it
            continue
        used = {x.name for x in walk((s.indices, s.value)) if isinstance(x, l4.Var)} & stale
        if used:
            raise not_yet(f"reading the temporary {sorted(used)[0]} after a store changed what it loads",
                          s.loc, "compute the temporary again after the store, under a new name")
        out.append(replace(s, indices=subst(s.indices, values), value=subst(s.value, values)))
        stale |= {v for v, cbs in loads.items() if s.cb in cbs}
    return tuple(out)


def of_indices_alone(s: l4.Store, p: l4.Parallel) -> bool:
    """A 2-D T.Parallel store whose value reads no buffer but some index of the T.Parallel, or
    chooses by a condition on block indices and loop variables (an `if` on them: predicate.py)."""
    names = {x.name for x in walk(s.value) if isinstance(x, l4.Var)}
    return (len(p.vars) == 2 and not any(isinstance(x, l4.Load) for x in walk(s.value))
            and (bool(names & set(p.vars)) or any(isinstance(x, l4.Select) for x in walk(s.value))))
