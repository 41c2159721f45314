"""Tile groups as C2 writes them and C3 adds them: the names a tile group may not reuse, the tile
grid of a CB's block, and the compute copy (a cast when the dtypes differ) from one CB to another.
"""
from __future__ import annotations

from dataclasses import is_dataclass
from typing import Any

from nanott.ir import NOLOC, Loc, children
from nanott.languages import l5
from nanott.target import TILE


def used_names(program: Any) -> set[str]:
    """Every name a kernel binds or mentions outside tile groups: tensors, CBs, loop variables,
    lets. A tile group's loop variables are its own, so two groups may use the same ones."""
    names = {p.name for p in program.params} | {cb.name for cb in program.cbs}

    def visit(x: Any) -> None:
        if isinstance(x, l5.TileGroup):
            return
        if isinstance(x, l5.Var):
            names.add(x.name)
        if isinstance(getattr(x, "var", None), str):
            names.add(x.var)
        names.update(getattr(x, "vars", ()))
        for _, v in children(x):
            for y in v if isinstance(v, tuple) else (v,):
                if is_dataclass(y):
                    visit(y)

    for s in program.body:
        visit(s)
    return names


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
