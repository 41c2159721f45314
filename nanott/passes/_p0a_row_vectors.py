"""Blocks of fewer than 32 rows that no grid index starts, for P0a: each row held as a vector.

TileLang's split-KV decoding combines the partial results of its `num_split` splits from a block of
`num_split` rows (`lse_local = T.alloc_fragment([num_split, block_M])`, 4 x 64): the rows are the
splits, not grid blocks, so they cannot share a tile with other blocks' rows (P0a's merge), and a
32-row tile for 4 rows would be mostly padding. When analysis shows the block is only used row by
row, its r rows become r vectors of its columns (`lse_local_0` .. `lse_local_3`), which lie in tiles
as every vector does (C2: a tile row or a tile column, whichever their uses ask for):

  - a T.copy of r rows of a DRAM tensor into it      r copies, one row each
  - a reduction of it along its rows (dim 0)         an elementwise max / min / sum of the r vectors
                                                     (summed in float32, then rounded once)
  - a T.copy of its row k into a vector, an element  row k picked: `if_then_else(k == 0, v0[i],
    read `blk[k, i]`                                 if_then_else(k == 1, v1[i], ...))`; a loop
                                                     over the rows (`for k in T.Pipelined(r)`) is
                                                     unrolled first, so each copy reads vector k

The kernel records the choice as `row_vectors = lse_local: 4 rows of 64`. A block used any other way
(written element by element, a GEMM operand, copied to DRAM, a T.Parallel over its rows) keeps its
shape, and A1 refuses it (NT111).
"""
from __future__ import annotations

from functools import reduce
from typing import Any

from nanott.ir import replace, walk
from nanott.languages import l0
from nanott.passes._affine import affine, subst
from nanott.passes._names import NameSupply, names_in
from nanott.target import TILE

COMBINE = {"max": "max", "min": "min", "sum": "+"}


def rows_as_vectors(k: l0.Kernel) -> l0.Kernel:
    """k with each on-chip block of fewer than 32 rows that is used only row by row as vectors, or k."""
    names = NameSupply(names_in(k))
    rows = {s.name: tuple(names.fresh(f"{s.name}_{r}") for r in range(s.shape[0])) for s in k.body
            if isinstance(s, l0.Alloc) and len(s.shape) == 2 and s.shape[0] < TILE and only_rows(k, s)}
    if not rows:
        return k
    blocks = {s.name: s for s in k.body if isinstance(s, l0.Alloc) and s.name in rows}
    body = tuple(x for s in k.body for x in Split(blocks, rows, names).stmt(s))
    notes = tuple(l0.Attr("row_vectors", f"{n}: {a.shape[0]} rows of {a.shape[1]}", loc=k.loc) for n, a in blocks.items())
    attrs = tuple(sorted((*k.attrs, *notes), key=lambda x: (x.key, x.value)))
    return replace(k, body=body, attrs=attrs)


def only_rows(k: l0.Kernel, a: l0.Alloc) -> bool:
    """Whether every use of the block `a` is one of the docstring's."""
    on_chip = {s.name for s in walk(k.body) if isinstance(s, l0.Alloc)}
    for x in walk(k.body):
        if isinstance(x, l0.Copy) and a.name in (x.src.buffer, x.dst.buffer):
            if x.dst.buffer == a.name and (x.src.buffer in on_chip or row_dim(x.src, a) is None or not whole(x.dst, a)):
                return False
            if x.src.buffer == a.name and (x.dst.buffer not in on_chip or x.src.extents != (1, a.shape[1])):
                return False
        elif isinstance(x, l0.Reduce) and x.src == a.name:
            if x.dim != 0 or x.op not in COMBINE:
                return False
        elif isinstance(x, l0.Region) and x.buffer == a.name:
            continue                                   # a copy's side, judged above
        elif a.name in l0.buffer_names(x) and not isinstance(x, l0.Load):
            return False
    return True


def row_dim(r: l0.Region, a: l0.Alloc) -> int | None:
    """The one dim of the DRAM region whose extent is the block's rows, the others 1 or its columns."""
    dims = [d for d, e in enumerate(r.extents) if e != 1]
    if len(dims) == 2 and r.extents[dims[0]] == a.shape[0] and r.extents[dims[1]] == a.shape[1]:
        return dims[0]
    return None


def whole(r: l0.Region, a: l0.Alloc) -> bool:
    return tuple(r.extents) == a.shape and all(isinstance(s, l0.Const) and s.value == 0 for s in r.starts)


