"""Split-K, for B1: T.atomic_add lowered to a reduction on the core of each output block.

A grid dim whose block variable no T.atomic_add destination uses (split-K's bz: every slice adds
into the same block of C) is not dealt to cores. Instead each output block's slices run one after
another on the core that owns the block, as a loop `for bz in 0..n  (split-K: ...)` around the
body, and each `T.atomic_add(C[r], block)` becomes an accumulation on chip:

    C_old = alloc_shared, C_sum = alloc_fragment      (C's dtype, the block's shape)
    copy C[r] -> C_old;  copy C_old -> C_sum         the old values: atomic_add adds to them
    for bz in 0..n:  (split-K)
        ... the body, with  C_sum[i, j] = C_sum[i, j] + block[i, j]  for the atomic_add
    copy C_sum -> C[r]                               written once, after the last slice

which adds in the order and with the roundings L0's atomic adds have (grid order: slice after
slice, each add in float32 rounded to C's dtype). An atomic add inside a loop (linear attention
adds each chunk's output block) becomes the same read, add and write in place, one per iteration,
where analysis shows no two adds meet: every grid dim of more than one block is read by the
destination's start, and each enclosing loop moves it by at least its extent along some dim. Why on one core: a Tensix core cannot add into
DRAM atomically, and a reduction across cores (partials through a DRAM workspace and a second
phase, or between cores over the NoC) needs a barrier or semaphores nanott does not model yet; so
the slices of a block lose their parallelism, and the IR says so on the loop.
"""
from __future__ import annotations

from typing import Any

from nanott.diagnostics import NanottError
from nanott.ir import replace, walk
from nanott.languages import l1
from nanott.passes._affine import affine, subst
from nanott.passes._cb_plan import cb_plan
from nanott.passes._names import NameSupply, names_in

HINT = ("write split-K as TileLang does: after the K loop, T.atomic_add(C[by * bm, bx * bn], C_local) "
        "at the kernel's top level, with a start index of block indices")
LOOP_HINT = ("inside a loop, give each add its own region: a destination start that reads every grid index "
             "of more than one block and steps by its extent with each loop variable; or add after the loop")


def fold_split_k(k: l1.Kernel) -> tuple[tuple[int, ...], tuple[str, ...], tuple]:
    """The grid dims no T.atomic_add depends on folded into a loop around the body, on one core.

    Returns (grid, block variables, body); all unchanged without T.atomic_add."""
    at = [n for n, s in enumerate(k.body) if isinstance(s, l1.AtomicAdd)]
    adds = [k.body[n] for n in at]
    names = NameSupply(names_in(k))
    pre, body = adds_in_loops(k, names)
    nested = [x for s in body if not isinstance(s, l1.AtomicAdd) for x in walk(s)
              if isinstance(x, l1.AtomicAdd)]
    if nested:
        raise NanottError("NT323", "a T.atomic_add inside a loop whose adds may meet (two grid blocks or two "
                          "iterations adding into one region) is not supported yet", nested[0].loc, LOOP_HINT)
    if not adds:
        return k.grid, k.block_vars, (*pre, *body)
    kept = {x.name for a in adds for x in walk(a.dst.starts) if isinstance(x, l1.Var)}
    split = [i for i, v in enumerate(k.block_vars) if v not in kept]
    shapes = {s.name: s.shape for s in walk(k.body) if isinstance(s, l1.Alloc)}
    for n in at:
        check(k, n, shapes)
    pre, post, sums = list(pre), [], {}
    for n, a in zip(at, adds):
        allocs, read, sums[n], write = sum_in_place(k, a, shapes[a.src.buffer], names, "split-K sum")
        pre += [*allocs, *read]
        post.append(write)
    body = tuple(sums.get(n, s) for n, s in enumerate(body))
    for d in split:                                   # the first block variable varies fastest
        body = (l1.For(k.block_vars[d], l1.Const(k.grid[d], "int32"), "split", 0, body, loc=k.loc),)
    keep = [d for d in range(len(k.grid)) if d not in split]
    return (tuple(k.grid[d] for d in keep), tuple(k.block_vars[d] for d in keep),
            (*pre, *body, *post))


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


def adds_in_loops(k: l1.Kernel, names: NameSupply) -> tuple[tuple, tuple]:
    """Each atomic add inside kernel loops, where no two of its adds meet, as a read, a sum and
    a write in place: (allocs for the kernel's top, the body). Others are left for NT323."""
    lets: dict = {}
    for let in (x for x in walk(k.body) if isinstance(x, l1.Let)):      # in order: a let sees those before
        lets[let.var] = subst(let.value, lets)
    shapes = {s.name: s.shape for s in walk(k.body) if isinstance(s, l1.Alloc)}
    grid = {v for v, n in zip(k.block_vars, k.grid) if n > 1}
    pre: list = []

    def lower(s: Any, loops: tuple) -> tuple:
        if isinstance(s, l1.For):
            return (replace(s, body=tuple(x for b in s.body for x in lower(b, loops + (s,)))),)
        if not (isinstance(s, l1.AtomicAdd) and loops and s.src.buffer in shapes
                and tuple(s.src.extents) == shapes[s.src.buffer] and alone(k, s)):
            return (s,)
        starts = tuple(subst(x, lets) for x in s.dst.starts)
        if not grid <= {x.name for x in walk(starts) if isinstance(x, l1.Var)} or \
                not all(moves(starts, s.dst.extents, f, loops) for f in loops):
            return (s,)
        allocs, read, add, write = sum_in_place(k, s, shapes[s.src.buffer], names, "one add's sum")
        pre.extend(allocs)
        return (*read, add, write)

    body = tuple(x for s in k.body for x in lower(s, ()))
    return tuple(pre), body


def moves(starts: tuple, extents: tuple, loop: l1.For, loops: tuple) -> bool:
    """Some dim's start steps by at least its extent per iteration of `loop` and reads no other loop."""
    others = {f.var for f in loops} - {loop.var}
    for start, extent in zip(starts, extents):
        terms, _ = affine(start)
        coef = sum(c for a, c in terms if a == l1.Var(loop.var))
        if abs(coef) >= extent and not {x.name for x in walk(start) if isinstance(x, l1.Var)} & others:
            return True
    return False


def alone(k: l1.Kernel, a: l1.AtomicAdd) -> bool:
    """No statement but `a` reads or writes a's destination tensor."""
    return not [x for x in walk(k.body) if x is not a and getattr(x, "buffer", None) == a.dst.buffer
                and not any(x is y for y in walk(a))]


def check(k: l1.Kernel, n: int, shapes: dict) -> None:
    """What the fold needs of the atomic add k.body[n]: a 2-D destination at block indices, a
    whole on-chip block added, and no other statement touching the destination tensor."""
    a = k.body[n]
    if len(a.dst.extents) != 2 or any(isinstance(x, l1.Var) and x.name not in k.block_vars
                                      for x in walk(a.dst.starts)):
        raise NanottError("NT323", f"T.atomic_add into {a.dst}: only a 2-D region at block indices "
                          "is supported yet", a.loc, HINT)
    if a.src.buffer not in shapes or tuple(a.src.extents) != shapes[a.src.buffer]:
        raise NanottError("NT323", f"T.atomic_add of {a.src}: only a whole on-chip block can be added "
                          "yet", a.loc, HINT)
    others = [x for m, s in enumerate(k.body) if m != n for x in walk(s)
              if getattr(x, "buffer", None) == a.dst.buffer]
    if others:
        raise NanottError("NT323", f"{a.dst.buffer} is the destination of a T.atomic_add and also "
                          "read or written otherwise; that is not supported yet", a.loc, HINT)
