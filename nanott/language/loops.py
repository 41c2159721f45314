"""The loops of a kernel as the front end sees them: `T.Parallel`, `T.Pipelined`, `T.serial` and
`range` make a LoopSpec, opened by a `for` statement (builder._loop); `loop_range` turns range-style
bounds (a start, a stop, a step of 1) into L0's loop from 0 and the start its variable is offset by.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from nanott.diagnostics import NanottError
from nanott.languages import l0
from nanott.language.values import Sym, fold_int, to_expr


@dataclass
class LoopSpec:
    """What `T.Parallel`, `T.Pipelined` and `T.serial` return: a loop to open in a `for`."""
    kind: str                      # parallel | pipelined | serial
    extents: tuple[int, ...]
    num_stages: int = 0
    start: Any = 0                 # a serial loop from `start` (an int, or an L0 expression known
                                   # when the kernel runs): its variable is start + the L0 loop's

    def __iter__(self):
        raise NanottError("NT304", f"T.{self.kind.capitalize()} is only supported as the iterable "
                                   "of a `for` statement in the kernel body")


def run_time(x: Any) -> bool:
    """Whether a loop bound is a value known only when the kernel runs (of block indices, ...)."""
    return isinstance(x, Sym) and not isinstance(x.expr, l0.Const)


def loop_range(what: str, start: Any, stop: Any, step: Any) -> tuple[tuple[Any], int]:
    """The extent and start of a serial loop written with range-style bounds, by 1: L0's loops
    run from 0, so a loop from s (`T.Pipelined(1, n + 1)`) runs n - s trips and its variable is
    s + the L0 loop's (builder._loop). n may be a run-time value (causal attention stops at the
    diagonal block): then its L0 expression. So may s (causal attention's backward starts at the
    diagonal block): then the start is an L0 expression too, and the extent n - s."""
    if stop is None:
        start, stop = 0, start
    if run_time(start) and step in (None, 1):        # `T.Pipelined(by * block_M // block_N, n)`
        extent = l0.BinOp("-", to_expr(stop), start.expr)
        return (extent,), start.expr
    first = fold_int(start, f"the start of {what}")
    if run_time(stop) and step in (None, 1):
        extent = stop.expr if first == 0 else l0.BinOp("-", stop.expr, l0.Const(first, "int32"))
        return (extent,), first
    bounds = [fold_int(x, f"the {name} of {what}") for name, x in
              (("start", start), ("stop", stop), ("step", 1 if step is None else step))]
    if bounds[2] != 1:
        raise NanottError("NT304", f"{what} with step {bounds[2]} is not supported by nanott yet",
                          hint="loops step by 1: scale the index in the body instead")
    if bounds[1] - bounds[0] <= 0:
        raise NanottError("NT102", f"{what} needs a positive extent, got {bounds[1] - bounds[0]}")
    return (bounds[1] - bounds[0],), bounds[0]
