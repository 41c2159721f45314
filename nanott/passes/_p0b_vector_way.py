"""Which way the vectors of a 1-D T.Parallel will lie in their tiles, read ahead on L0 for P0b.

C2 lays each vector down a tile column or along a tile row from its uses (_c2_vectors.py). P0b makes
a vector of its own when it picks one DRAM element for a whole block, and that vector must lie the
way of the vectors it is computed with, or C2 would need a transpose (NT322). In a 2-D T.Parallel
the pick is read at the loop's first variable: a column. In a 1-D one it joins the loop's vectors,
and their way is found as C2 will find it: the vectors linked to them through 1-D loops and copies
between vectors, read `v[j]` in a 2-D T.Parallel or reduced into along dim 0 (a row), or `v[i]` or
along dim 1 (a column).
"""
from __future__ import annotations

from nanott.ir import walk
from nanott.languages import l0


def row_wise(k: l0.Kernel, p: l0.Parallel) -> bool:
    """Whether the vectors of the 1-D loop p lie along tile rows: some linked use asks for a row and
    none for a column."""
    vectors = {a.name for a in walk(k.body) if isinstance(a, l0.Alloc) and len(a.shape) == 1}
    links = [used(q, vectors) for q in walk(k.body) if isinstance(q, l0.Parallel) and len(q.vars) == 1]
    links += [{c.src.buffer, c.dst.buffer} for c in walk(k.body)
              if isinstance(c, l0.Copy) and {c.src.buffer, c.dst.buffer} <= vectors]
    group = used(p, vectors)
    for _ in range(len(links)):
        for g in links:
            if g & group:
                group |= g
    ways = set()
    for q in walk(k.body):
        if isinstance(q, l0.Parallel) and len(q.vars) == 2:
            i, j = (l0.Var(v) for v in q.vars)
            ways |= {"col" if x.indices == (i,) else "row" for x in walk(q.body)
                     if isinstance(x, (l0.Load, l0.Store)) and x.buffer in group and x.indices in ((i,), (j,))}
        elif isinstance(q, l0.Reduce) and q.dst in group:
            ways.add("col" if q.dim == 1 else "row")
    return ways == {"row"}


def used(q: l0.Parallel, vectors: set[str]) -> set[str]:
    return {x.buffer for x in walk(q.body) if isinstance(x, (l0.Load, l0.Store)) and x.buffer in vectors}
