"""D5a's rewrite of an accumulator it cannot keep in DST: the first and the last trip of its loop.

A spilled accumulator c (D5 batched its n pages: they do not fit one DST section) costs, besides
the reload and the spill of every step, a section before the loop that fills the DST with zeros
and packs them into c, the first step's reload of those zeros, and a section after the loop that
reloads c only to pack it into the CB o that its consumer reads. tt-metal's matmul kernels skip
all three (`bmm_large_block_zm_fused_bias_activation`: no reload in the first K block, the last
one packs to the output CB). So, on the IR, found from the CB calls and the DST calls alone:

  first trip   when the section before the loop only fills DST slots with 0 and packs every
               page of c, and the loop body reads c only by copy_tile: the loop's first trip, without its wait and pop of c, fills the slots
               the reload would have loaded (fill_tile 0) and the section before goes;
  last trip    when the section after the loop only copies each page of c into a DST slot and
               packs that slot into the same page of o (between wait c/reserve o and pop c/push
               o), and c is float32 or of o's format: the loop's last trip reserves and pushes o
               instead of c, packs there, and the section after goes.

The loop keeps the trips in between (k + 1 for k in 0..K-2). Bit for bit the same numbers: the
zeros the first reload brought are the fill's, and the last pack rounds once where the copy's
pack rounded a float32 (exact) reload.
"""
from __future__ import annotations

from typing import Any

from nanott.ir import replace, walk
from nanott.languages import l9
from nanott.passes._affine import subst
from nanott.passes._dst_pages import evaluate, executed
from nanott.passes._f1_protocol import READS

CB_CALLS = (l9.CbWait, l9.CbReserve, l9.CbPop, l9.CbPush)
REGS = (l9.RegsAcquire, l9.RegsCommit, l9.RegsWait, l9.RegsRelease)


def peel(stmts: list, i: int, c: int, formats: dict[int, str]) -> tuple[list, str] | None:
    """stmts with the first and/or last trip of the loop stmts[i] peeled for the spilled
    accumulator c, and the words for the note; None when neither applies."""
    loop = stmts[i]
    if not isinstance(loop.extent, l9.Const) or loop.extent.value < 2:
        return None
    touched = [j for j, s in enumerate(stmts) if j != i and any(getattr(x, "cb", None) == c for x in walk(s))]
    before, after = [j for j in touched if j < i], [j for j in touched if j > i]
    if not before or not after:
        return None
    end = after[-1] + 1
    while end < len(stmts) and isinstance(stmts[end], l9.CbPush):      # the consumer's push
        end += 1
    pro, epi = stmts[before[0]:i], stmts[i + 1:end]
    n = pages(loop.body, c, (l9.CbWait, l9.CbReserve, l9.CbPop, l9.CbPush))
    zeros = n is not None and zero_filled(pro, c, n) and only_copied(loop.body, c)
    out = None if n is None else copied_to(epi, c, n, formats)
    if not zeros and out is None:
        return None
    k, trips = loop.var, loop.extent.value
    first = trip(loop.body, k, 0, c, fill=True) if zeros else []
    last = trip(loop.body, k, trips - 1, c, out=out) if out is not None else []
    left = trips - zeros - (out is not None)
    shift = {k: l9.BinOp("+", l9.Var(k), l9.Const(1, "int32"))} if zeros else {}
    middle = [replace(loop, extent=l9.Const(left, "int32"), body=subst(loop.body, shift))] if left else []
    new = (stmts[:before[0]] + ([] if zeros else pro) + first + middle + last
           + ([] if out is not None else epi) + stmts[end:])
    words = (["its first step starts from the DST's zeros instead of reloading them"] if zeros else []) + (
        [f"its last step packs straight into cb{out}"] if out is not None else [])
    return new, " and ".join(words)


def pages(stmts: list | tuple, c: int, calls: tuple[type, ...]) -> int | None:
    """n when the top level of stmts makes each of `calls` on c once, with n pages, and no other
    CB call on c."""
    found = [s for s in stmts if isinstance(s, CB_CALLS) and s.cb == c]
    counts = {t: sum(isinstance(s, t) for s in found) for t in calls}
    if len(found) != len(calls) or any(v != 1 for v in counts.values()) or len({s.pages for s in found}) != 1:
        return None
    return found[0].pages


