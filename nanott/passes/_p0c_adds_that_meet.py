"""Atomic adds inside loops that meet across grid blocks, for P0c: each block's partials in a DRAM
scratch tensor of their own, summed in a fixed order by a second launch.

Flash attention's backward pass gives each grid block a block of keys; looping over the query
blocks, it adds that block's share of dQ into dQ's rows of the query block with T.atomic_add. Every
key block adds into the same rows: the adds of two grid blocks meet. A GPU resolves that with
atomics into global memory; a Tensix core has none, and no order between two cores' writes to
DRAM. What analysis of the destination's start shows instead:

  the split   the grid dims (of more than one block) whose block variable the start never reads:
              two blocks differing only there add into the same regions;
  apart       with the split fixed, two adds of different kept block indices or loop iterations
              never touch the same elements (B1's `apart`, _b1_adds_in_loops.py);
  covered     they tile the destination: as many adds as the destination has blocks of the add's
              shape, every loop of a constant trip count, so each block writes every partial.

Then nothing needs an atomic: launch 0 is the kernel with each add a copy of the block into
`dst_partial[s, start...]`, s the block's slice (split dims, the first varying fastest: the grid
order of L0), in the block's dtype (float32 for an fp32 accumulator: exactly); launch 1 has one
grid block per block of the destination, which reads the old block, adds the slices' partials in
slice order, rounding to the destination's dtype after each, and writes it back: the adds L0
performs, in L0's order, with L0's roundings. Where a kernel fails one of the three, the add is
left for B1 (an add that never meets) or its NT323.
"""
from __future__ import annotations

from math import prod
from typing import Any

from nanott.ir import replace, walk
from nanott.languages import l0
from nanott.passes._affine import subst
from nanott.passes._b1_adds_in_loops import alone, apart
from nanott.passes._names import NameSupply, names_in

I32 = "int32"


def nested_add(body: tuple, loops: tuple = ()) -> tuple[Any, tuple] | None:
    """The one atomic add under top-level loops only (no T.Parallel, no `if` around it), with them."""
    for s in body:
        if isinstance(s, l0.AtomicAdd) and loops:
            return s, loops
        if isinstance(s, l0.For) and (found := nested_add(s.body, loops + (s,))):
            return found
    return None


def adds_that_meet(k: l0.Kernel) -> tuple[l0.AtomicAdd, list[int]] | None:
    """(the add, its split dims) when k's one atomic add sits in loops, meets across the split dims,
    is apart within a slice and covers its destination; else None."""
    adds = [x for x in walk(k.body) if isinstance(x, l0.AtomicAdd)]
    found = nested_add(k.body)
    if len(adds) != 1 or found is None or not alone(k, adds[0]):
        return None
    a, loops = found
    shapes = {s.name: s.shape for s in walk(k.body) if isinstance(s, l0.Alloc)}
    if a.src.buffer not in shapes or prod(a.src.extents) != prod(shapes[a.src.buffer]):
        return None
    lets: dict = {}
    for let in (x for x in walk(k.body) if isinstance(x, l0.Let)):
        lets[let.var] = subst(let.value, lets)
    starts = tuple(subst(x, lets) for x in a.dst.starts)
    read = {x.name for x in walk(starts) if isinstance(x, l0.Var)}
    split = [d for d, (v, n) in enumerate(zip(k.block_vars, k.grid)) if n > 1 and v not in read]
    kept = {v: n for v, n in zip(k.block_vars, k.grid) if n > 1 and v in read}
    if not split or not all(isinstance(f.extent, l0.Const) for f in loops):
        return None
    moving = {**kept, **{f.var: f.extent.value for f in loops}}
    dst = next(p for p in k.params if p.name == a.dst.buffer)
    blocks = [n // e for n, e in zip(dst.shape, a.dst.extents)]
    if (not apart(starts, a.dst.extents, moving) or prod(moving.values()) != prod(blocks)
            or any(n % e for n, e in zip(dst.shape, a.dst.extents)) or sum(b > 1 for b in blocks) > 3):
        return None
    return a, split


def partial_launches(k: l0.Kernel, a: l0.AtomicAdd, split: list[int], slice_index, reduce_body) -> l0.Launches:
    """Launch 0: k with the add a copy into the slice's partials; launch 1: their sum, per block."""
    names = NameSupply(names_in(k))
    dst = next(p for p in k.params if p.name == a.dst.buffer)
    src_dtype = next(s.dtype for s in walk(k.body) if isinstance(s, l0.Alloc) and s.name == a.src.buffer)
    shape = next(s.shape for s in walk(k.body) if isinstance(s, l0.Alloc) and s.name == a.src.buffer)
    slices = prod(k.grid[d] for d in split)
    scratch = l0.Tensor(names.fresh(f"{dst.name}_partial"), (slices, *dst.shape), src_dtype, loc=a.loc)
    copy = l0.Copy(a.src, l0.Region(scratch.name, (slice_index(k, split), *a.dst.starts), (1, *a.dst.extents)),
                   loc=a.loc)
    split_vars = ", ".join(k.block_vars[d] for d in split)
    note = l0.Attr("partials", f"the adds into {dst.name} of blocks differing in ({split_vars}) meet: "
                               f"{slices} slices of partials, summed in slice order by the next launch")
    first = replace(k, name=f"{k.name}_0", params=(*(p for p in k.params if p is not dst), scratch),
                    body=swap(k.body, a, copy), attrs=k.attrs + (note,))
    dims = [d for d, (n, e) in enumerate(zip(dst.shape, a.dst.extents)) if n > e]
    block_vars = tuple(names.fresh(f"b{d}") for d in dims)
    starts = [l0.Const(0, I32)] * len(dst.shape)
    for d, v in zip(dims, block_vars):
        starts[d] = l0.Var(v) if a.dst.extents[d] == 1 else l0.BinOp("*", l0.Var(v), l0.Const(a.dst.extents[d], I32))
    region = l0.Region(dst.name, tuple(starts), a.dst.extents, loc=a.loc)

    def partial(s: l0.Expr) -> l0.Region:
        return l0.Region(scratch.name, (s, *starts), (1, *a.dst.extents), loc=a.loc)

    grid = tuple(dst.shape[d] // a.dst.extents[d] for d in dims) or (1,)
    second = l0.Kernel(f"{k.name}_1", (dst, scratch), grid, block_vars or (names.fresh("bx"),),
                       reduce_body(region, shape, dst, scratch, slices, partial, names, a.loc), (), loc=a.loc)
    return l0.Launches(k.name, k.params, (scratch,), (first, second), loc=k.loc)


def swap(body: tuple, old: Any, new: Any) -> tuple:
    """body with the statement `old` (at any depth of loops) replaced by `new`."""
    return tuple(new if s is old else replace(s, body=swap(s.body, old, new)) if isinstance(s, l0.For) else s
                 for s in body)
