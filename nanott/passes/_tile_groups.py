"""Tile groups as C2 writes them and C3 adds them: the tile grid of a CB's block, and the compute
copy (a cast when the dtypes differ) from one CB to another.
"""
from __future__ import annotations

from nanott.ir import NOLOC, Loc
from nanott.languages import l5
from nanott.target import TILE


def tile_grid(shape: tuple[int, ...]) -> tuple[int, int]:
    """(tile rows, tile columns) of a 2-D block whose dims are whole tiles (A1 made sure)."""
    rows, cols = shape
    return rows // TILE, cols // TILE


def copy_group(src: int, dst: int, grid: tuple[int, int], names: tuple[str, str],
               loc: Loc = NOLOC) -> l5.TileGroup:
    """dst = src, tile by tile, through a float32 temporary; the store rounds to dst's dtype."""
    i, j = (l5.Var(n) for n in names)
    return l5.TileGroup(names, grid, (
        l5.TAssign("t0", l5.TileLoad(l5.TileRef(src, i, j)), loc=loc),
        l5.TStore(l5.TileRef(dst, i, j), "t0", loc=loc)), loc=loc)
