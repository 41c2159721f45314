"""Split-K, for B1 and P0c: T.atomic_add lowered to a reduction on the core of each output block
(B1's fold), and what either needs of the atomic add (`check`).

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
slice, each add in float32 rounded to C's dtype). An atomic add inside a loop whose adds never
meet was made a read, a sum and a write where it is before (_b1_adds_in_loops.py, the sub-step
lower_adds_in_loops). Why on one core: a Tensix core cannot add into DRAM atomically. P0c sends
the slices to cores of their own and sums them in a second launch when the output blocks alone
leave cores idle; otherwise (or with P0c skipped) they meet here, losing their parallelism, and
the IR says so on the loop.
"""
from __future__ import annotations

from nanott.diagnostics import NanottError
from nanott.ir import walk
from nanott.languages import l1
from nanott.passes._affine import subst
from nanott.passes._b1_adds_in_loops import sum_in_place
from nanott.passes._names import NameSupply, names_in

HINT = ("write split-K as TileLang does: after the K loop, T.atomic_add(C[by * bm, bx * bn], C_local) "
        "at the kernel's top level, with a start index of block indices")
DATA_HINT = ("adds at a row read from DRAM run when only one block index moves them apart: one sequence per "
             "launch (batch 1), or each block adding only the rows it owns")
LOOP_HINT = ("inside a loop, give each add its own region: a destination start that reads every grid index "
             "of more than one block and steps by its extent with each loop variable; or add after the loop")


def fold_split_k(k: l1.Kernel) -> tuple[tuple[int, ...], tuple[str, ...], tuple]:
    """The grid dims no T.atomic_add depends on folded into a loop around the body, on one core.

    Returns (grid, block variables, body); all unchanged without T.atomic_add."""
    at = [n for n, s in enumerate(k.body) if isinstance(s, l1.AtomicAdd)]
    adds = [k.body[n] for n in at]
    names = NameSupply(names_in(k))
    nested = [x for s in k.body if not isinstance(s, l1.AtomicAdd) for x in walk(s)
              if isinstance(x, l1.AtomicAdd)]
    if nested:
        raise NanottError("NT323", "a T.atomic_add inside a loop whose adds may meet (two grid blocks or two "
                          "iterations adding into one region) is not supported yet", nested[0].loc, LOOP_HINT)
    if not adds:
        return k.grid, k.block_vars, k.body
    kept = {x.name for a in adds for x in walk(a.dst.starts) if isinstance(x, l1.Var)}
    split = [i for i, v in enumerate(k.block_vars) if v not in kept]
    shapes = {s.name: s.shape for s in walk(k.body) if isinstance(s, l1.Alloc)}
    for n in at:
        check(k, n, shapes)
    pre, post, sums = [], [], {}
    for n, a in zip(at, adds):
        allocs, read, sums[n], write = sum_in_place(k, a, shapes[a.src.buffer], names, "split-K sum")
        pre += [*allocs, *read]
        post.append(write)
    body = tuple(sums.get(n, s) for n, s in enumerate(k.body))
    for d in split:                                   # the first block variable varies fastest
        body = (l1.For(k.block_vars[d], l1.Const(k.grid[d], "int32"), "split", 0, body, loc=k.loc),)
    keep = [d for d in range(len(k.grid)) if d not in split]
    return (tuple(k.grid[d] for d in keep), tuple(k.block_vars[d] for d in keep),
            (*pre, *body, *post))


def data_start(k: l1.Kernel, a: l1.AtomicAdd) -> str | None:
    """The start of the add's destination, as printed, when it reads a let computed from a DRAM
    tensor's element (a sequence's first row); else None."""
    lets: dict = {}
    for let in (x for x in walk(k.body) if isinstance(x, l1.Let)):
        lets[let.var] = subst(let.value, lets)
    for start in a.dst.starts:
        if any(isinstance(x, l1.Load) for x in walk(subst(start, lets))):
            return str(start)
    return None


def check(k: l1.Kernel, n: int, shapes: dict) -> None:
    """What the fold needs of the atomic add k.body[n]: a 2-D (a block) or 1-D (row sums split over
    cores) destination at block indices, a whole on-chip block added, and no other statement
    touching the destination tensor."""
    a = k.body[n]
    if data := data_start(k, a):
        raise NanottError("NT323", f"T.atomic_add into {a.dst} at a start read from DRAM ({data}): the adds of "
                          "two blocks may meet (analysis cannot show their rows apart: two sequences' blocks "
                          "overlap past a sequence's end), and a Tensix core has no atomic add into DRAM",
                          a.loc, DATA_HINT)
    if len(a.dst.extents) not in (1, 2) or any(isinstance(x, l1.Var) and x.name not in k.block_vars
                                               for x in walk(a.dst.starts)):
        raise NanottError("NT323", f"T.atomic_add into {a.dst}: only a 1-D or 2-D region at block indices "
                          "is supported yet", a.loc, HINT)
    if a.src.buffer not in shapes or tuple(a.src.extents) != shapes[a.src.buffer]:
        raise NanottError("NT323", f"T.atomic_add of {a.src}: only a whole on-chip block can be added "
                          "yet", a.loc, HINT)
    others = [x for m, s in enumerate(k.body) if m != n for x in walk(s)
              if getattr(x, "buffer", None) == a.dst.buffer]
    if others:
        raise NanottError("NT323", f"{a.dst.buffer} is the destination of a T.atomic_add and also "
                          "read or written otherwise; that is not supported yet", a.loc, HINT)
