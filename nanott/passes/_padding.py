"""Padding for ragged tensors, for A1: how far each DRAM tensor's tiled dims are padded with zeros,
and which two dims are tiled.

In TileLang a copy that runs past the edge of a tensor is masked: what lies outside reads as zero
and is not stored (the L0 interpreter does exactly that). On a Tensix core a tensor is pages of
32x32 tiles and a copy moves whole tiles, so nanott pads instead. Each of the two tiled dims (the
last two) is padded to a multiple of lcm(32, every copy extent along it), and further if a copy can
reach beyond that: its start's largest value over the grid and the loop ranges (interval analysis
of the affine start), plus its extent. The two tiled dims are the last two, unless the copies move
blocks along others (`order`): then DRAM stores the tensor with those two dims last. The host writes zeros into the padding when it tilizes the
tensor, and crops it when it reads the tensor back; so a read past the edge sees zeros, as in
TileLang, a zero K padding adds nothing to a matmul, and a store past the edge lands in padding
nobody reads. That last point needs a tensor that is only read, or only written: a ragged tensor
the kernel both reads and writes could read back what it wrote into its padding (NT312).

The reach is measured over the live grid only (`live_grid`): trailing blocks along a grid dim whose
every DRAM write lies wholly outside its tensor change no element, so A1 drops them, and a grid far
larger than its tensors no longer pads them to where its last block would copy.
"""
from __future__ import annotations

from math import lcm
from typing import Any

from nanott.ir import walk
from nanott.languages import l0
from nanott.passes._affine import affine
from nanott.row_gather import row_scatter, uses
from nanott.target import TILE

Range = tuple[int, int]


def interval(e: Any, ranges: dict[str, Range]) -> Range | None:
    """The least and greatest value of an affine index over the ranges of its variables, or None
    when it has a part whose range is unknown."""
    terms, lo = affine(e)
    hi = lo
    for atom, coef in terms:
        if not isinstance(atom, l0.Var) or atom.name not in ranges:
            return None
        a, b = (coef * x for x in ranges[atom.name])
        lo, hi = lo + min(a, b), hi + max(a, b)
    return lo, hi


def stored_orders(launches: tuple) -> dict[str, tuple[int, ...] | None]:
    """Per DRAM tensor of a program of several launches, the order A1 stores its dims in: that of
    the first launch that copies it in blocks, else of the first that copies lines of it."""
    orders: dict[str, tuple[int, ...] | None] = {}
    for lines in (False, True):             # block copies first: a line fits any order ending in its dim
        for k in launches:
            reach = CopyReach(k)
            for t in k.params:
                if (len(reach.moved.get(t.name, ())) == 1) == lines and t.name in reach.moved:
                    orders.setdefault(t.name, reach.order(t))
    return orders


