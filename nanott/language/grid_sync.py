"""`T.sync_grid()`: a barrier across every block of the grid, lowered by P0 to a launch boundary.

A persistent kernel (TileLang's example_mla_decode_persistent) runs one block per SM, each walking
tiles wave by wave; between a split phase and a combine phase it calls `T.sync_grid()`, so that every
block's DRAM writes of the first phase are seen by every block of the second. nanott lowers the
barrier to the end of one launch and the start of the next, over the same grid:

    with T.Kernel(n) as b:             launch 0: grid (b) in n, sync_grid="launch 1 of 2"
        <phase 1>                          <phase 1>
        T.sync_grid()           ->     launch 1: grid (b) in n, sync_grid="launch 2 of 2"
        <phase 2>                          <phase 2>

Why a launch: Tensix cores have no grid-wide hardware barrier. A program of several launches
(nanott/ir.py `Launches`) runs them one after another on the same DRAM, and the end of a launch is
exactly the barrier asked for: every core has finished and its writes have landed before any core
starts the next. Semaphores could build the barrier inside one launch (every core raising a counter
on one core, which then releases them all) and keep each core's L1; nanott does not, because a launch
boundary needs no new protocol, and what it costs, on-chip state that ends with the launch, is what
the persistent kernels do not need: they hand the split's results to the combine through DRAM.

What crosses the barrier, decided from the IR (never from names):
  - DRAM tensors (parameters, T.alloc_global): yes, the launches share DRAM.
  - an on-chip buffer declared before the barrier: its Alloc goes to each launch that uses it; a
    buffer used on one side only (the persistent file declares every buffer at the top) is fine.
  - an on-chip buffer live into a later launch (read there before a statement of its top level
    writes it whole: a fill, a copy into all of it, a gemm with clear_accum, a clearing reduce) and
    written by an earlier one: NT332, at its read; its value would not survive.
  - a scalar (a let) of an earlier launch: recomputed at the start of the later one when its value is
    made of block indices, constants and such scalars only (every core gets the same value again);
    one that reads memory or is updated (a carried T.alloc_var): NT332.
A `T.sync_grid()` inside a kernel loop or under an `if` on a run-time value is NT304 (builder.py):
a launch boundary cannot sit inside a loop of the kernel. One inside a Python `for` or `if` (run while
P0 parses) is a barrier at the kernel's top level, and lowers the same way.
"""
from __future__ import annotations

from dataclasses import dataclass

from nanott.diagnostics import NanottError
from nanott.ir import NOLOC, Loc, replace, walk
from nanott.languages import l0
from nanott.languages.l0_compiled import written


@dataclass(frozen=True)
class GridSync:
    """Where a `T.sync_grid()` stood in the kernel body (the builder's marker; never in L0)."""
    loc: Loc


def split_phases(body: tuple) -> list[tuple]:
    """The kernel body cut at its top-level GridSync markers: one statement tuple per launch, each
    with the Allocs of the on-chip buffers it uses and the scalars it recomputes; phases with
    nothing to run (only Allocs and lets) are dropped."""
    phases, cur, syncs = [], [], []
    for s in body:
        if isinstance(s, GridSync):
            phases.append(tuple(cur))
            syncs.append(s.loc)
            cur = []
        else:
            cur.append(s)
    phases.append(tuple(cur))
    allocs = {s.name: s for s in body if isinstance(s, l0.Alloc)}
    named = [{n for x in walk(p) for n in l0.buffer_names(x)} for p in phases]
    out = []
    for k, phase in enumerate(phases):
        check_live_buffers(phases[:k], phase, allocs, syncs)
        own = tuple(s for s in phase if not isinstance(s, l0.Alloc))
        lets = recomputed(phases[:k], own, phases)
        used = {n for x in walk((lets, own)) for n in l0.buffer_names(x)}
        keep = tuple(a for a in allocs.values()       # the buffers it uses; an unused one where declared
                     if a.name in used or (a in phase and not any(a.name in n for n in named)))
        if any(not isinstance(s, (l0.Alloc, l0.Let)) for s in own):
            out.append(keep + lets + own)
    return out


