"""Atomic adds that meet across grid blocks, for P0c: each block's partials in a DRAM scratch tensor
of their own, summed in a fixed order by one more launch per destination.

Flash attention's backward pass gives each grid block a block of keys; looping over the query
blocks, it adds that block's share of dQ into dQ's rows of the query block with T.atomic_add. Every
key block adds into the same rows: the adds of two grid blocks meet. With grouped queries (GQA) the
heads of a group share one head of K and V, and each adds its dK and dV into it after the loop. A GPU
resolves that with atomics into global memory; a Tensix core has none, and no order between two
cores' writes to DRAM. What analysis of each add's destination start shows instead:

  the slice   the digits of the block index the start does not determine: a grid index of more
              than one block it never reads (every key block `by` adds into the same dQ rows), or
              `v % c` where it reads v only as `v // c` (the heads `bx` of a group of c);
  apart       in the scratch region (slice, start...), two adds of different block indices or
              loop iterations never touch the same elements (B1's `apart`, _b1_adds_in_loops.py),
              every loop of a constant trip count, every start a multiple of its extent;
  covered     as many adds as slices times the destination's blocks of the add's shape, so every
              slice writes every one of its partials; or else
  positions   the sum launch can find the add's regions again: its start and the trip counts of
              the loops around it read only block indices, loop variables and lets read from
              DRAM at the kernel's top (varlen attention's `kv_start + by * block_M`, a sequence's
              first row: no multiple of the block, and the adds need not cover the destination).

Then nothing needs an atomic: launch 0 is the kernel with each such add a copy of the block into
`dst_partial[slice, start...]`, in the block's dtype (float32 for an fp32 accumulator: exactly);
then, per destination, a launch with one grid block per block of it reads the old block, adds the
slices' partials in slice order (the first digit fastest: L0's grid order, bx fastest), rounding
to the destination's dtype after each, and writes it back: the adds L0 performs, in L0's order,
with L0's roundings. Where the adds are not covered, the launch has one grid block per position
of the add instead (the block index without the slice's digits, and the loops around it): it reads
the lets that locate the add again from DRAM, and sums the old region and the slices' partials at
that same region; positions never overlap (apart), and a region at a data start is read and written
row by row (C1's row gathers and scatters), so no two blocks touch the rows of one another's tiles.
A kernel whose one add sits at its top level with whole grid indices as its
slice is split-K, which P0c itself handles; an add that fails a fact above is left for B1 (an add
that never meets) or its NT323.
"""
from __future__ import annotations

from functools import partial as bind
from math import prod
from typing import Any

from nanott.ir import replace, walk
from nanott.languages import l0
from nanott.passes._affine import affine, build, divide, subst
from nanott.passes._b1_adds_in_loops import alone, apart
from nanott.passes._names import NameSupply, names_in
from nanott.passes._p0c_positions import position_launch, positions

I32 = "int32"
AFTER = {0: "next", 1: "second next", 2: "third next"}    # the launches after this one, by how far


def adds_with_loops(body: tuple, loops: tuple = ()) -> list | None:
    """(add, the loops around it) for every atomic add; None if one sits in a T.Parallel or an if."""
    out: list = []
    for s in body:
        if isinstance(s, l0.AtomicAdd):
            out.append((s, loops))
        elif isinstance(s, l0.For):
            inner = adds_with_loops(s.body, loops + (s,))
            if inner is None:
                return None
            out += inner
        elif any(isinstance(x, l0.AtomicAdd) for x in walk(s)):
            return None
    return out


def slice_digits(k: l0.Kernel, starts: tuple) -> list[tuple[Any, int]]:
    """(digit, how many values) for each digit of the block index the start does not determine."""
    atoms = [a for s in starts for a, _ in affine(s)[0]]
    digits = []
    for v, n in zip(k.block_vars, k.grid):
        reads = [a for a in atoms if any(isinstance(x, l0.Var) and x.name == v for x in walk(a))]
        whole = {a.rhs.value for a in reads if isinstance(a, l0.BinOp) and a.op == "//" and a.lhs == l0.Var(v)
                 and isinstance(a.rhs, l0.Const)}
        if n > 1 and not reads:
            digits.append((l0.Var(v), n))
        elif n > 1 and len(whole) == 1 and len(reads) == 1 and n % (c := whole.pop()) == 0 and c > 1:
            digits.append((l0.BinOp("%", l0.Var(v), l0.Const(c, I32)), c))
    return digits


