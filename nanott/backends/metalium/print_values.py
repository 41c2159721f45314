"""A `T.print` in C++: the DPRINT calls that show what every level's interpreter shows.

A buffer (a CB from L4 on) prints from the unpack thread, which reads the CB's waited front: its
header line, then per tile `DPRINT << TSLICE(cb, tile, SliceRange::hw0_32_8())` after the tile's
slice in the buffer (nanott/languages/printed.py; D3 put the cb_wait_front before it).

A scalar's value:

Each part of the expression has a kind, as the interpreters compute it (nanott/language/
print_values.py says what may be printed): a float (a float constant, a true division, a cast, or
arithmetic with a float in it) is float32 arithmetic, `float` in C++; an int is `int32_t`
arithmetic (the kernel's indices are `uint32_t`, converted where they are read, so a difference
may go below zero as in Python), with Python's floor `//` and `%` written out where an operand
may be negative; a comparison is a `bool`, printed as the int 1 or 0. Where an int meets a float it
is converted, as NumPy converts it.
"""
from __future__ import annotations

from typing import Any, Callable

from nanott.ir import NOLOC, CheckError
from nanott.languages import l9
from nanott.languages.printed import STEP, header, tile_prefix
from nanott.target import TILE

CONDITIONS = {"<": "<", "<=": "<=", ">": ">", ">=": ">=", "==": "==", "!=": "!=", "and": "&&", "or": "||"}


def print_cb(call: Callable[..., str], cb: Any, cb_name: str, text: str) -> list[tuple[str, str]]:
    """The DPRINT calls (and notes) of a print of CB `cb`, whose C++ constant is `cb_name`."""
    rows, cols = (n // TILE for n in cb.shape)
    return [(call("dprint_text", text=header(text, cb.dtype, cb.shape)), "")] + [
        (call("dprint_tile", text=tile_prefix(text, ti, tj), cb=cb_name, tile=ti * cols + tj),
         f"tile {ti * cols + tj} of the waited block: every {STEP}th row and column")
        for ti in range(rows) for tj in range(cols)]


def kind(e: Any) -> str:
    """float, int or bool: the type the interpreters give a printed expression."""
    match e:
        case l9.Const(_, dtype):
            return "int" if dtype == "int32" else "float"
        case l9.BinOp(op, _, _) if op in CONDITIONS:
            return "bool"
        case l9.BinOp(op, a, b):
            return "float" if op == "/" or "float" in (kind(a), kind(b)) else "int"
        case l9.Cast():
            return "float"
        case l9.Select(_, a, b):
            return "float" if "float" in (kind(a), kind(b)) else "int"
    return "int"


def non_negative(e: Any) -> bool:
    """Whether an int part is never below zero: indices, non-negative constants, and + * // % min
    max of such (so C++'s `/` and `%` are Python's there)."""
    match e:
        case l9.Const(value, _):
            return value >= 0
        case l9.BinOp(op, a, b) if op in ("+", "*", "//", "%", "min", "max", "&", "|", "^", ">>"):
            return non_negative(a) and non_negative(b)
    return isinstance(e, (l9.Var, l9.CoreArg))


class PrintValue:
    """C++ text of a print value; `leaf` spells a part that is never negative in the kernel's
    uint32_t arithmetic (an index, a runtime argument, `bx * 9 + k`)."""

    def __init__(self, leaf: Callable[[Any], str]):
        self.leaf = leaf

    def dprint_argument(self, e: Any) -> tuple[str, str]:
        """The argument of DPRINT and a note naming its kind."""
        k = kind(e)
        if k == "float":
            return self.float(e), "a float32"
        return f"static_cast<int32_t>({self.bool(e) if k == 'bool' else self.int(e, True)})", ""

    def int(self, e: Any, top: bool = False) -> str:
        if isinstance(e, l9.Const):
            return str(e.value) if e.value >= 0 else f"({e.value})"
        if non_negative(e):                           # the kernel's own uint32_t arithmetic
            text = self.leaf(e, top)
            return text if top else f"static_cast<int32_t>({text})"
        match e:
            case l9.BinOp(op, a, b) if op in ("min", "max"):
                x, y = self.int(a), self.int(b)
                return f"({x} {'<' if op == 'min' else '>'} {y} ? {x} : {y})"
            case l9.BinOp(op, a, b) if op in ("//", "%") and not (non_negative(a) and non_negative(b)):
                x, y = self.int(a), self.int(b)
                off = f"({x} % {y} != 0 && ({x} < 0) != ({y} < 0))"     # C truncates; Python floors
                return f"({x} / {y} - {off})" if op == "//" else f"({x} % {y} + ({off} ? {y} : 0))"
            case l9.BinOp(op, a, b) if op in ("+", "-", "*", "//", "%", "&", "|", "^", "<<", ">>"):
                return f"({self.int(a)} {'/' if op == '//' else op} {self.int(b)})"  # int32: Python's bits
            case l9.Select(c, a, b):
                return f"({self.bool(c)} ? {self.int(a)} : {self.int(b)})"
        raise CheckError(f"G1 cannot print the int value {e} (at {getattr(e, 'loc', NOLOC)})")

    def float(self, e: Any) -> str:
        from nanott.backends.metalium.kernels import float_literal
        match e:
            case l9.Const(value, dtype) if dtype != "int32":
                return float_literal(value)
            case _ if kind(e) == "int":
                return f"static_cast<float>({self.int(e, non_negative(e))})"
            case _ if kind(e) == "bool":
                return f"static_cast<float>({self.bool(e)})"
            case l9.BinOp(op, a, b) if op in ("min", "max"):
                x, y = self.float(a), self.float(b)
                return f"({x} {'<' if op == 'min' else '>'} {y} ? {x} : {y})"
            case l9.BinOp(op, a, b) if op in ("+", "-", "*", "/"):
                return f"({self.float(a)} {op} {self.float(b)})"
            case l9.Cast("int32", x):
                return f"static_cast<float>(static_cast<int32_t>({self.float(x)}))"
            case l9.Cast("float32", x):
                return self.float(x)
            case l9.Select(c, a, b):
                return f"({self.bool(c)} ? {self.float(a)} : {self.float(b)})"
        raise CheckError(f"G1 cannot print the float value {e} (at {getattr(e, 'loc', NOLOC)})")

    def bool(self, e: Any) -> str:
        match e:
            case l9.BinOp(op, a, b) if op in ("and", "or"):
                return f"({self.bool(a)} {CONDITIONS[op]} {self.bool(b)})"
            case l9.BinOp(op, a, b) if op in CONDITIONS:
                side = self.float if "float" in (kind(a), kind(b)) else self.int
                return f"({side(a)} {CONDITIONS[op]} {side(b)})"
        return f"({self.int(e) if kind(e) == 'int' else self.float(e)} != 0)"
