"""Integer bits read as a float16 (`T.reinterpret(T.float16, x)`, TVM's `tirx.reinterpret`), as
arithmetic on the bits' fields (P0).

A dequantizing kernel may build a float's bit pattern out of a packed code and read it as the
float (TileLang's fp4 -> float16 decoder sets the sign, exponent and mantissa fields of a uint16,
then reinterprets it). Tensix tiles hold values in one data format, and nanott's tile lowering has
no op that reads an integer tile's bits as a float format; but the value the bits encode is
arithmetic on the fields, which every level can run and the SFPU computes exactly:

    s = (x >> 15) & 1,  e = (x >> 10) & 31,  m = x & 1023
    value = (1 - 2 s) * (m | (min(e, 1) << 10)) * (1 << max(e, 1)) * 2^-25

For 1 <= e <= 30 that is (1 - 2 s) (1 + m / 1024) 2^(e - 15), a normal number; for e = 0 it is
(1 - 2 s) m 2^-24, a subnormal (which the hardware's float16 compute flushes to zero: dtypes.py).
Every factor is an integer below 2^31 or a power of two, so the float32 products are exact, and
storing the value into a float16 buffer rounds nothing. The patterns of e = 31 (infinities and
NaN) are not decoded: 1 << 31 is outside int32, and the value is outside the model, as C leaves
an overflow. The L0 program shows the arithmetic, so the IR says what nanott does instead of a
reinterpretation. bfloat16 (an 8-bit exponent: 2^(e - 127) is no int32 shift) stays NT301.
"""
from __future__ import annotations

from typing import Any

from nanott.diagnostics import NanottError
from nanott.language.values import Sym, Tracing, binop, bits, to_expr
from nanott.languages import l0


def float16_from_bits(x: Any) -> Sym:
    """The float16 value x's low 16 bits encode, as float32 arithmetic on its fields (above)."""
    sign = bits("&", bits(">>", x, 15), 1)
    exponent = bits("&", bits(">>", x, 10), 31)
    mantissa = bits("&", x, 1023)
    lead = bits("<<", binop("min", exponent, 1), 10)                  # the implicit 1 of a normal
    significand = as_float(bits("|", mantissa, lead))
    power = as_float(bits("<<", 1, binop("max", exponent, 1)))
    return binop("*", binop("*", binop("-", 1.0, binop("*", 2.0, as_float(sign))), significand),
                 binop("*", power, 2.0 ** -25))


def as_float(x: Any) -> Sym:
    return Sym(l0.Cast("float32", to_expr(x), loc=Tracing.loc))


def refuse(name: str) -> NanottError:
    return NanottError("NT301", f"T.reinterpret of integer bits as {name} is not supported by nanott: its "
                       "tile lowering computes on values held in one data format per tile, and reads integer "
                       "bits as a float only as arithmetic on float16's fields (its exponent range fits int32 "
                       "shifts)", Tracing.loc,
                       hint="write the value the bits encode with arithmetic on their fields, e.g. "
                            "(1 - 2 * s) * (1 << e) * 2.0 ** -bias * (1 + m / 2.0 ** mbits), or keep the "
                            "weights in a float dtype nanott reads (float16, bfloat16, float8_e4m3fn)")
