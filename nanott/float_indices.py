"""NT123: an index, a copy's start or a loop bound whose value is a float (a checked refusal).

`start = Starts[bx]` with Starts a float tensor, then `T.copy(X[start:start + 32, :], x)`: TileLang's
type checker refuses a float index; nanott's interpreters would truncate it silently and run. P0
refuses it instead, at the statement that uses it. Which values are floats is found by type
inference on the L0 kernel: an element of a float tensor or buffer, a float constant, a cast to a
float dtype, arithmetic with a float operand, and the lets holding any of these. A comparison is
not a number (NT303 covers that); an explicit `T.cast(x, "int32")` is an integer, so the
truncation the user means stays possible.
"""
from __future__ import annotations

from typing import Any

from nanott.diagnostics import NanottError
from nanott.dtypes import LOWERED
from nanott.ir import walk
from nanott.languages import l0

CONDITIONS = ("<", "<=", ">", ">=", "==", "!=", "and", "or")


def check_float_indices(k: l0.Kernel) -> None:
    """NT123 at the first statement whose index, copy start or loop bound is a float value."""
    dtypes = {p.name: p.dtype for p in k.params} | {a.name: a.dtype for a in walk(k.body) if isinstance(a, l0.Alloc)}
    lets: dict[str, Any] = {}
    for s in walk(k.body):
        if isinstance(s, l0.Let) and not s.update:
            lets[s.var] = s.value
        for what, e in uses(s):
            found = float_source(e, lets, dtypes)
            if found is not None:
                source, buffer = found
                raise NanottError("NT123", f"{what} {e} is a float value ({source}); an index or loop bound must be an "
                                  "integer, and nanott would truncate it silently", s.loc,
                                  hint=(f"make {buffer} an integer tensor (T.int32) if it holds indices, or write "
                                        if buffer else "write ") + 'T.cast(..., "int32") where truncating is meant')


def uses(s: Any) -> list[tuple[str, Any]]:
    """(what, expression) of each index, copy start and loop bound statement s holds."""
    out = []
    if isinstance(s, l0.For):
        out.append(("the loop bound", s.extent))
    for r in (s.src, s.dst) if isinstance(s, (l0.Copy, l0.AtomicAdd)) else ():
        out += [(f"the copy's start along dim {d} of {r.buffer},", e) for d, e in enumerate(r.starts)]
    if isinstance(s, (l0.Store, l0.AtomicStore)):
        out += [(f"index {d} of {s.buffer},", e) for d, e in enumerate(s.indices)]
    for x in ([s.value] if isinstance(s, (l0.Let, l0.Store, l0.AtomicStore, l0.Fill)) else []):
        out += [(f"index {d} of {y.buffer},", e) for y in walk(x) if isinstance(y, l0.Load)
                for d, e in enumerate(y.indices)]
    return out


def float_source(e: Any, lets: dict, dtypes: dict, depth: int = 0) -> tuple[str, str] | None:
    """(what makes e a float: "an element of the float32 buffer Starts", that buffer or ""), or None
    if e is an integer."""
    if depth > 50:
        return None
    match e:
        case l0.Const(value, _):
            return (f"the constant {value}", "") if isinstance(value, float) else None
        case l0.Var(name):
            return None if name not in lets else float_source(lets[name], lets, dtypes, depth + 1)
        case l0.Load(buffer, _):
            dt = dtypes.get(buffer)
            return (f"an element of the {dt} buffer {buffer}", buffer) if dt and LOWERED[dt].kind == "float" else None
        case l0.Cast(dtype, _):
            return (f"a cast to {dtype}", "") if LOWERED[dtype].kind == "float" else None
        case l0.BinOp(op, lhs, rhs) if op not in CONDITIONS:
            return float_source(lhs, lets, dtypes, depth + 1) or float_source(rhs, lets, dtypes, depth + 1)
        case l0.UnOp(_, value):
            return float_source(value, lets, dtypes, depth + 1)
        case l0.Select(_, then, other):
            return float_source(then, lets, dtypes, depth + 1) or float_source(other, lets, dtypes, depth + 1)
    return None
