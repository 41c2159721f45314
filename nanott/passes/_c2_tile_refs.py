"""The tiles an elementwise map reads and writes (C2's _c2_tile_expr.py): which tile of a CB the
group's tile (i, j) stands for, from the index expressions and the shapes alone.

  a[i, j]      identity indexing: tile (i, j) of a
  v[i], v[j]   a vector in a 2-D map: a broadcast of its tile (i, 0) along rows (Bcast "cols"), or of
               (0, j) along columns ("rows")
  a[i]         a read of a vector longer than a 1-D map over whole tiles (TileLang's combine reads
               `scale[i]`, 128 long, over a T.Parallel(dim), dim 64): its first tiles, tile (i, j)
  a[j, i]      a 2-D buffer of the map's shape reversed: tile (j, i), transposed (Transposed:
               transpose_wh_tile through DST; the tile grid transposes with the tiles)

Anything else is NT317 naming the access; so is a store that is not identity indexing (a vector
stored from a 2-D map is a reduction; a transposed store: swap the map's variables).
"""
from __future__ import annotations

from dataclasses import dataclass

from nanott.diagnostics import NanottError
from nanott.languages import l4, l5
from nanott.printing import seq, shape

IDENTITY_HINT = "write out[i, j] = f(a[i, j], b[i, j], constants) over whole buffers of one shape"


@dataclass(frozen=True)
class Bcast:
    """A vector's tile read as one value per row (dim "cols") or per column ("rows") of a tile."""
    ref: l5.TileRef
    dim: str


@dataclass(frozen=True)
class Transposed:
    """A tile read transposed: group tile (i, j) of a[j, i] is transpose_wh_tile of a's tile (j, i)."""
    ref: l5.TileRef


class TileRefs:
    """ref and target for _TileProgram (its p, store, cbs, shapes and tile_vars)."""

    def access(self, cb: int, indices: tuple) -> str:
        return f"{self.cbs[cb].name}[{seq(indices)}]"

    def ref(self, cb: int, indices: tuple) -> l5.TileRef | Bcast | Transposed:
        """The tile of `cb` this group's tile (i, j) reads or writes: identity indexing, a vector
        indexed by one variable of a 2-D T.Parallel (a broadcast), or a 2-D buffer indexed by the
        two variables swapped (a transposed read: the tile grid transposes too, tile (j, i))."""
        buf, logical, ext = self.cbs[cb], self.shapes[cb], tuple(self.p.extents)
        i, j = self.tile_vars
        if len(logical) == 1 and len(ext) == 2 and indices in ((l4.Var(self.p.vars[0]),),
                                                               (l4.Var(self.p.vars[1]),)):
            by_row = indices[0] == l4.Var(self.p.vars[0])
            if logical[0] == ext[0 if by_row else 1]:
                zero = l5.Const(0, "int32")
                return (Bcast(l5.TileRef(cb, i, zero), "cols") if by_row else
                        Bcast(l5.TileRef(cb, zero, j), "rows"))
        access = self.access(cb, indices)
        vars = tuple(l4.Var(v) for v in self.p.vars)
        if len(vars) == 2 and tuple(indices) == vars[::-1]:
            if logical == ext[::-1]:
                return Transposed(l5.TileRef(cb, j, i))
            raise NanottError("NT317", f"{access} indexes {buf.name} transposed, and {buf.name} is "
                              f"{shape(logical)}, not {shape(ext[::-1])} (the T.Parallel's "
                              f"{shape(ext)} reversed): a transposed read covers the whole buffer",
                              self.store.loc, f"make the T.Parallel {shape(logical[::-1])}, or copy the "
                              "part to transpose into a buffer of its own first")
        if ext != logical and not prefix(ext, logical, self.store.cb == cb):
            raise NanottError("NT317", f"T.Parallel over {shape(ext)} accesses {access}, and "
                              f"{buf.name} is {shape(logical)}: only elementwise maps with identity "
                              "indexing (and vectors v[i], v[j]) are supported yet", self.store.loc,
                              IDENTITY_HINT)
        for k, (index, var) in enumerate(zip(indices, self.p.vars)):
            if index != l4.Var(var):
                raise NanottError("NT317", f"{access}: index {k} is {index}, not {var}; only "
                                  "elementwise maps with identity indexing are supported yet",
                                  self.store.loc, IDENTITY_HINT)
        return l5.TileRef(cb, i, j)

    def target(self) -> l5.TileRef:
        """The tile this group's tile (i, j) stores: the store's own buffer with identity indexing."""
        dst = self.ref(self.store.cb, self.store.indices)
        access = self.access(self.store.cb, self.store.indices)
        if isinstance(dst, Bcast):
            raise NanottError("NT317", f"{access} is stored inside a T.Parallel over "
                              f"{shape(self.p.extents)}: that is a reduction", self.store.loc,
                              "reduce with T.reduce_sum, T.reduce_max or T.reduce_min")
        if isinstance(dst, Transposed):
            raise NanottError("NT317", f"{access} stores its buffer transposed (index 0 is "
                              f"{self.store.indices[0]}, the map's second variable): only reads may "
                              "be transposed yet", self.store.loc,
                              f"swap the loop variables of the T.Parallel so that the store is "
                              f"{self.cbs[self.store.cb].name}[{seq(self.p.vars)}], and read the "
                              "other buffers transposed instead")
        return dst


def prefix(ext: tuple, logical: tuple, stored: bool) -> bool:
    """Whether a 1-D map over whole tiles reads (never stores) the first tiles of a longer vector:
    its tile (i, j) is then the vector's, the tiles past the map's end unread."""
    return not stored and len(ext) == len(logical) == 1 and ext[0] % 32 == 0 and ext[0] < logical[0]
