"""Sizes TileLang leaves to run time, fixed by nanott when it compiles: `T.dynamic("m")` (and
`T.symbolic`), and scalar parameters used as sizes (`max_seqlen_q: T.int32`, whose value sets the
grid of TileLang's variable-length attention: `T.Kernel(T.ceildiv(max_seqlen_q, block_M), ...)`).

A Tensix program's grid, CB sizes and loop bounds are fixed when it is built (the host deals the
blocks to cores, A2 plans L1), so nanott compiles a kernel for one value of each such size, as it
does for factory arguments and the eager style's T.const: the loader gives the `--set` values no
factory parameter takes to the kernel (`given`), T.dynamic folds to its value, and a scalar
parameter becomes that Python value in the body (it is no parameter of the L0 kernel: the
compiled program holds it). A size without a value is NT903, naming the `--set` it needs.
"""
from __future__ import annotations

import re
from contextlib import contextmanager
from typing import Any, Iterator

from nanott.diagnostics import NanottError
from nanott.language.values import fold_int

_GIVEN: list[tuple[dict[str, Any], set[str]]] = []      # (values, the names used), innermost last


@contextmanager
def given(values: dict[str, Any]) -> Iterator[set[str]]:
    """While the kernel's factory runs or its body is parsed: the sizes `values`; yields the set
    of names used so far, filled as T.dynamic and scalar parameters take them."""
    used: set[str] = set()
    _GIVEN.append((values, used))
    try:
        yield used
    finally:
        _GIVEN.pop()


def size(name: str, what: str) -> int | float:
    """The value given for `name`, or NT903 naming the --set it needs."""
    values, used = _GIVEN[-1] if _GIVEN else ({}, set())
    if name not in values:
        raise NanottError("NT903", f"the size {name} ({what}) has no value: nanott compiles a kernel for "
                                   "one value of it", hint=f"--set {name}=...")
    used.add(name)
    value = values[name]
    return value if isinstance(value, float) else fold_int(value, f"the size {name}")


def dynamic(names: str, dtype: Any = "int32") -> Any:
    """`m = T.dynamic("m")`, `m, n = T.dynamic("m, n")`: sizes fixed by --set (module docstring)."""
    values = tuple(size(n, "T.dynamic") for n in re.split(r"[,\s]+", names) if n)
    return values if len(values) > 1 else values[0]


symbolic = dynamic
