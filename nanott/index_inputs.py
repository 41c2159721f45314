"""Random inputs for index tensors: the values a kernel may read as block indices.

A kernel that reads an element of an integer tensor into a let and starts a DRAM copy at a multiple
of it (`kb = BlockIndex[bz, by, bx, t]`, then `T.copy(K[bz, by, kb * 64:(kb + 1) * 64, :], K_s)`)
addresses DRAM with data: random integers would send the copy outside the tensor. Found by analysis
of the L0 kernel (lets put in place of their names, copy starts as affine sums): when every copy
start that reads the tensor is `a * element + b` (a > 0, b an integer), the tensor's random values
are drawn from the range that keeps each such copy inside its tensor, the intersection over them.
"""
from __future__ import annotations

from nanott.ir import walk
from nanott.languages import l0
from nanott.passes._affine import affine, subst


def index_ranges(kernel: l0.Kernel) -> dict[str, tuple[int, int]]:
    """tensor -> [low, high) of the values its elements may take as copy starts."""
    params = {p.name: p for p in kernel.params}
    lets = {}
    for s in walk(kernel.body):
        if isinstance(s, l0.Let):
            lets[s.var] = subst(s.value, lets)
    ranges: dict[str, tuple[int, int]] = {}
    bad: set[str] = set()
    for c in (x for x in walk(kernel.body) if isinstance(x, l0.Copy)):
        for r in (c.src, c.dst):
            if r.buffer not in params:
                continue
            for start, extent, size in zip(r.starts, r.extents, params[r.buffer].shape):
                terms, const = affine(subst(start, lets))
                loads = [(a, k) for a, k in terms if any(isinstance(x, l0.Load) and x.buffer in params
                                                         for x in walk(a))]
                names = {x.buffer for a, _ in loads for x in walk(a) if isinstance(x, l0.Load)}
                if len(loads) != 1 or len(terms) != 1 or not isinstance(loads[0][0], l0.Load) or loads[0][1] <= 0:
                    bad |= names
                    continue
                (load, a), = loads
                low, high = -(const // a), (size - extent - const) // a + 1
                old = ranges.get(load.buffer, (low, high))
                ranges[load.buffer] = (max(low, old[0]), min(high, old[1]))
    return {t: r for t, r in ranges.items() if t not in bad and r[0] < r[1]}
