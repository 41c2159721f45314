"""D3a batch-read-barriers: L8 -> L8

Changes:   in a reader, two or more block reads in a row (each `cb_reserve_back c, n; its
           noc_async_read_page calls; noc_async_read_barrier; cb_push_back c, n`) whose CBs the
           compute kernel consumes together (it waits for all of them, in one loop body, before
           it pops any) share one barrier: every reserve and its reads in order, one
           noc_async_read_barrier, then every push. The reads of a K step of a GEMM (an A block
           and a B block) are then in flight at the same time, and the reader waits for the
           slowest once instead of for each block in turn.
Preserves: every page read and where it lands, the order of the reserves and of the pushes, the
           compute and the writer kernels; every value (a page is read only after its barrier).
Why:       the read latency of a NoC transfer (hundreds of cycles, docs/reference.md §9) is paid per
           barrier; Tenstorrent's matmul readers issue the in0 and in1 blocks of a step and wait
           once. Pushing a block later than before cannot deadlock here: the consumer needs every
           block of the batch before it frees any of them.
"""
from __future__ import annotations

from typing import Any

from nanott.ir import replace, walk
from nanott.languages import l8
from nanott.target import Target


def batch_read_barriers(program: l8.Program, target: Target) -> l8.Program:
    together = consumed_together(program)
    kernels = tuple(replace(k, body=batch(k.body, together)) if k.role == "reader" else k
                    for k in program.kernels)
    return replace(program, kernels=kernels)


def consumed_together(program: l8.Program) -> set[frozenset[int]]:
    """The sets of CBs some consumer kernel waits for in one loop body before it pops any of them."""
    out: set[frozenset[int]] = set()
    for k in program.kernels:
        if k.role == "reader":
            continue
        for x in walk(k.body):
            body = getattr(x, "body", None)
            if not isinstance(x, l8.For) or not isinstance(body, tuple):
                continue
            waited: list[int] = []
            for s in body:
                if isinstance(s, l8.CbWait):
                    waited.append(s.cb)
                elif not isinstance(s, (l8.CbReserve, l8.Init)):
                    break
            if len(waited) > 1:
                out.add(frozenset(waited))
    return out


def block_read(stmts: tuple, i: int) -> int | None:
    """The length of the block read starting at stmts[i] (reserve, reads, barrier, push), or None."""
    if not isinstance(stmts[i], l8.CbReserve):
        return None
    cb, j = stmts[i].cb, i + 1
    while j < len(stmts) and reads_into(stmts[j], cb):
        j += 1
    if j + 1 < len(stmts) and j > i + 1 and isinstance(stmts[j], l8.NocReadBarrier) and \
            isinstance(stmts[j + 1], l8.CbPush) and stmts[j + 1].cb == cb:
        return j + 2 - i
    return None


def reads_into(s: Any, cb: int) -> bool:
    """A page read into cb, or a loop of such reads (and lets)."""
    if isinstance(s, l8.For):
        return any(not isinstance(x, l8.Let) for x in s.body) and all(
            isinstance(x, l8.Let) or reads_into(x, cb) for x in s.body)
    return isinstance(s, l8.NocReadPage) and s.cb == cb


def batch(stmts: tuple, together: set[frozenset[int]]) -> tuple:
    out: list[Any] = []
    i = 0
    while i < len(stmts):
        s = stmts[i]
        if isinstance(s, l8.For):
            out.append(replace(s, body=batch(s.body, together)))
            i += 1
            continue
        runs = []
        j = i
        while j < len(stmts) and (n := block_read(stmts, j)) is not None:
            runs.append(stmts[j:j + n])
            j += n
        cbs = frozenset(r[0].cb for r in runs)
        if len(runs) < 2 or len(cbs) < len(runs) or not any(cbs <= t for t in together):
            out.append(s)
            i += 1
            continue
        out += [x for r in runs for x in r[:-2]] + [runs[-1][-2]] + [r[-1] for r in runs]
        i = j
    return tuple(out)
