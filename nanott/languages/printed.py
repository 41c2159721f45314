"""What `T.print` of a buffer shows, the same at every level and in the C++ (nanott's CPU runtime).

A buffer is printed as tt-metal's device print shows a tile, `DPRINT << TSLICE(cb, tile,
SliceRange::hw0_32_8())`: the values at every 8th row and every 8th column of each 32x32 tile,
16 of the tile's 1024 (a TileSlice carries at most 64 bytes: 16 float32 values). That is the
truncation, and it is the same for a buffer of any size: a header line with the buffer's dtype and
shape, then one line per tile, tiles in row-major order, the tile's slice in NumPy's notation over
the whole buffer and its four sampled rows separated by `|`:

    [L0 gemm block (0,0)] A_s: bfloat16[64, 32], every 8th row and column of each 32x32 tile
    [L0 gemm block (0,0)] A_s[0:32:8, 0:32:8] = 0.5 -1.25 2 0 | 1 1 1 1 | 0 0 0 0 | 3 2 1 0
    [L0 gemm block (0,0)] A_s[32:64:8, 0:32:8] = ...

Values are shown as a printed float scalar is (six significant digits, as C++'s `<<` shows a
float). Only on-chip 2-D buffers of whole 32x32 tiles print (P0 says NT326 for others).
"""
from __future__ import annotations

from typing import Any

import ml_dtypes
import numpy as np

from nanott.dtypes import LOWERED
from nanott.target import TILE

STEP = 8                         # every 8th row and column: SliceRange::hw0_32_8()


def shown(value: Any) -> str:
    """A printed scalar as C++'s `operator<<` shows it (DPRINT): an int, or a float to 6 digits."""
    v = np.asarray(value).item()
    return str(int(v)) if isinstance(v, (bool, int)) else format(v, "g")


def dtype_name(dtype: Any) -> str:
    """nanott's name of a NumPy dtype (the first of nanott/dtypes.py's table that maps to it)."""
    return next(d.name for d in LOWERED.values()
                if np.dtype(getattr(np, d.numpy, None) or getattr(ml_dtypes, d.numpy)) == np.dtype(dtype))


def header(label: str, dtype: str, shape: tuple[int, ...]) -> str:
    return f"{label}: {dtype}[{', '.join(map(str, shape))}], every {STEP}th row and column of each {TILE}x{TILE} tile"


def tile_prefix(label: str, ti: int, tj: int) -> str:
    """`A_s[32:64:8, 0:32:8] = `: the slice of tile (ti, tj) over the whole buffer."""
    rows, cols = (f"{i * TILE}:{(i + 1) * TILE}:{STEP}" for i in (ti, tj))
    return f"{label}[{rows}, {cols}] = "


def sampled(tile: np.ndarray) -> str:
    """A tile's sampled values: four rows of four, rows separated by `|`."""
    return " | ".join(" ".join(shown(v) for v in row) for row in np.asarray(tile, np.float32)[::STEP, ::STEP])


def block_lines(label: str, block: np.ndarray) -> list[str]:
    """The lines of one print of a 2-D block of whole tiles."""
    rows, cols = (n // TILE for n in block.shape)
    return [header(label, dtype_name(block.dtype), block.shape)] + [
        tile_prefix(label, ti, tj) + sampled(block[ti * TILE:(ti + 1) * TILE, tj * TILE:(tj + 1) * TILE])
        for ti in range(rows) for tj in range(cols)]
