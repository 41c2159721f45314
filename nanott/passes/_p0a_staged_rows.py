"""Blocks of fewer than 32 rows that only carry a block's first rows to DRAM, for P0a: a tile of
rows, of which only those rows are written.

TileLang's GQA decoder gives a grid block one KV head and 32 rows (`block_H`), of which only the
head's `valid_block_H = heads // groups` query heads (4 of 8 heads in 2 groups) are real. It ends
with `T.copy(acc_o[:valid_block_H, :], O_shared)` into a [valid_block_H, dim] buffer, then
`T.copy(O_shared, Output_partial[b, hid * 4:(hid + 1) * 4, sid, :])`. The blocks along `hid` read
other KV heads, so their rows cannot share a tile (P0a's merge refuses them); and a 4-row buffer
is no tile (A1's NT111). When analysis shows such a buffer S of m < 32 rows is used only as

  - the destination of a copy of the first m rows (and all the columns) of an on-chip buffer B of
    32 rows or more, its only write, and
  - the source of copies into DRAM regions of m rows along one dim and its n columns along the
    last (every other dim of the region one element),

S gets 32 rows: the copy from B takes B's first 32 rows, and each copy into DRAM becomes the row
scatter `for i, j in T.Parallel(32, n): if i < m: X[.., start + i, .., c + j] = S[i, j]`, which C1
makes a write of rows, each row alone (nanott/row_gather.py). Rows m..31 of S hold B's rows m..31,
which the `if` keeps out of DRAM. The kernel records the choice as `staged_rows = O_shared: 4 of
32 rows written`.

Why rows, and not a layout that gives each block whole tiles: the rows a block writes share their
tiles with other blocks' rows (the other KV heads', the other splits'), and cores may share a DRAM
page by whole rows, each row written by one core (sim/noc.py's rule "owner"; docs/10_progression.md).
"""
from __future__ import annotations

from typing import Any

from nanott.ir import field_names, replace, walk
from nanott.languages import l0
from nanott.passes._names import NameSupply, names_in
from nanott.target import TILE


def staged_rows(k: l0.Kernel) -> l0.Kernel:
    """k with each on-chip block of fewer than 32 rows that only stages a block's first rows on
    their way to DRAM given 32 rows and written as a row scatter (module docstring), or k."""
    dram = {p.name for p in k.params}
    shapes = {s.name: s.shape for s in walk(k.body) if isinstance(s, l0.Alloc)}
    staged = {a.name: a.shape for a in walk(k.body) if isinstance(a, l0.Alloc) and len(a.shape) == 2
              and a.shape[0] < TILE and only_staged(k, a.name, a.shape, dram, shapes)}
    if not staged:
        return k
    names = NameSupply(names_in(k))
    body = tuple(_rewrite(s, staged, names) for s in k.body)
    notes = tuple(l0.Attr("staged_rows", f"{n}: {m} of {TILE} rows written", loc=k.loc) for n, (m, _) in staged.items())
    return replace(k, body=body, attrs=tuple(sorted((*k.attrs, *notes), key=lambda a: (a.key, a.value))))


def only_staged(k: l0.Kernel, name: str, shape: tuple, dram: set[str], shapes: dict) -> bool:
    """Whether buffer `name` is written once, by a copy of an on-chip buffer's first rows, and
    read only by copies into DRAM of its m rows and n columns."""
    m, n = shape
    writes = reads = 0
    for x in walk(k.body):
        if isinstance(x, l0.Copy) and x.dst.buffer == name:
            src = x.src
            if src.buffer in dram or not whole(x.dst, shape) or not first_rows(src, shapes.get(src.buffer), m, n):
                return False
            writes += 1
        elif isinstance(x, l0.Copy) and x.src.buffer == name:
            if x.dst.buffer not in dram or not whole(x.src, shape) or rows_dim(x.dst, m, n) is None:
                return False
            reads += 1
        elif not isinstance(x, (l0.Copy, l0.Region, l0.Alloc)) and name in _names_of(x):
            return False                        # read or written any other way
    return writes == 1 and reads >= 1


def _names_of(x: Any) -> set:
    """The buffer names a node holds in its own fields (not its children's)."""
    out = set()
    for f in field_names(type(x)) or ():
        v = getattr(x, f)
        out |= {v} if isinstance(v, str) else {y for y in v if isinstance(y, str)} if isinstance(v, tuple) else set()
    return out


def whole(r: l0.Region, shape: tuple) -> bool:
    return all(_zero(s) for s in r.starts) and tuple(r.extents) == tuple(shape)


def first_rows(r: l0.Region, shape: tuple | None, m: int, n: int) -> bool:
    """Whether region r is rows 0..m, every column, of an on-chip buffer of 32 rows or more."""
    return (shape is not None and len(shape) == 2 and shape[0] >= TILE and shape[1] == n
            and all(_zero(s) for s in r.starts) and tuple(r.extents) == (m, n))


def rows_dim(r: l0.Region, m: int, n: int) -> int | None:
    """The dim of DRAM region r that holds the m rows, when its last holds the n columns and every
    other dim is one element; else None."""
    *outer, last = r.extents
    wide = [d for d, e in enumerate(outer) if e != 1]
    if last != n or len(wide) != 1 or outer[wide[0]] != m:
        return None
    return wide[0]


def _rewrite(s: Any, staged: dict, names: NameSupply) -> Any:
    match s:
        case l0.Alloc(name=name) if name in staged:
            return replace(s, shape=(TILE, staged[name][1]))
        case l0.Copy(src, dst) if dst.buffer in staged:
            n = staged[dst.buffer][1]
            return replace(s, src=replace(src, extents=(TILE, n)), dst=replace(dst, extents=(TILE, n)))
        case l0.Copy(src, dst) if src.buffer in staged:
            return scatter(s, staged[src.buffer], names)
        case l0.For() | l0.Parallel():
            return replace(s, body=tuple(_rewrite(x, staged, names) for x in s.body))
    if hasattr(s, "body") and isinstance(getattr(s, "body"), tuple) and not isinstance(s, l0.Kernel):
        return replace(s, body=tuple(_rewrite(x, staged, names) for x in s.body))
    return s


def scatter(c: l0.Copy, shape: tuple, names: NameSupply) -> l0.Parallel:
    """The copy of a staged buffer into DRAM as a row scatter of its first m rows."""
    m, n = shape
    loc, dst = c.loc, c.dst
    d = rows_dim(dst, m, n)
    i, j = names.fresh("i"), names.fresh("j")
    vi, vj = l0.Var(i, loc=loc), l0.Var(j, loc=loc)
    at = list(dst.starts)
    at[d] = l0.BinOp("+", at[d], vi, loc=loc)
    at[-1] = l0.BinOp("+", at[-1], vj, loc=loc)
    at = tuple(at)
    keep = l0.Load(dst.buffer, at, loc=loc)
    value = l0.Select(l0.BinOp("<", vi, l0.Const(m, "int32", loc=loc), loc=loc),
                      l0.Load(c.src.buffer, (vi, vj), loc=loc), keep, loc=loc)
    return l0.Parallel((i, j), (TILE, n), (l0.Store(dst.buffer, at, value, loc=loc),), loc=loc)


def _zero(e: Any) -> bool:
    return isinstance(e, l0.Const) and e.value == 0
