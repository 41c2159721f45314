"""`@T.macro`: a function whose body is written into the kernel where it is called.

TileLang expands a macro at each call site, as if its statements were written there; nanott does the
same. The macro's function is rewritten as a kernel body is (rewrite.py: its loops, lets, stores and
branches reach the builder) and run against the kernel being parsed, with the arguments of the call
(buffers, loop variables, Python values) and its own globals and closure. Its statements keep the
macro's own lines, in the macro's own file, so a diagnostic points into the macro. Nothing of it
reaches L0 but the statements it emits: after P0 a macro is invisible.
"""
from __future__ import annotations

from typing import Any, Callable

from nanott.language.builder import current
from nanott.language.rewrite import rewrite


class Macro:
    """What `@T.macro` makes of a function: called inside a kernel, its body is traced there."""

    def __init__(self, func: Callable):
        self.func = func
        self.__name__, self.__doc__, self.__wrapped__ = func.__name__, func.__doc__, func

    def __repr__(self) -> str:
        return f"<T.macro {self.__name__}>"

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        b = current(f"the T.macro {self.__name__}")
        maker, _, _, file = rewrite(self.func)
        values = [cell.cell_contents for cell in self.func.__closure__ or ()]
        caller_file, caller_loc = b.file, b.loc
        b.file = file
        try:
            return maker(b, *values)(*args, **kwargs)
        finally:
            b.file = caller_file
            b.at(caller_loc.line, caller_loc.col)


def macro(func: Callable | None = None, *, hygienic: bool = True) -> Any:
    """`@T.macro` and `@T.macro(hygienic=...)`: names inside a macro are its own either way (each
    let and loop variable it makes gets a fresh L0 name, builder.unique)."""
    return Macro(func) if func is not None else Macro
