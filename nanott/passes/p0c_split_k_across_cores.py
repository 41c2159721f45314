"""P0c split-k-across-cores: L0 -> L0

Changes:   a kernel whose top-level T.atomic_add adds a block into a region that some grid
           dimension does not index (split-K: every slice bz adds into the same block of C), and
           whose output blocks alone would leave cores of the target idle, becomes two launches
           (a 2-D block, or a 1-D vector: row sums whose columns are split over cores):
             launch 0  the whole grid, slices included, dealt to the cores: each block copies its
                       partial sum into its own block of a scratch DRAM tensor (slice s's
                       partials in rows s * rows.. of it), where the atomic add was
             launch 1  the output blocks only: each reads its block of the destination, adds the
                       slices' partials to it in slice order, in float32 rounded to the
                       destination's dtype after each, and writes it back
           The first launch's grid line says so (`split_k=...`). With the output blocks enough to
           fill the cores, the kernel is left alone, and B1 runs the slices of each block one after
           another on the block's core (its split-K fold).
           An atomic add inside loops whose adds meet across grid blocks (flash attention's
           backward adds each key block's share of dQ into the same rows) becomes the same two
           launches whatever the core count, when analysis shows the adds never meet within a
           slice and cover the destination, or that a launch with a block per position of the
           add can find again (a start read from DRAM: varlen attention's dK and dV at a sequence's
           first row): there is no fold for it (_p0c_adds_that_meet.py; the grid line says
           `partials=...`).
Preserves: every number: the destination receives the same adds in the same order and with the
           same roundings as L0's atomic adds (grid order: slice after slice), and a partial is
           stored in its block's dtype (float32 for an fp32 accumulator), so exactly.
Why:       a Tensix core cannot add into DRAM atomically, so the slices of one block must meet
           somewhere. A second launch is that place: the launch boundary orders every partial
           write before every read, with no semaphore and no L1 on the owner core reserved for
           the other slices' blocks, and the slices of a block run on different cores. The price
           is the partials' round trip through DRAM (slices x the destination's bytes, twice),
           small beside a GEMM's operand traffic; a semaphore-guarded sum on the owner core would
           need NoC writes into another core's CB, which no language here has (only multicast
           into the same CB of a rectangle).
"""
from __future__ import annotations

from math import prod

from nanott.ir import replace, walk
from nanott.languages import l0
from nanott.passes._affine import affine, build
from nanott.passes._p0c_adds_that_meet import adds_that_meet, partial_launches
from nanott.passes._split_k import check
from nanott.passes._names import NameSupply, names_in
from nanott.target import Target

I32 = "int32"


def split_k_across_cores(k: l0.Kernel, target: Target) -> l0.Kernel | l0.Launches:
    if meet := adds_that_meet(k):              # adds that meet across blocks, but split-K's: always split
        return partial_launches(k, meet, reduce_body)
    adds = [n for n, s in enumerate(k.body) if isinstance(s, l0.AtomicAdd)]
    if len(adds) != 1:
        return k
    a = k.body[adds[0]]
    kept = {x.name for x in walk(a.dst.starts) if isinstance(x, l0.Var)}
    split = [d for d, v in enumerate(k.block_vars) if v not in kept]
    blocks = prod(n for d, n in enumerate(k.grid) if d not in split)
    if not split or blocks >= target.num_cores:
        return k
    shapes = {s.name: s.shape for s in walk(k.body) if isinstance(s, l0.Alloc)}
    check(k, adds[0], shapes)                  # what B1's fold needs holds here too
    names = NameSupply(names_in(k))
    dst = next(p for p in k.params if p.name == a.dst.buffer)
    src_dtype = next(s.dtype for s in walk(k.body) if isinstance(s, l0.Alloc) and s.name == a.src.buffer)
    slices = prod(k.grid[d] for d in split)
    rows = dst.shape[0]                         # slice s's partials: rows s * rows.. of the scratch
    scratch = l0.Tensor(names.fresh(f"{dst.name}_partial"), (slices * rows, *dst.shape[1:]), src_dtype, loc=a.loc)

    def partial(s: l0.Expr) -> l0.Region:
        first_row = l0.BinOp("+", l0.BinOp("*", s, l0.Const(rows, I32)), a.dst.starts[0])
        start = build(*affine(first_row))
        return l0.Region(scratch.name, (start, *a.dst.starts[1:]), a.dst.extents, loc=a.loc)

    note = l0.Attr("split_k", f"{slices} slices on their own cores, summed into {dst.name} by launch 1")
    first = replace(k, name=f"{k.name}_0", params=(*(p for p in k.params if p is not dst), scratch),
                    body=tuple(l0.Copy(a.src, partial(slice_index(k, split)), loc=a.loc) if s is a else s for s in k.body),
                    attrs=k.attrs + (note,))
    keep = [d for d in range(len(k.grid)) if d not in split]
    second = l0.Kernel(f"{k.name}_1", (dst, scratch), tuple(k.grid[d] for d in keep),
                       tuple(k.block_vars[d] for d in keep),
                       reduce_body(a.dst, tuple(a.dst.extents), dst, scratch, slices, partial, names, a.loc),
                       (), loc=a.loc)
    return l0.Launches(k.name, k.params, (scratch,), (first, second), loc=k.loc)


def slice_index(k: l0.Kernel, split: list[int]) -> l0.Expr:
    """The slice's number over the split dims, the first varying fastest (B1's fold order)."""
    terms, stride = [], 1
    for d in split:
        terms.append((l0.Var(k.block_vars[d]), stride))
        stride *= k.grid[d]
    return build(terms, 0)


def reduce_body(region: l0.Region, shape: tuple, dst: l0.Tensor, scratch: l0.Tensor, slices: int, partial,
                names: NameSupply, loc) -> tuple:
    """Old block in; for each slice s, its partial (the region `partial(s)`) added, rounded to dst's
    dtype; block out. `shape` is the on-chip block's (the region's, without its unit dims)."""
    old, total, part = (names.fresh(f"{dst.name}_{w}") for w in ("old", "sum", "part"))
    s, i, j = names.fresh("s"), names.fresh("i"), names.fresh("j")
    whole = (l0.Const(0, I32),) * len(shape)
    ij = (l0.Var(i), l0.Var(j))[:len(shape)]
    value = l0.BinOp("+", l0.Load(total, ij), l0.Load(part, ij))
    step = (l0.Copy(partial(l0.Var(s)), l0.Region(part, whole, shape), loc=loc),
            l0.Parallel((i, j)[:len(shape)], shape, (l0.Store(total, ij, value, loc=loc),), loc=loc))
    return (l0.Alloc(old, shape, dst.dtype, "shared", loc=loc),
            l0.Alloc(total, shape, dst.dtype, "fragment", loc=loc),
            l0.Alloc(part, shape, scratch.dtype, "shared", loc=loc),
            l0.Copy(region, l0.Region(old, whole, shape), loc=loc),
            l0.Copy(l0.Region(old, whole, shape), l0.Region(total, whole, shape), loc=loc),
            l0.For(s, l0.Const(slices, I32), "serial", 0, step, loc=loc),
            l0.Copy(l0.Region(total, whole, shape), region, loc=loc))
