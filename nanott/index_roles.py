"""Random values for integer tensors by how the kernel uses their elements: offsets, lengths, indices.

Random integers in an integer tensor that a kernel reads to choose rows, bound a loop or index
another tensor make a meaningless run: a sequence with no key computes 0/0, an index past its
tensor is NT120. Found by analysis of the L0 kernel with its lets put in place (never by names),
each integer input tensor gets the first role that fits:

- offsets: two of its elements are read at [.., e] and [.., e + 1] (a sequence's rows run from
  `cu_seqlens[b]` to `cu_seqlens[b + 1]`, CSR row pointers). Values sorted from 0, every range
  non-empty (a range with no key is 0/0 in attention), the last no further than the smallest dim
  an element starts a run of (`Q[cu[b] + bx * 64 : ...]`) and than index_inputs' copy range.
- lengths: an element bounds a loop (`for k in T.Pipelined(T.ceildiv(seqlens[b], 64))`). Values from
  1 (the loop runs: none is again 0/0) to the largest for which every element the loop's body
  accesses lies inside its buffer and every copy it makes starts inside its tensor.
- indices: an element is part of an element access's index (`Offsets[TokenIndices[c, 0] + 1]`) or
  of a copy's start (index_inputs.py): values that keep every such access inside its buffer.

Each role draws its values from the seeded generator random_inputs passes, one call per tensor.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from nanott.index_inputs import index_ranges, scan
from nanott.ir import walk
from nanott.languages import l0
from nanott.passes._affine import affine, build, subst
from nanott.value_bounds import Range, bounds

BIG = 1 << 16                     # the largest length tried: no loop of a test runs longer


@dataclass(frozen=True)
class Access:
    """An element access (extents None) or a DRAM copy's region, its indices with lets in place, and
    the variables around it: ("var", name, (lo, hi)) of the grid and T.Parallel, ("loop", name,
    extent) of a loop (its range depends on the values its extent reads)."""
    buffer: str
    indices: tuple
    extents: tuple | None
    scope: tuple


@dataclass(frozen=True)
class Offsets:
    end: int

    def draw(self, rng: np.random.Generator, shape: tuple) -> np.ndarray:
        cuts = np.sort(rng.choice(np.arange(1, self.end + 1), shape[0] - 1, replace=False))
        return np.concatenate([[0], cuts])


@dataclass(frozen=True)
class Uniform:
    low: int
    high: int                     # exclusive

    def draw(self, rng: np.random.Generator, shape: tuple) -> np.ndarray:
        return rng.integers(self.low, self.high, size=shape)


def index_roles(kernel: l0.Kernel, ints: set[str]) -> dict[str, Any]:
    """tensor -> its role (Offsets or Uniform), for the integer input tensors `ints` that have one."""
    shapes = {p.name: p.shape for p in kernel.params} | {a.name: a.shape for a in walk(kernel.body)
                                                           if isinstance(a, l0.Alloc)}
    accesses = collect(kernel)
    copies = index_ranges(kernel)
    roles: dict[str, Any] = {}
    values: dict[str, Range] = {}
    for t in sorted(ints):
        if len(shapes[t]) == 1 and (end := offsets_end(t, accesses, shapes, copies)) is not None:
            roles[t], values[t] = Offsets(end), (0, end)
    for t in sorted(ints - set(roles)):
        if (high := length_high(t, accesses, shapes, values)) is not None:
            lo, hi = copies.get(t, (1, high + 1))
            if max(lo, 1) < min(hi, high + 1):
                roles[t] = Uniform(max(lo, 1), min(hi, high + 1))
                values[t] = (roles[t].low, roles[t].high - 1)
    for t in sorted(ints - set(roles)):
        found = [r for r in (index_range(t, accesses, shapes, values), copies.get(t)) if r is not None]
        lo, hi = max((r[0] for r in found), default=0), min((r[1] for r in found), default=0)
        if lo < hi:
            roles[t] = Uniform(lo, hi)
    return roles


def collect(kernel: l0.Kernel) -> list[Access]:
    """Every element access and DRAM copy region of the kernel (its launches too), lets in place."""
    params = {p.name for p in kernel.params}
    out: list[Access] = []
    for k in getattr(kernel, "launches", (kernel,)):
        lets: dict = {}
        scan(k.body, lets, {v: (0, n - 1) for v, n in zip(k.block_vars, k.grid)}, 1)
        grid = tuple(("var", v, (0, n - 1)) for v, n in zip(k.block_vars, k.grid))
        visit(k.body, grid, {n: subst(v, lets) for n, v in lets.items()}, params, out)
    return out


def visit(stmts: tuple, scope: tuple, lets: dict, params: set[str], out: list[Access]) -> None:
    for s in stmts:
        if isinstance(s, l0.For):
            inner = (*scope, ("loop", s.var, subst(s.extent, lets)))
            out += [Access(x.buffer, subst(x.indices, lets), None, scope)
                    for x in walk(s.extent) if isinstance(x, l0.Load)]
            out.append(Access("", (), None, (*scope, ("extent", s.var, subst(s.extent, lets)))))
            visit(s.body, inner, lets, params, out)
            continue
        if isinstance(s, l0.Parallel):
            visit(s.body, (*scope, *(("var", v, (0, n - 1)) for v, n in zip(s.vars, s.extents))),
                  lets, params, out)
            continue
        if isinstance(s, l0.Copy):
            out += [Access(r.buffer, subst(r.starts, lets), r.extents, scope)
                    for r in (s.src, s.dst) if r.buffer in params]
        for x in walk(s):
            if isinstance(x, (l0.Load, l0.Store, l0.AtomicStore)):
                out.append(Access(x.buffer, subst(x.indices, lets), None, scope))


def ranges_of(scope: tuple, values: dict[str, Range]) -> dict[str, Range]:
    """Each variable's range in a scope; a loop's from its extent's bounds (none: unknown)."""
    ranges: dict[str, Range] = {}
    for kind, var, what in scope:
        if kind == "var":
            ranges[var] = what
        elif kind == "loop" and (n := bounds(what, ranges, values)) is not None and n[1] >= 1:
            ranges[var] = (0, n[1] - 1)
        elif kind == "loop":
            ranges.pop(var, None)
    return ranges