def adds_that_meet(k: l0.Kernel) -> list[tuple[l0.AtomicAdd, Any, int, Any]] | None:
    """(add, its slice, how many slices, None or its Positions) for every add that meets across
    blocks, when each is apart and either covered or at positions a sum launch can recompute, and
    the kernel is not split-K's one top-level add; else None."""
    found = adds_with_loops(k.body)
    if not found:
        return None
    lets: dict = {}
    for let in (x for x in walk(k.body) if isinstance(x, l0.Let)):
        lets[let.var] = subst(let.value, lets)
    shapes = {s.name: s.shape for s in walk(k.body) if isinstance(s, l0.Alloc)}
    grid = {v: n for v, n in zip(k.block_vars, k.grid) if n > 1}
    meets = []
    for a, loops in found:
        starts = tuple(subst(x, lets) for x in a.dst.starts)
        if digits := slice_digits(k, starts):
            meets.append((a, loops, starts, digits))
    if not meets or len(found) == 1 and not meets[0][1] and all(isinstance(d, l0.Var) for d, _ in meets[0][3]):
        return None
    out = []
    for a, loops, starts, digits in meets:
        stride, terms = 1, []
        for d, n in digits:
            terms.append((d, stride))
            stride *= n
        slot = build(terms, 0)
        moving = {**grid, **{f.var: f.extent.value if isinstance(f.extent, l0.Const) else None for f in loops}}
        if (a.src.buffer not in shapes or prod(a.src.extents) != prod(shapes[a.src.buffer]) or not alone(k, a)
                or not apart((slot, *starts), (1, *a.dst.extents), moving)):
            return None
        if covered(k, a, starts, loops, moving, stride):
            out.append((a, slot, stride, None))
        elif (at := positions(k, a, loops, digits)) is not None:
            out.append((a, slot, stride, at))
        else:
            return None
    return out


def covered(k: l0.Kernel, a: l0.AtomicAdd, starts: tuple, loops: tuple, moving: dict, slots: int) -> bool:
    """Whether the adds tile the destination: every start a multiple of its extent, as many adds as
    slices times the destination's blocks, every loop of a constant trip count."""
    dst = next(p for p in k.params if p.name == a.dst.buffer)
    blocks = [n // e for n, e in zip(dst.shape, a.dst.extents)]
    return (all(isinstance(f.extent, l0.Const) for f in loops)
            and all(divide(s, e) is not None for s, e in zip(starts, a.dst.extents))
            and prod(moving.values()) == slots * prod(blocks)
            and not any(n % e for n, e in zip(dst.shape, a.dst.extents)) and sum(b > 1 for b in blocks) <= 3)


def partial_launches(k: l0.Kernel, meets: list, reduce_body) -> l0.Launches:
    """Launch 0: k with each add a copy into its slice's partials; then a launch per add summing them."""
    names = NameSupply(names_in(k))
    swaps, scratches, sums, notes = {}, [], [], []
    for a, slot, slots, at in meets:
        dst = next(p for p in k.params if p.name == a.dst.buffer)
        src = next(s for s in walk(k.body) if isinstance(s, l0.Alloc) and s.name == a.src.buffer)
        scratch = l0.Tensor(names.fresh(f"{dst.name}_partial"), (slots, *dst.shape), src.dtype, loc=a.loc)
        region = l0.Region(scratch.name, (slot, *a.dst.starts), (1, *a.dst.extents), loc=a.loc)
        swaps[id(a)] = l0.Copy(a.src, region, loc=a.loc)
        scratches.append(scratch)
        notes.append(l0.Attr("partials", f"the adds into {dst.name} of blocks differing in {slot} meet: {slots} "
                                         f"slices of partials, summed in slice order by the {AFTER.get(len(sums), 'next but more')} "
                                         "launch"))
        make = sum_launch if at is None else bind(position_launch, at=at, params=k.params)
        sums.append(make(f"{k.name}_{len(sums) + 1}", a, dst, src.shape, scratch, slots, names, reduce_body))
    dsts = {a.dst.buffer for a, _, _, _ in meets}
    first = replace(k, name=f"{k.name}_0", params=(*(p for p in k.params if p.name not in dsts), *scratches),
                    body=swap(k.body, swaps), attrs=k.attrs + tuple(notes))
    return l0.Launches(k.name, k.params, tuple(scratches), (first, *sums), loc=k.loc)


def sum_launch(name: str, a: l0.AtomicAdd, dst: l0.Tensor, shape: tuple, scratch: l0.Tensor, slots: int,
               names: NameSupply, reduce_body) -> l0.Kernel:
    """One grid block per block of dst: the old block plus each slice's partial, in slice order."""
    dims = [d for d, (n, e) in enumerate(zip(dst.shape, a.dst.extents)) if n > e]
    block_vars = tuple(names.fresh(f"b{d}") for d in dims)
    starts = [l0.Const(0, I32)] * len(dst.shape)
    for d, v in zip(dims, block_vars):
        starts[d] = l0.Var(v) if a.dst.extents[d] == 1 else l0.BinOp("*", l0.Var(v), l0.Const(a.dst.extents[d], I32))
    region = l0.Region(dst.name, tuple(starts), a.dst.extents, loc=a.loc)

    def partial(s: l0.Expr) -> l0.Region:
        return l0.Region(scratch.name, (s, *starts), (1, *a.dst.extents), loc=a.loc)

    grid = tuple(dst.shape[d] // a.dst.extents[d] for d in dims) or (1,)
    return l0.Kernel(name, (dst, scratch), grid, block_vars or (names.fresh("bx"),),
                     reduce_body(region, shape, dst, scratch, slots, partial, names, a.loc), (), loc=a.loc)


def swap(body: tuple, new: dict[int, Any]) -> tuple:
    """body with each statement whose id is in `new` (at any depth of loops) replaced."""
    return tuple(new[id(s)] if id(s) in new else replace(s, body=swap(s.body, new)) if isinstance(s, l0.For) else s
                 for s in body)
