"""Fresh names for what a pass adds (loop variables, block ids), chosen so they can never capture
a name the program already binds or reads. One module, so every pass numbers names the same way.
"""
from __future__ import annotations

from typing import Any

from nanott.ir import walk


def names_in(program: Any, own_scope: tuple[type, ...] = ()) -> set[str]:
    """Every name the program binds or reads: tensors, buffers, CBs, loop and group variables,
    lets, tile temporaries. Nodes of an `own_scope` type are skipped whole: their names are
    their own (two tile groups may both use ti and tj)."""
    names: set[str] = set()
    for x in walk(program, skip=own_scope):
        for f in ("var", "name", "dst"):
            if isinstance(getattr(x, f, None), str):
                names.add(getattr(x, f))
        names.update(getattr(x, "vars", ()))
        names.update(v for v in getattr(x, "block_vars", ()))
    return names


class NameSupply:
    """Hands out names that clash with nothing used so far, and remembers them."""

    def __init__(self, used: set[str]):
        self.used = set(used)
        self.counters: dict[str, int] = {}

    def fresh(self, base: str) -> str:
        """`base`, else `base1`, `base2`, ...: for a name a learner should recognise (blk, ti)."""
        name, n = base, 0
        while name in self.used:
            n += 1
            name = f"{base}{n}"
        self.used.add(name)
        return name

    def numbered(self, kind: str) -> str:
        """`kind0`, `kind1`, ...: for the many loops a pass adds (i0, j0, sb0)."""
        while True:
            n = self.counters.get(kind, 0)
            self.counters[kind] = n + 1
            if f"{kind}{n}" not in self.used:
                self.used.add(f"{kind}{n}")
                return f"{kind}{n}"
