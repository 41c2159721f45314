"""D5a keep-accumulators-in-dst: L9 -> L9

Changes:   an accumulator that D5 spills to its CB after every step of a loop stays in the DST
           across the loop instead. The pattern, found from the CB calls and DST indices, not from
           names: a compute-to-compute CB c whose n pages a loop waits, reserves, pops and pushes
           every iteration, in one DST section of the loop body that copies c's pages into DST
           slots, updates them, and packs them back to the same pages; a section before the loop
           that makes c's first contents (packed between cb_reserve_back c and cb_push_back c),
           and one after it that copies c into the DST (after cb_wait_front c, before
           cb_pop_front c) for the op that consumes it. Each of the four places must map page i
           of c to the same DST slot. Then one section spans all three: acquire before the first,
           the loop body without its handshake, reloads and spills, commit after the last
           section's math; c disappears from the program, and its pages from L1. The inits of the
           compute kernel are placed again (D4's placement, on the DST calls), so the ones the
           reloads forced into the loop (copy_tile_init, the srcA reconfiguration) go, and the
           matmul's init is hoisted before the loop. When the accumulator does not fit one DST
           section (D5 split it into batches), it is spilled and reloaded as before, and the
           program's attributes say so (`dst-accumulator`), as they say which CB was kept; but
           the first trip of its loop fills the DST with zeros instead of reloading the zeros
           packed before the loop, and the last packs straight into the CB the section after the
           loop only copied it to, when those sections do only that (_d5a_peel.py). The zeros
           a kept accumulator or that first trip start from are the section's own: a fill of 0
           right after tile_regs_acquire goes, with its init (_d5a_dst_zeros.py).
Preserves: every number, bit for bit: only a float32 CB is kept or peeled, with a float32 DST
           (fp32_dest_acc), where the pack and the reload it saves are exact (a Float32 CB reloads
           through UnpackToDestFp32); the reader and the writer; the order of the math.
Why:       Tenstorrent's matmul kernels keep the output subblock in DST across the whole K loop
           and pack once: a reload and a pack per K step cost the unpacker and the packer as much
           as the matmuls cost the FPU (docs/reference.md §9).
"""
from __future__ import annotations

from typing import Any

from nanott.ir import replace, walk
from nanott.languages import l9
from nanott.passes._cb_numbers import renumber
from nanott.passes._d5a_dst_zeros import drop_zero_fills
from nanott.passes._d5a_peel import peel_all
from nanott.passes._dst_pages import slots
from nanott.passes.d4_insert_compute_init import InsertComputeInit
from nanott.sim.engine import HW_STARTUP, State, formats_of, needs
from nanott.target import Target

REGS = (l9.RegsAcquire, l9.RegsCommit, l9.RegsWait, l9.RegsRelease)


def keep_accumulators_in_dst(program: l9.Program, target: Target) -> l9.Program:
    compute = program.kernel("compute")
    if not program.compute.fp32_dest_acc:
        return program
    floats = {cb.index for cb in program.cbs if cb.plan.format == "Float32" and cb.producer == cb.consumer}
    kept: list[int] = []
    body = rewrite(compute.body, floats, kept)
    name = {cb.index: cb.name for cb in program.cbs}
    notes = [l9.Attr("dst-accumulator", f"{name[c]} kept in DST across its loop (its CB cb{c} removed)")
             for c in kept]
    cap = program.compute.dst_tiles
    spills = spilled(body, floats - set(kept))
    peeled: dict[int, str] = {}
    body = tuple(live(list(peel_all(body, {c for c, _ in spills}, {cb.index: cb.plan.format for cb in program.cbs},
                                    peeled))))
    notes += [l9.Attr("dst-accumulator", f"{name[c]} (cb{c}) spilled and reloaded every step: " + (
        f"its {pages} tiles exceed one DST section of {cap}" if pages > cap else
        "the code around its loop uses the DST slots in another order") + (f"; {peeled[c]}" if c in peeled else ""))
        for c, pages in spills]
    if kept or peeled:             # the section an accumulator starts in is zeroed: no fill needed
        body = place_inits(drop_zero_fills(body), formats_of(program))
    kernels = tuple(replace(k, body=body) if k is compute else k for k in program.kernels)
    left = [cb for cb in program.cbs if cb.index not in kept]
    number = {cb.index: i for i, cb in enumerate(left)}
    return replace(program, kernels=renumber(kernels, number), attrs=(*program.attrs, *notes),
                   cbs=tuple(replace(cb, index=number[cb.index]) for cb in left))


def rewrite(stmts: tuple, floats: set[int], kept: list[int]) -> tuple:
    """stmts with every accumulator found in them (or in loops below them) kept in DST."""
    out = list(stmts)
    i = 0
    while i < len(out):
        s = out[i]
        done = None
        if isinstance(s, l9.For):
            for c in sorted(floats - set(kept)):
                done = keep(out, i, c)
                if done is not None:
                    kept.append(c)
                    out, i = done
                    break
        if done is None:
            if isinstance(s, l9.For):
                out[i] = replace(s, body=rewrite(s.body, floats, kept))
            i += 1
    return tuple(out)


def touches(s: Any, c: int) -> bool:
    return any(getattr(x, "cb", None) == c for x in walk(s))


