"""C2c share-circular-buffers: L5 -> L5

Changes:   when the program declares more CBs than a core has, CBs whose blocks are never alive
           at the same time share one: an interval colouring of their live ranges (_c2c_lives.py),
           each buffer first split into webs (_c2c_webs.py: one per statement that writes it
           whole without reading it), so that a buffer rewritten whole is free in between.
           Only CBs that tile groups and the reader's generated blocks (GenerateToCb) alone
           write and read share, and only CBs of one shape, dtype and pair of roles (reader ->
           compute, compute -> compute): each of the two kernels on a CB makes and takes its
           blocks in program order, the order the live ranges are measured in, so the CB holds
           the blocks of one buffer after another, first in, first out. A CB a DRAM read or write
           touches keeps its own: D3a..D3d reorder those transfers (batches, multicasts, reads
           split between the movers). One shape and dtype: one page format and block of tiles,
           so the CB's configuration stays what each buffer asked for; the deeper plan wins. Greedy by first position,
           each CB takes the lowest-numbered CB of its kind whose range ended before it starts:
           for intervals this uses as few CBs as the most ranges alive at one point. The CBs
           sharing one are renumbered onto it (the first declared keeps its name and index order)
           and its plan says who shares it and why. A program that fits is left as it is.
Preserves: every statement, value and rounding; a shared CB holds one buffer's blocks at a time,
           in the order compute makes them (C3 then finds the last reader of each block).
Why:       a Tensix core has 32 CB indices (Wormhole; 64 on Blackhole), and a kernel of many small
           steps (a chain of elementwise maps, each into a fragment of its own; a backward pass's
           many gradients) asks for more buffers than that, though few of them live at once:
           what a register allocator does for registers.
"""
from __future__ import annotations

from nanott.diagnostics import NanottError
from nanott.ir import replace
from nanott.languages import l5
from nanott.passes._c2c_lives import Lives, Span, live_ranges
from nanott.passes._c2c_webs import split_webs
from nanott.passes._cb_numbers import renumber
from nanott.passes._cb_uses import leaves, roles, touches
from nanott.target import Target


def share_circular_buffers(program: l5.Kernel, target: Target) -> l5.Kernel:
    if len(program.cbs) <= target.num_cbs:
        return program
    kind = shareable(program, live_ranges(program.body))
    split, origin = split_webs(program, set(kind))
    kind |= {web: kind[cb] for web, cb in origin.items()}
    lives = live_ranges(split.body)
    shared = colour(kind, lives.spans)
    check_disjoint(shared, lives.spans)
    out = merge(split, shared, origin)
    if len(out.cbs) > target.num_cbs:
        raise too_many(program, out, target)
    return out


def shareable(program: l5.Kernel, lives: Lives) -> dict[int, tuple]:
    """The CBs that may share, each with its kind (shape, dtype, roles): only CBs of one kind share."""
    made, used = roles(program)
    moved = {cb for s in leaves(program.body) if not isinstance(s, l5.TileGroup | l5.GenerateToCb)
             for cb in set.union(*touches(s))}
    return {cb.index: (cb.shape, cb.dtype, *made[cb.index], *used[cb.index]) for cb in program.cbs
            if cb.index in lives.spans and cb.index not in lives.unmade | moved}


def too_many(program: l5.Kernel, out: l5.Kernel, target: Target) -> NanottError:
    """NT202 at the statement where the most CBs hold blocks at once."""
    lives = live_ranges(out.body)
    at, alive = lives.fullest()
    shared = (f"sharing one CB between buffers alive one after another (C2c) took the {len(program.cbs)} "
              f"down to {len(out.cbs)}" if len(out.cbs) < len(program.cbs) else
              "no two of them are alive one after another, to share one CB (C2c)")
    return NanottError("NT202", f"the kernel needs {len(out.cbs)} circular buffers; a {target.name} core "
                       f"has {target.num_cbs}: {alive} of them hold blocks at once here, and {shared}",
                       lives.locs[at] if lives.locs else out.cbs[target.num_cbs].loc,
                       "keep fewer buffers alive at once: fuse elementwise steps into one T.Parallel, "
                       "or compute a value just before the statement that reads it")


def colour(kind: dict[int, tuple], spans: dict[int, Span]) -> dict[int, int]:
    """cb -> the CB it shares (itself for the first of each colour), over CBs of one kind."""
    ends: dict[int, int] = {}                # first CB of a colour -> the last position of its ranges
    shared: dict[int, int] = {}
    for cb in sorted(kind, key=lambda c: (spans[c].first, c)):
        free = [c for c, end in ends.items() if kind[c] == kind[cb] and end < spans[cb].first]
        owner = min(free, default=cb)
        shared[cb], ends[owner] = owner, spans[cb].last
    return shared


def check_disjoint(shared: dict[int, int], spans: dict[int, Span]) -> None:
    """A compiler bug if two CBs given one index have live ranges that meet."""
    for a in shared:
        for b in shared:
            if a < b and shared[a] == shared[b] and spans[a].meets(spans[b]):
                raise AssertionError(f"C2c would share one CB between cb{a} (alive {spans[a]}) and cb{b} "
                                     f"(alive {spans[b]}): their live ranges meet (a compiler bug)")


def merge(program: l5.Kernel, shared: dict[int, int], origin: dict[int, int] | None = None) -> l5.Kernel:
    """The program with each CB renumbered onto the first declared of those sharing it; `origin`:
    the buffer each web after a buffer's first is a web of (_c2c_webs.py), for the plan's words."""
    members: dict[int, list[int]] = {}
    for cb, owner in shared.items():
        members.setdefault(owner, []).append(cb)
    first = {cb: min(group) for group in members.values() for cb in group}
    kept = [cb for cb in program.cbs if first.get(cb.index, cb.index) == cb.index]
    number = {cb.index: i for i, cb in enumerate(kept)}
    number |= {cb: number[f] for cb, f in first.items()}
    cbs = tuple(shared_cb(program.cbs, cb, number[cb.index], sorted(
        c for c, f in first.items() if f == cb.index), origin or {}) for cb in kept)
    return replace(program, cbs=cbs, body=renumber(program.body, number))


def shared_cb(cbs: tuple, cb: l5.CircularBuffer, index: int, group: list[int],
              origin: dict[int, int]) -> l5.CircularBuffer:
    """cb at its new index; when others share it, as deep as the deepest and saying who they are
    (each buffer once, however many of its webs share it)."""
    if len(group) < 2:
        return replace(cb, index=index)
    depth = max(cbs[c].plan.depth for c in group)
    names = ", ".join(dict.fromkeys(cbs[origin.get(c, c)].name for c in group))
    why = f"{cb.plan.why}; shared by {names}: alive one after another in compute"
    return replace(cb, index=index, plan=replace(cb.plan, depth=depth, why=why))
