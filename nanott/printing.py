"""The one printer: deterministic text for any IR node of any language.

Every expression node defines `__str__`; every statement node defines `head()` (its first line)
and, when it nests statements, a `body` field. Program roots define `lines()`. This module joins
them with indentation and a `# file:line` comment where the source line changes from the line
printed before (a run of statements from one line of the kernel carries it once), so the same IR
prints the same bytes every time.
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
    """The statements, nested ones indented, each with its source line if it differs from the
    source line of the statement printed before it."""
    out: list[str] = []
    last = None
    for text, loc in _heads(stmts, depth):
        shown = None if loc is None or loc == NOLOC else str(loc)
        out.append(with_loc(text, loc) if shown is not None and shown != last else text)
        last = shown or last
    return out


def _heads(stmts: Iterable[Any], depth: int) -> Iterable[tuple[str, Any]]:
    for s in stmts:
        yield "  " * depth + s.head(), s.loc
        nested = getattr(s, "body", None)
        if isinstance(nested, tuple):
            yield from _heads(nested, depth + 1)


def render(program: Any) -> str:
    return "\n".join(program.lines()) + "\n"


def seq(xs: Iterable[Any], sep: str = ", ") -> str:
    return sep.join(str(x) for x in xs)


def shape(dims: Iterable[int]) -> str:
    return "x".join(str(d) for d in dims)