def wholly_written(s, allocs: dict) -> str | None:
    """The on-chip buffer a top-level statement writes in full without reading it, or None."""
    match s:
        case l0.Fill(b, value) if b not in {n for x in walk(value) for n in l0.buffer_names(x)}:
            return b
        case l0.Copy(src, dst) if dst.buffer in allocs and src.buffer != dst.buffer and \
                dst.extents == allocs[dst.buffer].shape and \
                all(isinstance(e, l0.Const) and e.value == 0 for e in dst.starts):
            return dst.buffer
        case l0.Gemm(a, b, c, _, _, True) if c not in (a, b):
            return c
        case l0.Reduce(_, src, dst, _, True) if src != dst:
            return dst
    return None


def check_live_buffers(before: list[tuple], phase: tuple, allocs: dict, syncs: list[Loc]) -> None:
    """NT332 for an on-chip buffer an earlier launch writes and this one reads before writing it whole."""
    if not before:
        return
    earlier = set().union(*(written(tuple(s for s in p if not isinstance(s, l0.Alloc))) for p in before)) & set(allocs)
    whole: set[str] = set()
    for s in phase:
        if isinstance(s, l0.Alloc):
            continue
        for x in walk(s):
            for b in l0.buffer_names(x):
                if b in earlier and b not in whole and b != wholly_written(s, allocs):
                    raise NanottError(
                        "NT332", f"{b} is written before T.sync_grid (line {syncs[len(before) - 1].line}) and "
                        "read after it: nanott lowers the grid barrier to a new launch, and an on-chip "
                        "buffer does not survive a launch", where(x, s),
                        hint="write the values to a DRAM tensor (a parameter or T.alloc_global) before "
                             "T.sync_grid and read them back after it")
        if (b := wholly_written(s, allocs)) is not None:
            whole.add(b)


def recomputed(before: list[tuple], own: tuple, phases: list[tuple]) -> tuple:
    """The lets of earlier launches this one reads, in order, to run again at its start; NT332 for
    one that reads memory or that some launch updates (its value would not survive)."""
    lets = {s.var: s for p in before for s in p if isinstance(s, l0.Let) and not s.update}
    updated = {x.var for x in walk(phases) if isinstance(x, l0.Let) and x.update}
    needed: set[str] = set()
    todo = [(name, loc) for name, loc in var_uses(own) if name in lets]
    while todo:
        name, loc = todo.pop(0)
        if name in needed:
            continue
        let = lets[name]
        if name in updated or any(isinstance(x, l0.Load) for x in walk(let.value)):
            raise NanottError(
                "NT332", f"the scalar {name} is computed before T.sync_grid from "
                f"{'a value it updates' if name in updated else 'a value read from memory'} and used "
                "after it: nanott lowers the grid barrier to a new launch, and a scalar does not survive "
                "a launch", loc if loc != NOLOC else let.loc,
                hint=f"compute {name} again after T.sync_grid (from block indices and constants)")
        needed.add(name)
        todo.extend((x.name, loc) for x in walk(let.value) if isinstance(x, l0.Var) and x.name in lets)
    return tuple(s for p in before for s in p if isinstance(s, l0.Let) and s.var in needed)


def var_uses(stmts: tuple):
    """(name, the source location of the statement that reads it) for every variable read, in order."""
    loc = NOLOC
    for x in walk(stmts):
        if isinstance(x, l0.Var):
            yield x.name, loc
        elif not isinstance(x, (l0.Region, *EXPRS)) and getattr(x, "loc", NOLOC) != NOLOC:
            loc = x.loc


EXPRS = (l0.Const, l0.BinOp, l0.Load, l0.Cast, l0.UnOp, l0.Select)


def where(x, s) -> Loc:
    """The most precise source location of a reference: its node's, else its statement's."""
    loc = getattr(x, "loc", NOLOC)
    return loc if loc != NOLOC else s.loc
