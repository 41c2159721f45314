"""Tenstorrent's Bfp8_b block-float format, modelled in NumPy: where nanott holds an fp8 tensor.

Bfp8_b stores 16 consecutive values of a face row (16 columns of one tile row, starting at a
multiple of 16) as one shared 8-bit exponent E, the largest of the 16, and per value a sign and a
7-bit magnitude m with its leading one explicit: value = (-1)^s * m * 2^(E - 127 - 6)
(docs/reference.md §7.3). A value whose exponent is k below E keeps 7 - k significant bits, and none
from k = 7 on; denormals are zero. Rounding is to nearest, ties to even (the host's conversion,
which writes every fp8 input; nanott's packer rounds the same way), and a magnitude that rounds up
to 128 stays at 127 (no renormalisation).

Every value of float8_e4m3fn (3 mantissa bits) whose exponent is at most 3 below its group's
largest survives exactly; float8_e5m2 (2 bits), 4 below. Smaller values lose their low bits: an
element moves by at most 2^-7 of its group's largest magnitude. The result is always a value of
the fp8 dtype again (fewer bits, never a finer grid), so the arrays keep their dtype.
"""
from __future__ import annotations

from typing import Any

import numpy as np

GROUP = 16                   # values sharing one exponent: one row of a 16x16 face
MAGNITUDE_BITS = 7           # leading one included
BLOCK_FLOAT = "Bfp8_b"
TINY = np.finfo(np.float32).tiny


def bfp8_b(x: np.ndarray) -> np.ndarray:
    """x on Bfp8_b's grid, its last axis cut into groups of 16 from index 0 (NaN kept: unwritten)."""
    x = np.asarray(x, np.float32)
    cols = x.shape[-1]
    v = np.pad(x, [(0, 0)] * (x.ndim - 1) + [(0, (-cols) % GROUP)]).reshape(*x.shape[:-1], -1, GROUP)
    mag = np.abs(np.nan_to_num(v))
    _, exp = np.frexp(mag)                                    # mag = f * 2^exp, f in [0.5, 1)
    normal = mag >= TINY
    shared = np.where(normal, exp, -1000).max(axis=-1, keepdims=True)
    step = np.ldexp(np.float32(1), np.maximum(shared, -125) - MAGNITUDE_BITS).astype(np.float32)
    m = np.minimum(np.rint(mag / step), 2**MAGNITUDE_BITS - 1)
    out = np.where(normal, np.copysign(m * step, v), np.float32(0.0))
    out = out.reshape(*x.shape[:-1], -1)[..., :cols]
    return np.where(np.isnan(x), x, out).astype(np.float32)


def as_dram_holds(params: Any, arrays: dict[str, np.ndarray]) -> None:
    """Put each fp8 tensor's array on the grid DRAM holds it in (Bfp8_b: the host converts every
    fp8 input so as it writes it), in place: groups along the last stored dim, which A1's layout
    names (its `order`), or the tensor's own last dim before A1 chose one."""
    from nanott.dtypes import LOWERED
    for t in params:
        if LOWERED[t.dtype].format != BLOCK_FLOAT or t.name not in arrays:
            continue
        a = arrays[t.name]
        order = getattr(getattr(t, "layout", None), "order", None) or tuple(range(a.ndim))
        stored = np.transpose(a.astype(np.float32), order) if a.ndim > 1 else a.astype(np.float32)
        held = bfp8_b(stored)
        back = np.transpose(held, np.argsort(order)) if a.ndim > 1 else held
        arrays[t.name] = back.astype(a.dtype)