def index_bounds(i: Any, scope: tuple, ranges: dict, values: dict) -> Range | None:
    """bounds of an index, sharpened by each loop run backwards: a loop visits the same values of
    `var` and of `extent - 1 - var`, so an index bounded both ways lies in both (`k = n - 1 - kr`,
    a loop over a sequence's blocks from its last, is 0..n-1, not -(n-1)..n-1)."""
    out = bounds(i, ranges, values)
    for kind, var, extent in scope:
        if kind == "loop" and out is not None:
            flipped = bounds(subst(i, {var: l0.BinOp("-", l0.BinOp("-", extent, l0.Const(1, "int32")),
                                                     l0.Var(var))}), ranges, values)
            out = out if flipped is None else (max(out[0], flipped[0]), min(out[1], flipped[1]))
    return out


def reads(e: Any, t: str) -> bool:
    return any(isinstance(x, l0.Load) and x.buffer == t for x in walk(e))


def offsets_end(t: str, accesses: list[Access], shapes: dict, copies: dict) -> int | None:
    """The largest last value of t as an offsets array (read at e and e + 1), or None if it is not one."""
    at = [affine(a.indices[0]) for a in accesses if a.buffer == t and a.extents is None]
    if not any(tt == ut and uc == tc + 1 for tt, tc in at for ut, uc in at):
        return None
    sizes = [shapes[a.buffer][d] for a in accesses if a.buffer != t and a.buffer in shapes
             for d, i in enumerate(a.indices) if any(c > 0 and reads(x, t) for x, c in affine(i)[0])]
    if not sizes:
        return None
    end = min(sizes + ([copies[t][1] - 1] if t in copies else []))
    return end if end >= shapes[t][0] - 1 else None


def length_high(t: str, accesses: list[Access], shapes: dict, values: dict) -> int | None:
    """The largest value an element of t bounding a loop may take, or None if none bounds one."""
    if not any(a.scope[-1][0] == "extent" and reads(a.scope[-1][2], t) for a in accesses if not a.buffer):
        return None
    fits = lambda n: all(inside(a, shapes, values | {t: (1, n)}) for a in accesses if a.buffer)  # noqa: E731
    if not fits(1):
        return None
    lo, hi = 1, BIG
    if fits(hi):
        return max(max(s) for s in shapes.values() if s)
    while hi - lo > 1:                       # fits(lo), not fits(hi)
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if fits(mid) else (lo, mid)
    return lo


def inside(a: Access, shapes: dict, values: dict) -> bool:
    """An access inside its buffer (a copy: its start inside its tensor; past its end it is masked),
    as far as bounds know: an index they cannot bound is not held against it."""
    ranges = ranges_of(a.scope, values)
    for d, i in enumerate(a.indices):
        r = index_bounds(i, a.scope, ranges, values)
        if r is not None and (r[0] < 0 or r[1] > shapes[a.buffer][d] - 1):
            return False
    return True


def index_range(t: str, accesses: list[Access], shapes: dict, values: dict) -> Range | None:
    """[low, high) keeping every element access whose index is `a * t[..] + rest` inside its buffer;
    None when t is in no element index, or in one some other way."""
    low, high, used = -BIG, BIG, False
    for a in accesses:
        if a.extents is not None or not a.buffer or a.buffer == t:
            continue
        ranges = ranges_of(a.scope, values)
        for d, i in enumerate(a.indices):
            terms, const = affine(i)
            mine = [(x, c) for x, c in terms if reads(x, t)]
            if not mine:
                continue
            rest = index_bounds(build([x for x in terms if x not in mine], const), a.scope, ranges, values)
            if len(mine) != 1 or not isinstance(mine[0][0], l0.Load) or mine[0][1] <= 0 or rest is None:
                return None
            c, used = mine[0][1], True
            low = max(low, -(rest[0] // c))
            high = min(high, (shapes[a.buffer][d] - 1 - rest[1]) // c + 1)
    return (low, high) if used else None