class Split:
    """Rewrites the statements that name a split block (see the docstring)."""

    def __init__(self, blocks: dict[str, l0.Alloc], rows: dict[str, tuple[str, ...]], names: NameSupply):
        self.blocks, self.rows, self.names = blocks, rows, names

    def stmt(self, s: Any) -> list:
        loc = s.loc
        if isinstance(s, l0.Alloc) and s.name in self.rows:
            return [l0.Alloc(v, (s.shape[1],), s.dtype, s.scope, loc=loc) for v in self.rows[s.name]]
        if isinstance(s, l0.Copy) and s.dst.buffer in self.rows:
            d, start = row_dim(s.src, self.blocks[s.dst.buffer]), s.src.starts
            return [l0.Copy(replace(s.src, starts=(*start[:d], plus(start[d], r, loc), *start[d + 1:]),
                                    extents=(*s.src.extents[:d], 1, *s.src.extents[d + 1:])),
                            l0.Region(v, (l0.Const(0, "int32", loc=loc),), (s.dst.extents[1],), loc=loc), loc=loc)
                    for r, v in enumerate(self.rows[s.dst.buffer])]
        if isinstance(s, l0.Copy) and s.src.buffer in self.rows:
            i = self.names.fresh("i")
            value = self.pick(s.src.buffer, s.src.starts[0], plus(s.src.starts[1], l0.Var(i, loc=loc), loc), loc)
            return [l0.Parallel((i,), (s.dst.extents[0],), (l0.Store(s.dst.buffer, (l0.Var(i, loc=loc),), value, loc=loc),), loc=loc)]
        if isinstance(s, l0.Reduce) and s.src in self.rows:
            i = self.names.fresh("i")
            iv = (l0.Var(i, loc=loc),)
            terms = [l0.Cast("float32", l0.Load(v, iv, loc=loc), loc=loc) for v in self.rows[s.src]]
            if not s.clear:
                terms.append(l0.Cast("float32", l0.Load(s.dst, iv, loc=loc), loc=loc))
            value = reduce(lambda x, y: l0.BinOp(COMBINE[s.op], x, y, loc=loc), terms)
            n = self.blocks[s.src].shape[1]
            return [l0.Parallel((i,), (n,), (l0.Store(s.dst, iv, value, loc=loc),), loc=loc)]
        if isinstance(s, l0.For) and self.unrolled(s):
            return [x for t in range(s.extent.value)
                    for b in subst(s.body, {s.var: l0.Const(t, "int32", loc=loc)}) for x in self.stmt(b)]
        return [self.expr(replace(s, **{f: tuple(x for t in getattr(s, f) for x in self.stmt(t))
                                       for f in ("body", "orelse") if isinstance(getattr(s, f, None), tuple)}))]

    def unrolled(self, s: l0.For) -> bool:
        """Whether the loop picks rows of a split block at its variable, has a constant trip count of
        at most 32, and binds no name (its copies would bind it again): then it is unrolled, and
        each copy reads its row's vector directly."""
        if not isinstance(s.extent, l0.Const) or s.extent.value > TILE:
            return False
        if any(isinstance(x, (l0.Let, l0.Alloc, l0.For)) for x in walk(s.body)):
            return False
        rows = [x.indices[0] if isinstance(x, l0.Load) else x.starts[0] for x in walk(s.body)
                if isinstance(x, (l0.Load, l0.Region)) and x.buffer in self.rows]
        return any(l0.Var(s.var) in walk(r) for r in rows)

    def expr(self, e: Any) -> Any:
        """e (a statement or expression) with each element read of a split block picked from its rows."""
        if isinstance(e, l0.Load) and e.buffer in self.rows:
            return self.pick(e.buffer, self.expr(e.indices[0]), self.expr(e.indices[1]), e.loc)
        if isinstance(e, tuple):
            return tuple(self.expr(x) for x in e)
        fields = [f for f in getattr(e, "__dataclass_fields__", ()) if f not in ("loc", "body", "orelse")]
        return replace(e, **{f: self.expr(getattr(e, f)) for f in fields}) if fields else e

    def pick(self, block: str, row: l0.Expr, col: l0.Expr, loc) -> l0.Expr:
        """Row `row` of the block at column `col`: a chain of selects on the row."""
        vectors = self.rows[block]
        terms, const = affine(row)
        if not terms and 0 <= const < len(vectors):
            return l0.Load(vectors[const], (col,), loc=loc)
        value = l0.Load(vectors[-1], (col,), loc=loc)
        for r in range(len(vectors) - 2, -1, -1):
            at = l0.BinOp("==", row, l0.Const(r, "int32", loc=loc), loc=loc)
            value = l0.Select(at, l0.Load(vectors[r], (col,), loc=loc), value, loc=loc)
        return value


def plus(e: l0.Expr, n: Any, loc) -> l0.Expr:
    if isinstance(n, int):
        if n == 0:
            return e
        n = l0.Const(n, "int32", loc=loc)
    if isinstance(e, l0.Const) and e.value == 0:
        return n
    return l0.BinOp("+", e, n, loc=loc)
