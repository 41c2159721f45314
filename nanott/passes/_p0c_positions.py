"""Where P0c's sum launch finds adds that meet but do not cover their destination (varlen attention
backward's dK and dV at a sequence's first row, `kv_start + by * block_M`, read from DRAM): the
add's own positions, one grid block per value of the block index without the slice's digits and
per iteration of the loops around the add, each reading again from DRAM the lets that locate it
(_p0c_adds_that_meet.py says when, and what the launch sums).
"""
from __future__ import annotations

from dataclasses import dataclass

from nanott.ir import replace, walk
from nanott.languages import l0
from nanott.passes._affine import affine, build, subst
from nanott.passes._names import NameSupply

I32 = "int32"


@dataclass(frozen=True)
class Positions:
    """Where the sum launch of adds that do not tile their destination finds them: the add's own
    positions, one grid block per value of the block index's digits the start reads (`grid`,
    `block_vars`; `sub`: a digit `v % c` left out is v stepping by c), the lets its start reads
    from DRAM (`lets`, the tensors they read: `reads`) and the loops around it (`loops`)."""
    grid: tuple[int, ...]
    block_vars: tuple[str, ...]
    sub: dict
    lets: tuple
    reads: tuple[str, ...]
    loops: tuple


def positions(k: l0.Kernel, a: l0.AtomicAdd, loops: tuple, digits: list) -> Positions | None:
    """The add's positions, for adds whose start is a value read from DRAM (a sequence's first row,
    not a multiple of the block: varlen attention's dK and dV at `kv_start + by * block_M`), or that
    do not cover their destination; None when the start or a loop's trip count reads something the
    sum launch cannot recompute: a let inside a loop, an on-chip buffer, or a slice digit."""
    dropped = {d.name for d, _ in digits if isinstance(d, l0.Var)}
    stepped = {d.lhs.name: d.rhs.value for d, _ in digits if isinstance(d, l0.BinOp)}
    top = {s.var: s for s in k.body if isinstance(s, l0.Let)}
    params = {p.name for p in k.params}
    need: list[str] = []

    def needs(e) -> bool:
        for x in walk(e):
            if isinstance(x, l0.Load) and x.buffer not in params:
                return False
            if isinstance(x, l0.Var) and x.name in top and x.name not in need:
                if not needs(top[x.name].value):
                    return False
                need.append(x.name)
            elif isinstance(x, l0.Var) and x.name not in top and x.name not in k.block_vars \
                    and x.name not in {f.var for f in loops}:
                return False
        return True

    if not all(needs(e) for e in (*a.dst.starts, *(f.extent for f in loops))):
        return None
    lets = tuple(s for s in k.body if isinstance(s, l0.Let) and s.var in need)
    inlined: dict = {}
    for s in lets:
        inlined[s.var] = subst(s.value, inlined)
    if any(isinstance(x, l0.Var) and x.name in (dropped | set(stepped))
           for f in loops for x in walk(subst(f.extent, inlined))):
        return None
    keep = [(v, n // stepped.get(v, 1)) for v, n in zip(k.block_vars, k.grid) if v not in dropped]
    sub = {v: l0.BinOp("*", l0.Var(v), l0.Const(c, I32)) for v, c in stepped.items()}
    reads = tuple(dict.fromkeys(x.buffer for s in lets for x in walk(s) if isinstance(x, l0.Load)))
    return Positions(tuple(n for _, n in keep), tuple(v for v, _ in keep), sub,
                     tuple(replace(s, value=subst(s.value, sub)) for s in lets), reads, loops)


def position_launch(name: str, a: l0.AtomicAdd, dst: l0.Tensor, shape: tuple, scratch: l0.Tensor, slots: int,
                    names: NameSupply, reduce_body, at: Positions, params: tuple) -> l0.Kernel:
    """One grid block per position of the add (its block index without the slice digits, and the
    loops around it): the lets that locate it, read again from DRAM, then the old region plus each
    slice's partial at that same region, in slice order. Positions never overlap (apart), so no two
    blocks touch the same element; a region at a data start is read and written row by row (C1)."""
    starts = tuple(build(*affine(subst(x, at.sub))) for x in a.dst.starts)
    region = l0.Region(dst.name, starts, a.dst.extents, loc=a.loc)

    def part(s: l0.Expr) -> l0.Region:
        return l0.Region(scratch.name, (s, *starts), (1, *a.dst.extents), loc=a.loc)

    body = reduce_body(region, shape, dst, scratch, slots, part, names, a.loc)
    allocs = tuple(s for s in body if isinstance(s, l0.Alloc))
    inner = tuple(s for s in body if not isinstance(s, l0.Alloc))
    for f in reversed(at.loops):
        inner = (l0.For(f.var, subst(f.extent, at.sub), "serial", 0, inner, loc=f.loc),)
    reads = tuple(p for p in params if p.name in at.reads and p.name not in (dst.name, scratch.name))
    return l0.Kernel(name, (dst, scratch, *reads), at.grid or (1,), at.block_vars or (names.fresh("bx"),),
                     (*allocs, *at.lets, *inner), (), loc=a.loc)
