"""Bit operations in a tile elementwise map, for C2's _c2_tile_expr: `>> << & | ^` of integer
elements become the SFPU's int32 ops (L5 TileBits: right_shift_tile, bitwise_and_tile, ... with a
constant; binary_right_shift_tile, bitwise_and_binary_tile, ... with a second tile).

The SFPU's integer ops read int32 out of the DST, and a tile program's temporaries are float32: so
each operand is typecast to int32 first (TileCast int32, exact for the integers a tile of integer
elements holds), a chain of bit operations stays in int32 (an IntTemp), and the first float op or
store takes the result back (TileCast float32, the typecast from Int32: _TileProgram.temp_of).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from nanott.languages import l5

BITS = {"&": "and", "|": "or", "^": "xor", "<<": "shl", ">>": "shr"}


@dataclass(frozen=True)
class IntTemp:
    """A temporary holding int32 (a bit operation's result): float ops take it back to float32."""
    name: str


class TileBitOps:
    """A mixin of _TileProgram: it uses the program's `temp` and `temp_of`."""

    def bits(self, op: str, a: Any, b: Any) -> IntTemp:
        """A bit operation on the SFPU's int32: a constant b is the op's parameter, a tile b a
        second DST tile; a constant a is filled into a tile first."""
        x = self.as_int(a)
        if isinstance(b, float):
            return IntTemp(self.temp(l5.TileBits(op, x, int(b))))
        return IntTemp(self.temp(l5.TileBits(op, x, self.as_int(b))))

    def as_int(self, v: Any) -> str:
        """A temporary holding v as int32: a bit operation's result as it is, anything else
        typecast (the integers a float32 temporary holds, exactly)."""
        if isinstance(v, IntTemp):
            return v.name
        return self.temp(l5.TileCast(self.temp_of(v), "int32"))