def only_copied(body: tuple, c: int) -> bool:
    """Every compute call of the loop body that reads a page of c is a copy_tile into DST: the
    first trip's fill can stand for it (an FPU op reading c from its CB, as add_tiles, cannot)."""
    return all(isinstance(x, l9.CopyTile) for x in walk(body)
               if any(getattr(x, field) == c for field, _ in READS.get(type(x), ())))


def dst_calls(stmts: list | tuple) -> list[Any]:
    """The DST calls of stmts but the section handshakes."""
    return [x for s in stmts for x in walk(s) if isinstance(x, l9.DST_OPS) and not isinstance(x, REGS)]


def zero_filled(pro: list, c: int, n: int) -> bool:
    """The statements before the loop reserve and push c's n pages, and do nothing else but fill
    DST slots with 0 and pack them into every page of c."""
    if pages(pro, c, (l9.CbReserve, l9.CbPush)) != n or any(
            isinstance(s, CB_CALLS) and s.cb != c for s in pro):
        return False
    calls = dst_calls(pro)
    if not all(isinstance(x, l9.FillTile) and x.value == 0 or isinstance(x, l9.PackTile) and x.cb == c
               for x in calls):
        return False
    try:
        packed = {evaluate(x.slot, env) for x, env in executed(pro, {}) if isinstance(x, l9.PackTile)}
    except KeyError:
        return False
    return packed == set(range(n))


def copied_to(epi: list, c: int, n: int, formats: dict[int, str]) -> int | None:
    """o, when the statements after the loop copy each of c's n pages into a DST slot and pack
    that slot into the same page of o, and nothing else (c float32 or of o's format)."""
    outs = {s.cb for s in epi if isinstance(s, CB_CALLS) and s.cb != c}
    if len(outs) != 1 or pages(epi, c, (l9.CbWait, l9.CbPop)) != n:
        return None
    o = outs.pop()
    if pages(epi, o, (l9.CbReserve, l9.CbPush)) != n or formats[c] not in ("Float32", formats[o]):
        return None
    if not all(isinstance(x, l9.CopyTile) and x.cb == c or isinstance(x, l9.PackTile) and x.cb == o
               for x in dst_calls(epi)):
        return None
    holds: dict[int, int] = {}
    packed = set()
    try:
        for x, env in executed(epi, {}):
            if isinstance(x, l9.CopyTile):
                holds[evaluate(x.dst, env)] = evaluate(x.index, env)
            elif isinstance(x, l9.PackTile):
                page = evaluate(x.slot, env)
                if holds.get(evaluate(x.dst, env)) != page:
                    return None
                packed.add(page)
    except KeyError:
        return None
    return o if packed == set(range(n)) else None


def trip(body: tuple, k: str, value: int, c: int, fill: bool = False, out: int | None = None) -> list:
    """The statements of one trip of the loop body, at k = value: the first without waiting for c
    and with fills for its reloads, the last with o's reserve, push and packs for c's."""
    def visit(s: Any) -> Any:
        match s:
            case l9.CbWait(cb) | l9.CbPop(cb) if fill and cb == c:
                return None
            case l9.CbReserve(cb) | l9.CbPush(cb) if out is not None and cb == c:
                return replace(s, cb=out)
            case l9.CopyTile(cb, _, d) if fill and cb == c:
                return l9.FillTile(d, 0.0, loc=s.loc)
            case l9.PackTile(_, cb) if out is not None and cb == c:
                return replace(s, cb=out)
            case l9.For():
                return replace(s, body=tuple(y for y in map(visit, s.body) if y is not None))
        return s
    return [y for y in (visit(s) for s in subst(body, {k: l9.Const(value, "int32")})) if y is not None]


def peel_all(stmts: tuple, cbs: set[int], formats: dict[int, str], done: dict[int, str]) -> tuple:
    """stmts with the loop of every spilled accumulator in cbs (found at any depth) peeled;
    done: accumulator -> what was done, for the note."""
    out, i = list(stmts), 0
    while i < len(out):
        if isinstance(out[i], l9.For):
            for c in sorted(cbs - set(done)):
                found = peel(out, i, c, formats)
                if found is not None:
                    out, done[c] = found
                    break
            else:
                out[i] = replace(out[i], body=peel_all(out[i].body, cbs, formats, done))
        i += 1
    return tuple(out)
