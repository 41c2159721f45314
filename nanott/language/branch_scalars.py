"""Scalars assigned under an `if` on a run-time value, and `if`s on a run-time scalar, as P0 lowers them.

P0 runs both branches of such an `if` (predicate.py), so a name a branch assigns would hold the last
branch's value. Instead each assignment chooses, where the branch's condition fails, the value the
name held before the `if`: a let of a select, read by whatever follows.

    has_valid = False                       let has_valid = 0                       (before a loop: carried)
    for k in T.serial(n):                   for k in range(n):
        i_s = Idx[bx, k]                        let i_s = Idx[bx, k]
        if i_s >= 0:                  ->        let has_valid_1 = has_valid
            has_valid = True                    for once in range(if_then_else(i_s >= 0, 1, 0)):
            T.copy(...)                             set has_valid_1 = 1
                                                    T.copy ...
                                                set has_valid = has_valid_1
    if has_valid:                           ... if_then_else(has_valid != 0, ...)
        ...

Running the else branch after the then branch is exact: its select keeps the then branch's value
where its own condition (the negation) fails. Nested `if`s choose under the conjunction of every
enclosing branch's condition. A branch that runs as a loop (once_if: it holds tile operations) keeps
its lets inside the loop, so each scalar it assigns is declared before the loop with its value
before, and set in the loop (`set x = v`), as a scalar carried across a loop's iterations is. A Python bool stands for
the int32 0 or 1 (a scalar on a RISC-V core), and `if x:` on a run-time scalar is `if x != 0:`.
"""
from __future__ import annotations

from typing import Any, Callable

from nanott.ir import replace, walk
from nanott.languages import l0
from nanott.language.values import Cond, Sym, Unassigned, is_float, to_expr

def as_value(v: Any) -> Any:
    """A Python bool as the int32 it stands for, a T.alloc_var set by T.clear as its value; anything
    else as it is."""
    if isinstance(v, Unassigned) and v.value is not None:
        v = v.value
    return int(v) if isinstance(v, bool) else v


def truth(cond: Any) -> Any:
    """`if x:` on a run-time scalar x is `if x != 0:`; a condition or a Python value as it is."""
    return Cond("!=", cond, 0) if isinstance(cond, Sym) else cond


def both(conds: list) -> l0.Expr:
    """The conjunction of the enclosing branches' conditions, innermost last."""
    out = conds[0]
    for c in conds[1:]:
        out = l0.BinOp("and", out, c, loc=c.loc)
    return out


def value_of(thunk: Callable[[], Any]) -> Any:
    """A name's value (`lambda: x`), or an Unassigned when the name is unbound: a name assigned only
    under an `if` in a loop body (rewrite.carried counts it as carried)."""
    try:
        return thunk()
    except NameError:
        return Unassigned("")


def unset(v: Unassigned, chosen: bool) -> Any:
    """The value before a loop of a T.alloc_var never assigned before it: NT304 when the loop reads
    it; 0 when the loop only assigns it under an `if` (`if lse != 0: max_split = k`). TileLang leaves
    such a variable unset (a register holding anything) where no iteration assigns it; nanott starts it
    at 0, so that every level, and the C++, compute the same."""
    if not chosen:
        v._read()
    return 0.0 if v.dtype.startswith(("float", "bfloat")) else 0


def reads_any(e: l0.Expr, names: set[str]) -> bool:
    return any(isinstance(x, l0.Var) and x.name in names for x in walk(e))


def selected(value: Any, old: Callable[[], Any] | None, conds: list, loc) -> tuple[l0.Expr, bool]:
    """(the value, whether it is a choice) a name holds after `name = value` under the branch conditions conds: value where
    they all hold, the name's value before elsewhere. A name with no value before (a temporary of
    the branch: `page = T.floordiv(idx, ratio)`) holds value: elsewhere it is what an unassigned
    variable of the GPU kernel is, unspecified."""
    before = as_value(value_of(old)) if old is not None else Unassigned("")
    if isinstance(before, Unassigned):
        return to_expr(as_value(value)), False
    return l0.Select(both(conds), to_expr(as_value(value)), to_expr(as_value(before)), loc=loc), True


def declared(body: tuple, selects: set[str]) -> tuple[list, tuple]:
    """For a branch that runs as a loop (once_if: its lets would end with the loop), each scalar
    select `let x = if_then_else(c, v, old)` of its top level as `let x = old` before the loop and
    `set x = v` in it, as a carried scalar is: (the lets before, the body). An `old` made inside the
    branch (a T.alloc_var first set there, by T.clear, then carried by a loop of the branch) had no
    value before the `if`: the let before starts at 0, as `unset` starts such a variable."""
    before, out = [], []
    inner = {x.var for x in walk(body) if isinstance(x, l0.Let) and not x.update}
    for s in body:
        if isinstance(s, l0.Let) and s.var in selects and isinstance(s.value, l0.Select):
            before.append(replace(s, value=s.value.other if not reads_any(s.value.other, inner) else
                                  l0.Const(0.0, "float32") if is_float(s.value.then) else l0.Const(0, "int32")))
            out.append(replace(s, value=s.value.then, update=True))
        else:
            out.append(s)
    return before, tuple(out)


def known(body: tuple, cond: l0.Expr, selects: set[str]) -> tuple:
    """The body of a branch that runs as a loop (once_if), where its condition holds: a select
    `let x = if_then_else(cond, v, old)` of a name assigned in a loop of the branch chooses v, and
    becomes `let x = v` (its `old`, a copy of x from before, is no longer read: a scalar a loop of a
    persistent kernel's guarded wave reads from DRAM, `lse = glse[bid, hid, k]`, costs no masks
    nor copies per branch). Kept when the body assigns a name the condition reads: there the
    condition may no longer hold."""
    names = {x.name for x in walk(cond) if isinstance(x, l0.Var)}
    if any(isinstance(x, l0.Let) and x.var in names for x in walk(body)):
        return body

    def fold(s: Any) -> Any:
        if isinstance(s, l0.Let) and s.var in selects and isinstance(s.value, l0.Select) and s.value.cond == cond:
            return replace(s, value=s.value.then)
        return replace(s, body=tuple(fold(x) for x in s.body)) if isinstance(s, l0.For) else s

    return tuple(replace(s, body=tuple(fold(x) for x in s.body)) if isinstance(s, l0.For) else s for s in body)
