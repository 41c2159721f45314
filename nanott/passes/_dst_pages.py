"""Index expressions of the DST calls run on constants: which DST slot a CB page goes to (or comes
from) in a run of L9 statements (D5a compares four such maps before it keeps an accumulator), and
an index with the lets around it put in (D5b checks the shape of a matmul subblock)."""
from __future__ import annotations

from typing import Any, Iterator

from nanott.ir import field_names, replace
from nanott.languages import l9


def slots(stmts: tuple | list, kind: type, c: int) -> dict[int, int] | None:
    """page of c -> DST slot for every `kind` call on c, the loops and lets around it run
    (None when an index depends on anything else)."""
    out: dict[int, int] = {}
    try:
        for call, env in executed(stmts, {}):
            if isinstance(call, kind) and call.cb == c:
                page = evaluate(call.slot if kind is l9.PackTile else call.index, env)
                out[page] = evaluate(call.dst, env)
    except KeyError:
        return None
    return out


def executed(stmts: tuple | list, env: dict) -> Iterator[tuple[Any, dict]]:
    """Every call of stmts, with the values of the loop variables and lets around it."""
    for s in stmts:
        if isinstance(s, l9.Let):
            env = {**env, s.var: evaluate(s.value, env)}
        elif isinstance(s, l9.For) and isinstance(s.extent, l9.Const):
            for v in range(s.extent.value):
                yield from executed(s.body, {**env, s.var: v})
        elif not isinstance(s, l9.For):
            yield s, env


def evaluate(e: Any, env: dict) -> int:
    """An index expression of constants, loop variables and lets (KeyError for anything else)."""
    if isinstance(e, l9.Const):
        return e.value
    if isinstance(e, l9.Var):
        return env[e.name]
    if isinstance(e, l9.BinOp) and e.op in ("+", "-", "*", "//", "%", "&", "|", "^", "<<", ">>"):
        a, b = evaluate(e.lhs, env), evaluate(e.rhs, env)
        return {"+": a + b, "-": a - b, "*": a * b, "//": a // b if b else 0, "%": a % b if b else 0,
                "&": a & b, "|": a | b, "^": a ^ b, "<<": a << b, ">>": a >> b}[e.op]
    raise KeyError(str(e))


def subst(x: Any, values: dict[str, Any]) -> Any:
    """x with every Var named in `values` replaced by its value."""
    if isinstance(x, l9.Var) and x.name in values:
        return values[x.name]
    names = field_names(type(x))
    return x if names is None else replace(x, **{n: subst(getattr(x, n), values) for n in names})