def keep(stmts: list, i: int, c: int) -> tuple[list, int] | None:
    """The statements with the accumulator c of the loop stmts[i] kept in DST, and where to go on;
    None unless the whole pattern of the module docstring is there."""
    loop = stmts[i]
    before = [j for j in range(i) if touches(stmts[j], c)]
    after = [j for j in range(i + 1, len(stmts)) if touches(stmts[j], c)]
    if not before or not after:
        return None
    pro, epi = stmts[before[0]:i], stmts[i + 1:after[-1] + 1]
    n = protocol(loop.body, c)
    if n is None or protocol(pro, c, ("CbReserve", "CbPush")) != n or protocol(epi, c, ("CbWait", "CbPop")) != n:
        return None
    maps = [slots(pro, l9.PackTile, c), slots(loop.body, l9.CopyTile, c), slots(loop.body, l9.PackTile, c),
            slots(epi, l9.CopyTile, c)]
    if None in maps or any(m != maps[0] for m in maps) or len(maps[0]) != n:
        return None
    if not (one_section(pro, c, pack=True) and one_section(loop.body, c, pack=True, copy=True)
            and one_section(epi, c, copy=True)):
        return None
    new_pro = [s for s in pro if not (isinstance(s, (l9.RegsCommit, l9.RegsWait, l9.RegsRelease))
                                      or touches(s, c))]
    new_loop = replace(loop, body=tuple(s for s in loop.body if not (isinstance(s, REGS) or touches(s, c))))
    new_epi = [s for s in epi if not (isinstance(s, l9.RegsAcquire) or touches(s, c))]
    out = stmts[:before[0]] + new_pro + [new_loop] + new_epi
    rest = stmts[after[-1] + 1:]
    kept = live(out + rest)
    return kept, len(kept) - len(rest)


def live(stmts: list) -> list:
    """stmts without the lets nothing after them reads (the reloads and spills read some)."""
    out: list = []
    used: set[str] = set()
    for s in reversed(stmts):
        if isinstance(s, l9.Let):
            if s.var not in used:
                continue
            used.discard(s.var)
            used |= {x.name for x in walk(s.value) if isinstance(x, l9.Var)}
        else:
            if isinstance(s, l9.For):
                s = replace(s, body=tuple(live(list(s.body))))
            used |= {x.name for x in walk(s) if isinstance(x, l9.Var)}
        out.append(s)
    return out[::-1]


def protocol(stmts: tuple | list, c: int, calls: tuple[str, ...] = ("CbWait", "CbReserve", "CbPop", "CbPush")):
    """n when the top level of stmts makes each of `calls` on c exactly once, with n pages, and no
    other CB call on c; else None."""
    found = [s for s in stmts if isinstance(s, (l9.CbWait, l9.CbReserve, l9.CbPop, l9.CbPush)) and s.cb == c]
    pages = {s.pages for s in found}
    if sorted(type(s).__name__ for s in found) != sorted(calls) or len(pages) != 1:
        return None
    return pages.pop()


def one_section(stmts: tuple | list, c: int, pack: bool = False, copy: bool = False) -> bool:
    """One acquire..release section at the top level, no handshake deeper; the statements that
    copy from c (before the commit) or pack to c (after the wait) do nothing else."""
    regs = [type(s) for s in stmts if isinstance(s, REGS)]
    if regs != list(REGS) or any(isinstance(x, REGS) for s in stmts if not isinstance(s, REGS) for x in walk(s)):
        return False
    for s in stmts:
        calls = [x for x in walk(s) if isinstance(x, l9.DST_OPS)]
        mine = [x for x in calls if getattr(x, "cb", None) == c]
        if mine and (len(mine) != len(calls) or not (pack and isinstance(mine[0], l9.PackTile)
                                                     or copy and isinstance(mine[0], l9.CopyTile))):
            return False
    return True


def spilled(body: tuple, cbs: set[int]) -> list[tuple[int, int]]:
    """The float32 accumulators still updated in place inside a loop (waited before they are
    pushed again, in the loop body: D5 batched them), with their pages."""
    found = {}
    for x in walk(body):
        if isinstance(x, l9.For):
            calls = {(type(s), s.cb): (i, s.pages) for i, s in enumerate(x.body)
                     if isinstance(s, (l9.CbWait, l9.CbPush)) and s.cb in cbs}
            for (kind, c), (i, pages) in calls.items():
                if kind is l9.CbWait and i < calls.get((l9.CbPush, c), (-1, 0))[0]:
                    found[c] = pages
    return sorted(found.items())


def place_inits(body: tuple, formats: dict[int, str]) -> tuple:
    """The compute kernel's inits placed again: a startup for the CBs of the first op that reads
    CBs (two at most) and of the first pack, then D4's placement over the DST calls (hoisted as
    far as nothing changes them). The first op's alone, as D4's startup: CBs of later ops could
    set a format that op's own init sets again, and D4's hoisting then puts a needless reconfig
    before the loop around them."""
    ops = [x for x in walk(body) if isinstance(x, l9.DST_OPS) and needs(x, formats)]
    reads = [[cb for cb in (getattr(x, "a_cb", None), getattr(x, "b_cb", None), getattr(x, "cb", None))
              if cb is not None] for x in ops if not isinstance(x, l9.PackTile)]
    out = next(x.cb for x in ops if isinstance(x, l9.PackTile))
    first = list(dict.fromkeys(next((r for r in reads if r), [])))[:2] or [out]
    startup = l9.Init(HW_STARTUP, (*first, out), loc=body[0].loc)
    placed, _ = InsertComputeInit(formats).place(strip(body), State().after(startup, formats))
    return (startup, *placed)


def strip(stmts: tuple) -> tuple:
    return tuple(replace(s, body=strip(s.body)) if isinstance(s, l9.For) else s
                 for s in stmts if not isinstance(s, l9.Init))
