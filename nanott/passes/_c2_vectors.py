"""Vectors in tiles, for C2: which way each 1-D on-chip buffer lies in its tiles.

A vector of n elements takes n/32 tiles, either as a column (element k at row k % 32 of column 0
of tile k // 32; the tiles stacked as a column: the CB's shape becomes (n, 32)) or as a row
(column k % 32 of row 0 of tile k // 32; shape (32, n)). The way is found from how the kernel uses
the vector, never from its name:

  written by a reduction along dim 1 (each row reduced: REDUCE_ROW writes column 0)   column
  written by a reduction along dim 0 (each column reduced: REDUCE_COL writes row 0)   row
  indexed v[i] in a 2-D T.Parallel over (i, j): one value per row (*_bcast_cols)      column
  indexed v[j]: one value per column (*_bcast_rows)                                   row
  copied to or from a vector, or in one 1-D T.Parallel with it                        the same way
  only then: copied from or to a 1-D tensor (a row of tiles in DRAM, A1)              row

A vector nothing decides is a column; one that would have to be both is NT322, at the use that
disagrees (turning a column into a row is a transpose nanott does only between a vector and a 1-D
tensor in DRAM: C2 adds it there).
"""
from __future__ import annotations

from typing import Any

from nanott.diagnostics import NanottError
from nanott.ir import walk
from nanott.languages import l4
from nanott.target import TILE

COL, ROW = "col", "row"


def orientations(program: l4.Kernel) -> dict[int, str]:
    """CB index -> "col" or "row", for every 1-D CB."""
    vectors = {cb.index for cb in program.cbs if len(cb.shape) == 1}
    wants: list[tuple[int, str, Any]] = []          # (cb, way, the statement that wants it)
    links: list[tuple[int, int, Any]] = []          # two vectors that lie the same way
    dram: list[tuple[int, str, Any]] = []           # read from or written to DRAM: rather a row
    for s in walk(program.body):
        match s:
            case l4.ReadToCb(cb=cb) | l4.WriteFromCb(cb=cb) if cb in vectors:
                dram.append((cb, ROW, s))
            case l4.Reduce(dst=dst, dim=dim) if dst in vectors:
                wants.append((dst, COL if dim == 1 else ROW, s))
            case l4.CopyCb(src, dst) if src in vectors and dst in vectors:
                links.append((src, dst, s))
            case l4.Parallel(vars=(i, j)):
                for st in s.body:
                    for x in walk(st):
                        cb, index = getattr(x, "cb", None), getattr(x, "indices", ())
                        if cb in vectors and index in ((l4.Var(i),), (l4.Var(j),)):
                            wants.append((cb, COL if index == (l4.Var(i),) else ROW, st))
            case l4.Parallel(vars=(_,)):
                used = [x.cb for x in walk(s.body) if getattr(x, "cb", None) in vectors]
                links += [(a, b, s) for a, b in zip(used, used[1:])]
    way: dict[int, str] = {}
    where: dict[int, Any] = {}
    for cb, w, s in wants:
        agree(program, way, where, cb, w, s)
    propagate(program, way, where, links)
    for cb, w, s in dram:
        if cb not in way:
            agree(program, way, where, cb, w, s)
            propagate(program, way, where, links)
    return {cb: way.get(cb, COL) for cb in sorted(vectors)}


def propagate(program: l4.Kernel, way: dict, where: dict, links: list) -> None:
    """Linked vectors lie the same way: along the links to a fixpoint."""
    for _ in range(len(links)):
        for a, b, s in links:
            for x, y in ((a, b), (b, a)):
                if x in way:
                    agree(program, way, where, y, way[x], s)


def agree(program: l4.Kernel, way: dict, where: dict, cb: int, w: str, s: Any) -> None:
    if way.setdefault(cb, w) != w:
        name = program.cbs[cb].name
        first = where[cb].loc.line
        raise NanottError("NT322", f"the vector {name} lies down a column of tiles for its use at "
                          f"line {first} and along a row here", s.loc if s.loc.line else where[cb].loc,
                          "use a vector either as one value per row (v[i], a reduction along dim 1) "
                          "or as one value per column (v[j], along dim 0), not both")
    where.setdefault(cb, s)


def tile_shape(shape: tuple[int, ...], way: str) -> tuple[int, int]:
    """The 2-D block of tiles a vector of `shape` lies in."""
    (n,) = shape
    return (n, TILE) if way == COL else (TILE, n)
