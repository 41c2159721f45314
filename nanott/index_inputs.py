"""Random inputs for index tensors: the values a kernel may read as block indices.

A kernel that reads an element of an integer tensor into a let and starts a DRAM copy at a multiple
of it (`kb = BlockIndex[bz, by, bx, t]`, then `T.copy(K[bz, by, kb * 64:(kb + 1) * 64, :], K_s)`)
addresses DRAM with data: random integers would send the copy outside the tensor. Found by analysis
of the L0 kernel (lets put in place of their names, copy starts as affine sums): when every copy
start that reads the tensor is `a * element + b` (a > 0, b an integer, an affine sum of block
indices: `start + bx * 32`, varlen attention's rows, or a part nanott/value_bounds.py bounds, such
as `(k * 64) % 64`), the tensor's random values are drawn from the
range that keeps each such copy inside its tensor for every block, the intersection over them. The
rows a row scatter writes count as a copy of its block (nanott/row_gather.py). The other uses of
an integer tensor (offsets, lengths, element indices) are nanott/index_roles.py's.
"""
from __future__ import annotations

from nanott.ir import walk
from nanott.languages import l0
from nanott.passes._affine import affine, build, subst
from nanott.row_gather import row_scatter, uses
from nanott.passes._padding import interval
from nanott.value_bounds import bounds


def index_ranges(kernel: l0.Kernel) -> dict[str, tuple[int, int]]:
    """tensor -> [low, high) of the values its elements may take as copy starts."""
    params = {p.name: p for p in kernel.params}
    lets: dict = {}
    grid: dict[str, tuple[int, int]] = {}                  # each block index's range, over the launches
    for k in getattr(kernel, "launches", (kernel,)):       # a program of several launches: each
        scan(k.body, lets, {v: (0, n - 1) for v, n in zip(k.block_vars, k.grid)}, 1)
        grid |= {v: (0, max(n - 1, grid.get(v, (0, 0))[1])) for v, n in zip(k.block_vars, k.grid)}
    ranges: dict[str, tuple[int, int]] = {}
    bad: set[str] = set()
    for c in (x for x in walk(kernel.body) if isinstance(x, (l0.Copy, l0.Parallel))):
        for r in regions(c, params):
            if r.buffer not in params:
                continue
            for start, extent, size in zip(r.starts, r.extents, params[r.buffer].shape):
                terms, const = affine(subst(start, lets))
                loads = [(a, k) for a, k in terms if isinstance(a, l0.Load) and a.buffer in params]
                names = {x.buffer for a, _ in terms for x in walk(a) if isinstance(x, l0.Load)}
                rest = bounds(build([t for t in terms if t not in loads], const), grid)
                if len(loads) != 1 or rest is None or loads[0][1] <= 0:
                    bad |= names
                    continue
                (load, a), = loads
                low, high = -(rest[0] // a), (size - extent - rest[1]) // a + 1
                old = ranges.get(load.buffer, (low, high))
                ranges[load.buffer] = (max(low, old[0]), min(high, old[1]))
    return {t: r for t, r in ranges.items() if t not in bad and r[0] < r[1]}


def regions(x, params: dict) -> tuple:
    """The DRAM regions a copy moves, or a row scatter writes (its block's rows from `start + i`:
    the rows a sequence has, in varlen attention; nanott/row_gather.py)."""
    if isinstance(x, l0.Copy):
        return x.src, x.dst
    g = row_scatter(x, params)
    if g is None:
        return ()
    rows, width = g.extents
    starts = tuple(build([(a, k) for a, k in affine(e)[0] if a != l0.Var(g.var)], affine(e)[1]) for e in g.rows)
    return (l0.Region(g.tensor, (*starts, g.col), (*(rows if uses(e, (g.var,)) else 1 for e in g.rows), width)),)


def scan(stmts: tuple, lets: dict, ranges: dict, trips: int) -> None:
    """Each let's value with the lets before it put in place. A scalar a loop updates
    (`set s = s + counts[i]`, a T.alloc_var carried across iterations) is its first value plus
    `trips` times the increment, `trips` the most iterations the loops around the update run
    (interval analysis of their bounds over the grid): what its largest value can reach."""
    for s in stmts:
        if isinstance(s, l0.Let) and s.update:          # inside the loop the scalar stays a name
            step = l0.BinOp("-", subst(s.value, lets), l0.Var(s.var))
            lets[s.var] = l0.BinOp("+", lets[f"{s.var}@first"], l0.BinOp("*", l0.Const(trips, "int32"), step))
        elif isinstance(s, l0.Let):
            lets[s.var] = subst(s.value, lets)
        elif isinstance(s, l0.For):
            n = interval(s.extent, ranges)
            inner = {**ranges, s.var: (0, max(n[1] - 1, 0))} if n else ranges
            for v in {x.var for x in walk(s.body) if isinstance(x, l0.Let) and x.update}:
                lets[f"{v}@first"] = lets.pop(v, l0.Var(v))
            scan(s.body, lets, inner, trips * (n[1] if n else 1))
        elif isinstance(s, l0.Parallel):
            scan(s.body, lets, ranges, trips)
