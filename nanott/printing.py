"""The one printer: deterministic text for any IR node of any language.

Every expression node defines `__str__`; every statement node defines `head()` (its first line)
and, when it nests statements, a `body` field. Program roots define `lines()`. This module joins
them with indentation and a `# file:line` comment, so the same IR prints the same bytes every time.
"""
from __future__ import annotations

from typing import Any, Iterable

from nanott.ir import NOLOC

COMMENT_COLUMN = 56


def num(x: float | int) -> str:
    """Numbers print the same way everywhere: ints as ints, floats as 9 significant digits."""
    if isinstance(x, bool):
        return str(x).lower()
    if isinstance(x, int):
        return str(x)
    return format(float(x), ".9g")


def with_loc(text: str, loc) -> str:
    if loc == NOLOC or loc is None:
        return text
    return f"{text:<{COMMENT_COLUMN - 1}} # {loc}"


def stmt_lines(stmts: Iterable[Any], depth: int = 1) -> list[str]:
    out: list[str] = []
    for s in stmts:
        out.append(with_loc("  " * depth + s.head(), s.loc))
        nested = getattr(s, "body", None)
        if isinstance(nested, tuple):
            out.extend(stmt_lines(nested, depth + 1))
    return out


def render(program: Any) -> str:
    return "\n".join(program.lines()) + "\n"


def seq(xs: Iterable[Any], sep: str = ", ") -> str:
    return sep.join(str(x) for x in xs)


def shape(dims: Iterable[int]) -> str:
    return "x".join(str(d) for d in dims)