class CopyReach:
    """Per DRAM tensor and dim: the lcm of 32 and the copy extents along it, and the furthest element
    a copy reaches (None when some start is not affine in known ranges); the dims copies move
    blocks along."""

    def __init__(self, k: l0.Kernel, grid: dict[str, Range] | None = None):
        self.tensors = {p.name: p for p in k.params}
        self.writes_inside = False              # some DRAM write not provably wholly outside
        self.step: dict[tuple[str, int], int] = {}
        self.end: dict[tuple[str, int], int | None] = {}
        self.read: set[str] = set()
        self.written: set[str] = set()
        self.moved: dict[str, set[int]] = {}    # the dims copies move blocks along (extent > 1)
        self.updated = {s.var for s in walk(k.body) if isinstance(s, l0.Let) and s.update}   # no range
        self.scan(k.body, grid or {v: (0, n - 1) for v, n in zip(k.block_vars, k.grid)})

    def scan(self, stmts: tuple, ranges: dict[str, Range]) -> None:
        for s in stmts:
            match s:
                case l0.Let(var, value):
                    ranges = {k: v for k, v in ranges.items() if k != var}
                    if var not in self.updated and (r := interval(value, ranges)) is not None:
                        ranges[var] = r
                case l0.For(var, extent, _, _, body):
                    n = interval(extent, ranges)
                    inner = {k: v for k, v in ranges.items() if k != var}
                    self.scan(body, inner | ({var: (0, n[1] - 1)} if n else {}))
                case l0.Copy(src, dst):
                    self.region(src, ranges, self.read)
                    self.region(dst, ranges, self.written)
                case l0.AtomicAdd(src, dst):              # reads the destination, and writes it
                    self.region(src, ranges, self.read)
                    self.region(dst, ranges, self.read)
                    self.region(dst, ranges, self.written)
                case l0.Parallel():                        # a row scatter: a block's rows written
                    if (g := row_scatter(s, self.tensors)) is not None:
                        self.written.add(g.tensor)
                        self.writes_inside = True
                        self.moved.setdefault(g.tensor, set()).update(
                            {d for d, x in enumerate(g.rows) if uses(x, (g.var,))} | {len(g.rows)})

    def region(self, r: l0.Region, ranges: dict[str, Range], uses: set[str]) -> None:
        if r.buffer not in self.tensors:
            return
        uses.add(r.buffer)
        self.moved.setdefault(r.buffer, set()).update(d for d, n in enumerate(r.extents) if n > 1)
        shape = self.tensors[r.buffer].shape
        spans = [interval(start, ranges) for start in r.starts]
        if uses is self.written and not any(span is not None and (span[0] >= n or span[1] + e <= 0)
                                            for span, n, e in zip(spans, shape, r.extents)):
            self.writes_inside = True
        for d in range(len(r.extents)):
            key, span = (r.buffer, d), spans[d]
            self.step[key] = lcm(self.step.get(key, TILE), r.extents[d])
            end = None if span is None else span[1] + r.extents[d]
            old = self.end.get(key, 0)
            self.end[key] = None if old is None or end is None else max(old, end)

    def order(self, t: l0.Tensor) -> tuple[int, ...] | None:
        """The order DRAM stores the tensor's dims in: that dim last when copies move lines along
        one dim only (a column `X[bx * 32:(bx + 1) * 32, by]` becomes a row of the stored matrix,
        which the NoC moves; _c1_vector_rows.py); as written when copies move blocks only along
        its last two dims, else the other dims first and the two block dims last (a BSHD tensor
        copied in (S, D) blocks is stored BHSD); None when copies move blocks along more than two."""
        moved, rank = sorted(self.moved.get(t.name, ())), len(t.shape)
        if len(moved) == 1 and rank > 1:          # lines along one dim: rows of the stored matrix
            return (*(d for d in range(rank) if d != moved[0]), moved[0])
        if all(d >= rank - 2 for d in moved):
            return tuple(range(rank))
        if len(moved) > 2:
            return None
        tiled = moved if len(moved) == 2 else sorted({*moved, rank - 1})
        return (*(d for d in range(rank) if d not in tiled), *tiled)

    def padded(self, t: l0.Tensor, tiled: tuple[int, ...]) -> tuple[int, ...]:
        """The tensor's shape with its tiled dims padded (the others never are)."""
        out = list(t.shape)
        for d in tiled:
            step, end = self.step.get((t.name, d), TILE), self.end.get((t.name, d)) or 0
            out[d] = -(-max(out[d], end) // step) * step
        return tuple(out)

    def read_and_written(self, name: str) -> bool:
        return name in self.read and name in self.written


def live_grid(k: l0.Kernel) -> tuple[int, ...]:
    """The grid without the trailing blocks along each dim whose DRAM writes all lie wholly outside
    their tensors (they change no element): along each dim, the fewest blocks m such that blocks m..
    write nothing inside, found by bisection over the interval analysis (at least one block)."""
    grid = list(k.grid)
    for i, var in enumerate(k.block_vars):
        lo, hi = 1, grid[i]
        while lo < hi:
            m = (lo + hi) // 2
            ranges = {v: (m, n - 1) if v == var else (0, n - 1) for v, n in zip(k.block_vars, grid)}
            if CopyReach(k, ranges).writes_inside:
                lo = m + 1
            else:
                hi = m
        grid[i] = lo
    return tuple(grid)
