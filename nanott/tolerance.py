"""How close an output must be to its reference, derived from the kernel that computes it.

An output passes when every element is within `rtol * |expected| + rtol * max|expected|`: relative
to the element and to the output's own scale (its largest reference magnitude), never an absolute
number, so an output of small values is held to its own size (an all-zero softmax fails) and an
element that cancels to near zero is not held to an impossible relative error.

`rtol` starts from the output dtype (BASE: what a few roundings of intermediates and a changed
summation order cost in it) and grows with what the kernel does: every T.gemm or T.reduce that
accumulates over loop trips rounds its accumulator once per trip, so `trips x u(accumulator dtype)`
(u: the unit roundoff, 2^-8 for bfloat16, 2^-11 for float16, 2^-24 for float32). A bfloat16 accumulator over 8 K-steps
earns 8 x 2^-8; a float32 one earns nothing visible. An fp8 input is read as Bfp8_b holds it
(nanott/block_float.py): each value within 2^-7 of its 16-value group's largest, which a NumPy
reference on the fp8 values does not see; the output earns 2^-6 (twice that: both operands of a
product move). The reason is stated with the number.
"""
from __future__ import annotations

from dataclasses import dataclass
from math import prod

from nanott.dtypes import LOWERED
from nanott.block_float import BLOCK_FLOAT as BLOCK_FLOAT_FORMAT
from nanott.ir import launches_of, walk
from nanott.languages import l0

BASE = {
    # bfloat16 keeps 8 significant bits: one rounding is within 2^-9 relative. 2^-6 leaves room for
    # a few roundings of intermediates (a bf16 tile, a bf16 operand) and a changed summation order.
    "bfloat16": 2.0**-6,
    # float16 keeps 11 significant bits: one rounding is within 2^-12 relative; the same room for a
    # few roundings and another summation order as bfloat16's (x8) gives 2^-9.
    "float16": 2.0**-9,
    # float32 keeps 24 bits; a dot product of K terms summed in another order moves by about
    # K * 2^-24 of the sum of |terms|, about 1e-4 for K = 1024 on inputs in [-1, 1).
    "float32": 1e-4,
    # fp8 keeps 4 (e4m3) or 3 (e5m2) significant bits: one rounding is within 2^-4 or 2^-3 relative;
    # twice that leaves room for another rounding of an intermediate (an output's Bfp8_b grid).
    "float8_e4m3fn": 2.0**-3, "float8_e5m2": 2.0**-2,
    **{d.name: 0.0 for d in LOWERED.values() if d.kind != "float"},      # integer arithmetic is exact
}
UNIT = {"bfloat16": 2.0**-8, "float16": 2.0**-11, "float32": 2.0**-24, "float8_e4m3fn": 2.0**-4,
        "float8_e5m2": 2.0**-3,
        **{d.name: 0.0 for d in LOWERED.values() if d.kind != "float"}}


@dataclass(frozen=True)
class Tolerance:
    rtol: float
    reason: str


def accumulations(k: l0.Kernel) -> list[tuple[str, str, int]]:
    """(buffer, dtype, trips) for every accumulator a T.gemm or T.reduce adds into across loop trips."""
    dtypes = {x.name: x.dtype for x in walk(k.body) if isinstance(x, l0.Alloc)}
    found: list[tuple[str, str, int]] = []

    def scan(stmts: tuple, trips: tuple[int, ...]) -> None:
        for s in stmts:
            match s:
                case l0.For(_, l0.Const(n), _, _, body):
                    scan(body, trips + (int(n),))
                case l0.For(_, _, _, _, body):
                    scan(body, trips)
                case l0.Gemm(_, _, c, _, _, False) if trips and c in dtypes:
                    found.append((c, dtypes[c], prod(trips)))
                case l0.Reduce(_, _, dst, _, False) if trips and dst in dtypes:
                    found.append((dst, dtypes[dst], prod(trips)))
    scan(k.body, ())
    return found


BLOCK_FLOAT = 2.0**-6


def tolerance(k: l0.Kernel, dtype: str) -> Tolerance:
    """The tolerance of an output of `dtype` computed by kernel `k` (or by the launches of a
    program of several), and why."""
    rtol, why = BASE[dtype], [f"{dtype} output {BASE[dtype]:.3g}"]
    held = [t.name for t in k.params if LOWERED[t.dtype].format == BLOCK_FLOAT_FORMAT]
    if held and BLOCK_FLOAT > rtol:
        rtol, why = BLOCK_FLOAT, [f"{', '.join(held)} read as Bfp8_b: 2 x 2^-7 of a group's largest"]
    for buf, acc, trips in (a for launch in launches_of(k) for a in accumulations(launch)):
        extra = trips * UNIT[acc]
        if extra > rtol:
            rtol, why = extra, [f"{trips} accumulations into {acc} {buf}: {trips} x {UNIT[acc]:.3g}"]
    return Tolerance(rtol, why[0])
