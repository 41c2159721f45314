"""Fresh names for what a pass adds (loop variables, block ids), chosen so they can never capture
a name the program already binds or reads. One module, so every pass numbers names the same way.
"""
from __future__ import annotations

from typing import Any

from nanott.ir import field_names, walk


def names_in(program: Any, own_scope: tuple[type, ...] = ()) -> set[str]:
    """Every name the program binds or reads: tensors, buffers, CBs, loop and group variables,
    lets, tile temporaries. Nodes of an `own_scope` type are skipped whole: their names are
    their own (two tile groups may both use ti and tj)."""
    names: set[str] = set()
    read = _READ
    for x in walk(program, skip=own_scope):
        attrs = read.get(type(x))
        if attrs is None:
            attrs = read[type(x)] = _attributes(type(x))
        for f in attrs:
            v = getattr(x, f, None)
            if f in _ONE:
                if isinstance(v, str):
                    names.add(v)
            else:
                names.update(v)
    return names


_ONE = ("var", "name", "dst")                      # a name each (when a str)
_MANY = ("vars", "block_vars")                     # names each
_READ: dict[type, tuple[str, ...]] = {}            # node class -> those of its attributes to read


def _attributes(cls: type) -> tuple[str, ...]:
    """The attributes of _ONE and _MANY a node of class cls can have: its fields, and anything its
    class defines under those names (a property); the others read as absent on every node."""
    fields = field_names(cls) or ()
    return tuple(f for f in (*_ONE, *_MANY) if f in fields or hasattr(cls, f))


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
