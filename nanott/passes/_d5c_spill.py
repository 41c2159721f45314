"""D5c's second case: an accumulator that D5a had to spill (it does not fit one DST section) is
reloaded and spilled a subblock at a time, as tt-metal's matmul does it.

After D5a a spilled accumulator lives in a compute-to-compute CB c; each K step waits for its n
pages and reserves n more, runs a loop of e trips (one per output subblock) that copies the trip's
pages of c into DST, multiplies, and packs them back to c, then pops and pushes the n pages. The
first step only reserves, packs and pushes; the last only waits, copies and pops. With the n pages
pushed whole, the next step's first reload waits for the last subblock's pack: the unpacker
drains, once per K step. Here each trip waits for its own s = n / e pages, copies them, pops them,
reserves s pages, packs them and pushes them: tt-metal's `bmm_large_block_zm` reloads
(`cb_wait_front(mm_partials_cb, out_subblock_num_tiles)`, copy, `cb_pop_front`) and spills
(`cb_reserve_back`, pack, `cb_push_back`) per subblock. The pages a trip copies or packs are found
by running the loop's index expressions (_d5c_page_runs.runs), never from names. Only where every
call on c then moves its pointers by s pages: a wait of more pages after pops of s could start a
region where it crosses the end of the ring (F1's rule 3 names it).
"""
from __future__ import annotations

from typing import Any

from nanott.ir import replace, walk
from nanott.languages import l9
from nanott.passes._d5c_page_runs import runs, shifted, touches

OPENERS = (l9.CbWait, l9.CbReserve)
CLOSERS = (l9.CbPop, l9.CbPush)
CB_CALLS = OPENERS + CLOSERS


def spill_per_subblock(body: tuple, cbs: dict[int, int], found: dict[int, int]) -> tuple:
    """body with every wait/reserve, loop, pop/push run on a spill CB (cbs: index -> its pages in
    L1) made per trip; found[c] = pages per trip."""
    for c, capacity in cbs.items():
        mine: dict[int, int] = {}
        new = per_trip(body, c, capacity, mine)
        sizes = {x.pages for x in walk(new) if isinstance(x, CB_CALLS) and x.cb == c}
        if mine and sizes == {mine[c]}:       # every pointer of c moves by s pages: no region of
            body, found[c] = new, mine[c]     # more pages may start where it would cross the ring's end
    return body


def per_trip(stmts: tuple, c: int, capacity: int, found: dict[int, int]) -> tuple:
    out: list[Any] = [replace(s, body=per_trip(s.body, c, capacity, found)) if isinstance(s, l9.For) else s
                      for s in stmts]
    at = [i for i, s in enumerate(out) if touches(s, c)]
    for pos, k in enumerate(at):
        if not isinstance(out[k], l9.For):
            continue
        before = [i for i in at[:pos] if isinstance(out[i], OPENERS)]       # the run of opens just before
        while before and not all(isinstance(out[i], OPENERS) for i in at[at.index(before[0]):pos]):
            before.pop(0)
        after = [i for i in at[pos + 1:] if isinstance(out[i], CLOSERS)]        # the run of closes just after
        while after and not all(isinstance(out[i], CLOSERS) for i in at[pos + 1:at.index(after[-1]) + 1]):
            after.pop()
        loop = trips(out[k], [out[i] for i in before], [out[i] for i in after], c, capacity)
        if loop is None:
            continue
        found[c] = loop[1]
        out[k] = loop[0]
        for i in before + after:
            out[i] = None
    return tuple(s for s in out if s is not None)


def trips(loop: l9.For, opens: list, closes: list, c: int, capacity: int) -> tuple[l9.For, int] | None:
    """The loop with its own wait/copies/pop and reserve/packs/push on c per trip, and the pages per
    trip; None unless the opens and closes pair up on n pages and each trip takes its own run."""
    kinds = {type(x) for x in opens + closes}
    n = {x.pages for x in opens + closes}
    reload, spill = {l9.CbWait, l9.CbPop} <= kinds, {l9.CbReserve, l9.CbPush} <= kinds
    if len(n) != 1 or len(opens) != reload + spill or len(closes) != reload + spill or not (reload or spill):
        return None
    n = n.pop()
    inside = [x for x in walk(loop) if getattr(x, "cb", None) == c]
    if any(not isinstance(x, (l9.CopyTile, l9.PackTile)) for x in inside):
        return None
    if any(isinstance(x, l9.CopyTile) for x in inside) != reload or any(
            isinstance(x, l9.PackTile) for x in inside) != spill:
        return None
    s = {runs(loop, kind, c, n, field) for kind, field, wanted in
         ((l9.CopyTile, "index", reload), (l9.PackTile, "slot", spill)) if wanted}
    if len(s) != 1 or None in s:
        return None
    s = s.pop()
    if capacity % s:
        return None                  # a run of pages must not straddle the end of the ring
    body = list(loop.body)
    copies = [m for m, x in enumerate(body) if any(isinstance(y, l9.CopyTile) and y.cb == c for y in walk(x))]
    packs = [m for m, x in enumerate(body) if any(isinstance(y, l9.PackTile) and y.cb == c for y in walk(x))]
    if copies and packs and copies[-1] >= packs[0]:
        return None                  # every reload of the trip before its first pack
    loc = loop.loc
    if spill:
        body = list(shifted(tuple(body), l9.PackTile, c, s, "slot"))
        body.append(l9.CbPush(c, s, loc=loc))
        body.insert(copies[-1] + 1 if reload else 0, l9.CbReserve(c, s, loc=loc))
    if reload:
        body = list(shifted(tuple(body), l9.CopyTile, c, s, "index"))
        body.insert(copies[-1] + 1, l9.CbPop(c, s, loc=loc))
        body.insert(0, l9.CbWait(c, s, loc=loc))
    return replace(loop, body=tuple(body)), s
