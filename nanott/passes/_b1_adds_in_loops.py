"""Atomic adds inside kernel loops, for B1's split-K sub-step: where no two adds ever meet, each
becomes a read, a sum on chip and a write of its own region, where the add was.

Linear attention adds each chunk's output block into O with T.atomic_add inside its chunk loop. A
Tensix core cannot add into DRAM atomically, but it need not: when analysis of the destination
shows that two adds with different block indices or loop iterations never touch the same elements
(`apart`), no add can race another, and the add is an ordinary read-modify-write:

    copy O[r] -> O_old;  copy O_old -> O_sum;  O_sum = O_sum + block;  copy O_sum -> O[r]

which adds in float32 and rounds to O's dtype, as L0's atomic add does. The reader reads the
region and the writer writes it back in the same iteration; a later iteration touches another
region, so no read overtakes a write it depends on. Anything else stays an AtomicAdd, which
fold_split_k, the sub-step after this one, reports (NT323).
"""
from __future__ import annotations

from typing import Any

from nanott.ir import replace, walk
from nanott.languages import l1
from nanott.passes._affine import affine, subst
from nanott.passes._cb_plan import cb_plan
from nanott.passes._names import NameSupply, names_in


def sum_in_place(k: l1.Kernel, a: l1.AtomicAdd, shape: tuple[int, ...], names: NameSupply, what: str):
    """The atomic add `a` as a sum on chip: (allocs, reads of the old block, the sum, its write)."""
    dtype = next(p.dtype for p in k.params if p.name == a.dst.buffer)
    old, total = names.fresh(f"{a.dst.buffer}_old"), names.fresh(f"{a.dst.buffer}_sum")
    whole = (l1.Const(0, "int32"),) * len(shape)
    allocs = (l1.Alloc(old, shape, dtype, "shared", cb_plan(shape, dtype, 2, "the output's old block"), loc=a.loc),
              l1.Alloc(total, shape, dtype, "fragment", cb_plan(shape, dtype, 2, f"{what}, updated in place"),
                       loc=a.loc))
    read = (l1.Copy(a.dst, l1.Region(old, whole, shape), loc=a.loc),
            l1.Copy(l1.Region(old, whole, shape), l1.Region(total, whole, shape), loc=a.loc))
    idx = tuple(names.fresh(v) for v in "ij"[:len(shape)]) if len(shape) <= 2 else \
        tuple(names.fresh(f"i{d}") for d in range(len(shape)))
    at = tuple(l1.Var(v) for v in idx)
    value = l1.BinOp("+", l1.Load(total, at), l1.Load(a.src.buffer, at))
    add = l1.Parallel(idx, shape, (l1.Store(total, at, value, loc=a.loc),), loc=a.loc)
    return allocs, read, add, l1.Copy(l1.Region(total, whole, shape), a.dst, loc=a.loc)


def lower_adds_in_loops(k: l1.Kernel) -> l1.Kernel:
    """Atomic adds inside loops that never meet become a read, a sum and a write of their region."""
    pre, body = adds_in_loops(k, NameSupply(names_in(k)))
    return replace(k, body=(*pre, *body))


def adds_in_loops(k: l1.Kernel, names: NameSupply) -> tuple[tuple, tuple]:
    """Each atomic add inside kernel loops, where no two of its adds meet, as a read, a sum and
    a write in place: (allocs for the kernel's top, the body). Others are left for NT323."""
    lets: dict = {}
    for let in (x for x in walk(k.body) if isinstance(x, l1.Let)):      # in order: a let sees those before
        lets[let.var] = subst(let.value, lets)
    shapes = {s.name: s.shape for s in walk(k.body) if isinstance(s, l1.Alloc)}
    grid = {v: n for v, n in zip(k.block_vars, k.grid) if n > 1}
    pre: list = []

    def lower(s: Any, loops: tuple) -> tuple:
        if isinstance(s, l1.For):
            return (replace(s, body=tuple(x for b in s.body for x in lower(b, loops + (s,)))),)
        if not (isinstance(s, l1.AtomicAdd) and loops and s.src.buffer in shapes
                and tuple(s.src.extents) == shapes[s.src.buffer] and alone(k, s)):
            return (s,)
        starts = tuple(subst(x, lets) for x in s.dst.starts)
        moving = {**grid, **{f.var: f.extent.value if isinstance(f.extent, l1.Const) else None for f in loops}}
        if not apart(starts, s.dst.extents, moving):
            return (s,)
        allocs, read, add, write = sum_in_place(k, s, shapes[s.src.buffer], names, "one add's sum")
        pre.extend(allocs)
        return (*read, add, write)

    body = tuple(x for s in k.body for x in lower(s, ()))
    return tuple(pre), body


def apart(starts: tuple, extents: tuple, moving: dict[str, int | None]) -> bool:
    """Whether two adds with different values of the moving variables (name: how many values, None
    when not known) always touch regions that do not overlap. Per dim, the start is a sum of
    coefficients times atoms (_affine.py); the atoms that read a moving variable (v, v // c, v % c,
    with as many values as v has, v / c rounded up, c) must step like the digits of a mixed-radix
    number: the smallest |coefficient| at least the dim's extent, each next one at least the one
    below it times that atom's number of values. And every moving variable must be readable from the
    atoms: v itself, or both v // c and v % c. Then two different assignments differ in some atom,
    so their starts differ in that dim by at least the extent."""
    seen: set = set()
    for start, extent in zip(starts, extents):
        terms, _ = affine(start)
        reach: float = extent
        for atom, coef in sorted(((a, abs(c)) for a, c in terms if reads(a, moving)), key=lambda t: t[1]):
            if coef < reach:
                return False
            n = values(atom, moving)
            reach = float("inf") if n is None else coef * n
            seen.add(atom)
    divisors = {a.rhs for a in seen if isinstance(a, l1.BinOp)}
    return all(l1.Var(v) in seen or any(l1.BinOp("//", l1.Var(v), c) in seen and l1.BinOp("%", l1.Var(v), c) in seen
                                        for c in divisors) for v in moving)


def reads(atom: Any, moving: dict) -> bool:
    """Whether the atom reads a moving variable."""
    return any(isinstance(x, l1.Var) and x.name in moving for x in walk(atom))


def values(atom: Any, moving: dict) -> int | None:
    """How many values an atom takes: v has moving[v], v // c about moving[v] / c, v % c at most c."""
    match atom:
        case l1.Var(name):
            return moving.get(name)
        case l1.BinOp("//", l1.Var(name), l1.Const(c)) if moving.get(name) and c > 0:
            return -(-moving[name] // c)
        case l1.BinOp("%", l1.Var(_), l1.Const(c)) if c > 0:
            return c
    return None


def alone(k: l1.Kernel, a: l1.AtomicAdd) -> bool:
    """No statement but `a` reads or writes a's destination tensor."""
    return not [x for x in walk(k.body) if x is not a and getattr(x, "buffer", None) == a.dst.buffer
                and not any(x is y for y in walk(a))]
