"""A data-movement loop nest of NoC page reads or writes as one transfer per statement (used by
sim/lockstep.py): D3's `for i in 0..4: for j in 0..4: noc_async_read_page A.page[..] -> cb0.back[i*4+j]`
queues its 16 reads on every core of the group at once, one transfer holding a page id per
iteration and core, which the barrier moves with one gather (or scatter) instead of 16.

A nest qualifies when it is perfect (each loop's body is the next loop, the innermost one holds only
scalar lets and whole-page reads or writes) and no extent reads a variable of the nest; the
decision is made once per loop. At run time it runs statement-major only if that cannot differ from
running it iteration by iteration: each statement's CB slots are the same on every core and never
repeat (two reads into one slot, or two writes to one DRAM page, land in an order the reference
draws at random), and every rule the reference checks on each call is checked on the whole block
with the same verdict (rule 6 on the lowest and highest slot; rule 3.5 on every page id). Anything
else returns 0 and the caller runs the nest the reference's way, which raises the reference's
error. Lets and loop variables keep their last iteration's values afterwards, as the reference
leaves them.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from nanott.ir import walk
from nanott.languages import l9

MOVES = (l9.NocReadPage, l9.NocWritePage)


def nest(loop: l9.For) -> tuple[tuple[l9.For, ...], tuple] | None:
    """(the loops of a perfect nest of whole-page transfers, its innermost body), or None."""
    loops = [loop]
    while len(loops[-1].body) == 1 and isinstance(loops[-1].body[0], l9.For):
        loops.append(loops[-1].body[0])
    body = loops[-1].body
    whole = lambda s: (isinstance(s, l9.NocReadPage) and s.row is None and s.to is None) or \
        (isinstance(s, l9.NocWritePage) and s.row is None and s.source is None)     # noqa: E731
    if not any(isinstance(s, MOVES) for s in body) or not all(isinstance(s, l9.Let) or whole(s) for s in body):
        return None
    names = {f.var for f in loops}
    if any(isinstance(x, l9.Var) and x.name in names for f in loops for x in walk(f.extent)):
        return None
    return tuple(loops), body


class _Env:
    def __init__(self, scalars):
        self.scalars, self.buffers = scalars, {}


class _Layered(dict):
    """The nest's own scalars (its loop variables, its lets) over the kernel's, which it reads
    through (a fork's branch slices its per-core values to its lanes as they are read)."""

    def __init__(self, under: dict):
        super().__init__()
        self.under = under

    def __missing__(self, name: str) -> Any:
        return self.under[name]


def run(interp: Any, found: tuple, env: Any) -> int:
    """Queue the nest's transfers on every core of the group at once: how many iterations that
    stood for, or 0 (nothing changed) if it could differ from the reference's order or a rule
    would fail."""
    loops, body = found
    extents = [interp.index(f.extent, env) for f in loops]
    total = math.prod(extents)
    if total < 2:
        return 0
    scalars = _Layered(env.scalars)
    for f, i in zip(loops, np.indices(extents).reshape(len(loops), -1)):
        scalars[f.var] = i.reshape(-1, 1)                       # iterations x cores
    width, inner, queued = interp.width_of(env), _Env(scalars), []
    for s in body:
        if isinstance(s, l9.Let):
            scalars[s.var] = interp.eval(s.value, inner)
            continue
        slots = _uniform(interp.eval(s.slot, inner), total)
        pages = np.broadcast_to(np.asarray(interp.eval(s.page, inner), dtype=np.int64), (total, width))
        if slots is None or len(np.unique(slots)) < total:
            return 0
        ring = env.cbs[s.cb]
        lo, hi = int(slots.min()), int(slots.max())
        if isinstance(s, l9.NocReadPage):
            if lo < 0 or hi >= ring.reserved:
                return 0
            queued.append((s, ring, ring.wr + slots, pages))
        else:
            if lo < 0 or hi >= ring.waited or len(np.unique(pages)) < pages.size:
                return 0
            queued.append((s, ring, ring.rd + slots, pages))
        count = env.noc.dram.count(s.tensor)
        if pages.min() < 0 or pages.max() >= count:
            return 0
    for s, ring, l1, pages in queued:
        (env.noc.read_block if isinstance(s, l9.NocReadPage) else env.noc.write_block)(s.tensor, pages, ring, l1,
                                                                                         env.lanes)
    for name in [f.var for f in loops] + [s.var for s in body if isinstance(s, l9.Let)]:
        v = scalars[name]                                      # the last iteration's values
        if isinstance(v, np.ndarray) and v.ndim == 2:
            v = int(v[-1, 0]) if v.shape[1] == 1 else v[-1]
        env.scalars[name] = v
    return total


def _uniform(v: Any, total: int) -> np.ndarray | None:
    """A slot per iteration, the same on every core of the group (None if it is not)."""
    v = np.asarray(v)
    if v.ndim == 1:                      # per core only
        v = v[None, :]
    if v.ndim == 2:
        if not (v == v[:, :1]).all():
            return None
        v = v[:, 0]
    return np.broadcast_to(v.astype(np.int64), (total,))
