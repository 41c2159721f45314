"""What P0b cannot make of a float scalar read from DRAM (_p0b_scalars.py), each refused with NT318 at
the user's line: a scalar kept for the reader (read where no vector stands) that computes with a
float, since the reader computes integer indices only; a scalar computed from an element of an
on-chip buffer; scalars read by T.Parallel loops of different first extents (one vector of one
length holds each scalar). Also the one length: the first extent of the loops that read them.
"""
from __future__ import annotations

from typing import Any, Callable

from nanott.diagnostics import NanottError
from nanott.ir import walk
from nanott.languages import l0

HINT = ("compute it from elements of DRAM tensors and other scalars only, and use it in T.Parallel loops "
        "of one first extent; or T.copy the elements into a fragment yourself and compute on it as a vector")


def refuse_float_math(lets: list, scalar: set[str], tainted: set[str], floats: set[str]) -> None:
    """NT318 for a scalar kept beside its vector (read where no vector stands) that computes with a
    float read from DRAM: the reader reads such floats, to compare and choose, but computes integer
    indices only."""
    for s in reversed(lets):                           # the one nearest the use
        math = [x for x in walk(s.value) if isinstance(x, l0.UnOp) or isinstance(x, l0.BinOp)
                and x.op in ("+", "-", "*", "/", "min", "max")
                and any(isinstance(y, l0.Var) and y.name in tainted or isinstance(y, l0.Load) and y.buffer in floats
                        for y in walk(x))]
        if s.var in scalar and math:
            raise NanottError("NT318", f"{s.var}, computed here from a float read from DRAM ({math[0]}), is also "
                              "read where no vector can stand (a loop bound, an index, a condition, a scalar "
                              "kept for one): the reader reads floats from DRAM to compare and choose, and "
                              "computes only integer indices", s.loc, HINT)


def refuse_buffers(lets: list, vector: set[str], dram: dict) -> None:
    """NT318 for a let made a vector that reads an element of an on-chip buffer."""
    for s in lets:
        bad = next((x for x in walk(s.value) if isinstance(x, l0.Load) and x.buffer not in dram), None)
        if s.var in vector and bad:
            raise NanottError("NT318", f"{s.var}, a value read from DRAM (or computed from one) that elementwise "
                              f"compute reads, is computed here from an element of the on-chip buffer "
                              f"{bad.buffer}: nanott makes such a scalar a vector, and a vector of one element "
                              "of a buffer is not made yet", s.loc, HINT)


def width_of(parallels: list, vector: set[str], value_vars: Callable[[Any], Any]) -> int:
    """The first extent of the T.Parallel loops that read the scalars: one for all."""
    loops = [p for p in parallels if {x.name for x in value_vars(p.body)} & vector]
    if other := next((p for p in loops if p.extents[0] != loops[0].extents[0]), None):
        names = sorted({x.name for x in value_vars(loops[0].body)} & vector)
        raise NanottError("NT318", f"floats read from DRAM ({', '.join(names)}) are read by T.Parallel loops "
                          f"over {loops[0].extents[0]} and over {other.extents[0]} (first extents): nanott "
                          "holds each such scalar in one vector, of one length", other.loc, HINT)
    return loops[0].extents[0]
