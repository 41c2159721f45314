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

from nanott.diagnostics import NanottError, not_yet
from nanott.ir import field_names, replace, walk
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


def called_lets(body: tuple) -> dict[str, Any]:
    """The kernel's lets whose value calls a function (`log_decay = log2(1 - exp2(-5 - i_h))`, a
    T.alloc_var of block indices), each with the ones before it put in place, when nothing but
    T.Parallel values reads them: C2 puts them in place there, where the reader computes them in a
    generated block (a core's scalar lets are integer arithmetic, and a tile has no scalar)."""
    lets: dict[str, Any] = {}
    for s in walk(body, skip=(l4.Parallel,)):
        if isinstance(s, l4.Let) and any(isinstance(x, l4.UnOp) for x in walk(s.value)):
            lets[s.var] = subst(s.value, lets)
    kept = [x.value for x in walk(body, skip=(l4.Parallel,)) if isinstance(x, l4.Let) and x.var not in lets]
    read = {x.name for x in walk((body, kept), skip=(l4.Parallel, l4.Let)) if isinstance(x, l4.Var)}
    return {n: v for n, v in lets.items() if n not in read}


COMPUTES = ("+", "-", "*", "/", "//", "%", "min", "max",      # (j % 2: which nibble of a byte, int4 weights)
            "&", "|", "^", "<<", ">>")


def generated_parts(e: Any, p: l4.Parallel, make: Any, read: set[str]) -> Any:
    """e with each largest part that reads no buffer but a variable (an index, a block index, a
    let) and only computes (arithmetic, functions, casts: no condition) replaced by make(part): a
    load of a block the reader generates (`s[i, j] * exp2((i - j) * d)`: the decay mask). Only in a
    2-D T.Parallel, whose blocks GenerateToCb makes; never a part reading a let of `read` (a value
    read from DRAM: the reader does not compute with those)."""
    if len(p.vars) != 2 or isinstance(e, (l4.Load, l4.Const)):
        return e
    parts = list(walk(e))
    if not any(isinstance(x, l4.Load) for x in parts):
        computes = all(not isinstance(x, (l4.Select, l4.BinOp)) or isinstance(x, l4.BinOp) and x.op in COMPUTES
                       for x in parts)
        names = {x.name for x in parts if isinstance(x, l4.Var)}
        return make(e) if computes and names and not names & read else e
    names = field_names(type(e)) or ()
    return replace(e, **{n: generated_parts(getattr(e, n), p, make, read) for n in names
                         if not isinstance(getattr(e, n), (str, int, float, tuple))})


def lets_of_elements(body: tuple) -> dict[str, Any]:
    """The lets whose value reads a DRAM element (`s = S[bx]`), directly or through another let,
    each with the let that reads the element (its location)."""
    found: dict[str, Any] = {}
    for s in walk(body):
        if isinstance(s, l4.Let):
            inner = list(walk(s.value))
            at = s.loc if any(isinstance(x, l4.Element) for x in inner) else \
                next((found[x.name] for x in inner if isinstance(x, l4.Var) and x.name in found), None)
            if at is not None:
                found.setdefault(s.var, at)
    return found


def refuse_element_scalars(s: l4.Store, read: dict[str, Any]) -> None:
    """NT318 for a scalar read from DRAM (or computed from one: `read`, lets_of_elements) in the
    value of a store outside a condition: the reader reads it and computes integer indices with it;
    a float one P0b made a vector (_p0b_scalars.py), so what is left is an integer one."""
    conds = {id(y) for c in walk(s.value) if isinstance(c, l4.Select) for y in walk(c.cond)}
    for x in walk(s.value):
        if isinstance(x, l4.Var) and x.name in read and id(x) not in conds:
            raise NanottError("NT318", f"{x.name}, a value read from DRAM here (or computed from one), is used in "
                              f"an elementwise value (line {s.loc.line}): the reader reads integer scalars to "
                              "choose what to load, and P0b makes a float one a vector for compute, but not an "
                              "integer one yet", read[x.name], "read the value from a float tensor, or read the "
                              "elements into a fragment (T.copy, or a T.Parallel over a row of the tensor) and "
                              "compute on it as a vector")
