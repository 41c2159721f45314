"""Closed signatures for the `T.*` operations: TileLang's parameters and the op's real CUDA knobs,
nothing else.

A misspelt keyword (`transpose_b=True`, `axis=1`) must not pass as a knob nanott records and
ignores: that is a silently wrong kernel. `@closed("mbar annotations")` wraps an operation whose
own parameters are TileLang's and names the CUDA-only keywords it also accepts (its `**knobs`);
anything else is NT113 with the nearest correct name, and so is an argument list Python itself
would refuse (too many positional arguments, a missing operand). Flags are bools, nothing else
(`flag`): `transpose_B="False"` is a string, and a string is true.
"""
from __future__ import annotations

import difflib
import linecache
import functools
import inspect
from typing import Any, Callable

import numpy as np

from nanott.diagnostics import NanottError
from nanott.ir import Loc
from nanott.language.builder import caller_loc


def closed(knobs: str = "") -> Callable[[Callable], Callable]:
    """Accept exactly the wrapped function's named parameters and the CUDA knobs listed."""
    extra = tuple(knobs.split())

    def wrap(f: Callable) -> Callable:
        sig = inspect.signature(f).replace(return_annotation=inspect.Signature.empty)
        named = tuple(n for n, p in sig.parameters.items() if p.kind is not p.VAR_KEYWORD)
        op = f"T.{f.__name__}"

        @functools.wraps(f)
        def checked(*args: Any, **kwargs: Any) -> Any:
            for k in kwargs:
                if k not in named and k not in extra:
                    raise unknown_keyword(op, k, named, extra)
            try:
                sig.bind(*args, **kwargs)
            except TypeError as e:
                raise NanottError("NT113", f"{op}: {e}".replace(f"{f.__name__}()", op), caller_loc(),
                                  hint=f"{op}{sig}".replace("**knobs", "**cuda_knobs")) from None
            return f(*args, **kwargs)

        checked.cuda_knobs = extra
        return checked
    return wrap


def unknown_keyword(op: str, key: str, named: tuple[str, ...], extra: tuple[str, ...]) -> NanottError:
    near = difflib.get_close_matches(key, named + extra, n=1, cutoff=0.5)
    near = near or [n for n in named + extra if n.lower() == key.lower()]
    takes = ", ".join(n for n in named if n not in ("args", "extents"))
    return NanottError("NT113", f"{op} has no parameter {key!r}",
                       at_word(caller_loc(), f"{key}="), hint=(f"did you mean {near[0]}? " if near else "")
                       + f"{op} takes {takes}" + (f" and the CUDA knobs {', '.join(extra)}" if extra else ""))


def flag(x: Any, name: str) -> bool:
    """A flag's value: a Python (or NumPy) bool, never a string, a number or a run-time value."""
    if isinstance(x, (bool, np.bool_)):
        return bool(x)
    raise NanottError("NT114", f"{name} must be True or False, got {type(x).__name__} {x!r:.40}",
                      at_word(caller_loc(), f"{name}="), hint=f"write {name}=True or {name}=False (a string such as "
                                         "\"False\" is true in Python)")


def at_word(loc: Loc, word: str) -> Loc:
    """`loc` moved onto `word` when its line holds it, so the caret points at the keyword itself."""
    col = linecache.getline(loc.file, loc.line).find(word, loc.col) if loc.line else -1
    return Loc(loc.file, loc.line, col) if col >= 0 else loc
