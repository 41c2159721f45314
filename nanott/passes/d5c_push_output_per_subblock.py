"""D5c push-output-per-subblock: L9 -> L9

Changes:   where the compute kernel reserves n pages of a CB the writer drains, packs them in a
           loop of e trips that each pack the next n / e pages (trip t: pages t*s .. t*s + s - 1,
           s = n / e), and pushes the n pages after the loop, and where the writer waits for the
           n pages and writes them in a loop of e trips that each write the same s pages in turn,
           then barriers and pops the n: each trip of the compute loop reserves and pushes its s
           pages, and each trip of the writer's waits for its s pages, writes them, barriers and
           pops them. A writer whose trips write rows of m * s pages in an inner loop (a 256-wide
           output block: rows of 8 tiles, subblocks of 4) has that inner loop cut into m trips of
           s pages each, waited, written and popped so. The pages a trip packs or writes are found
           by running the index expressions of both loops, never from names. Only where a trip packs two pages or more: a barrier
           per page pays a write's latency per tile (in the cycle model cast, softmax and gemv,
           which pack one tile a trip, ran 2% to 6% slower so).
           The same for a CB the compute kernel feeds itself (an accumulator D5a had to spill, a
           block updated in place): where it waits for and reserves n pages, runs a loop whose
           trip t copies (copy_tile) and packs the pages t*s .. t*s + s - 1, then pops and pushes
           the n, each trip waits for its s pages, copies them, pops them, reserves s, packs them
           and pushes them; a loop that only packs them (the first K step) or only copies them
           (the last) gets its own half of it (_d5c_spill.py; the `accumulator-pushes` note).
Preserves: every page's value and the tensor page it goes to; the other CBs; every number.
Why:       with the output pushed whole, the writer starts only after the block's last matmul,
           and at 1024^3 (one block per core) every core then writes its block at the same time
           as every other: about 7,700 cycles of DRAM writes after the compute has ended. tt-metal's
           matmul pushes each output subblock when it is packed (`cb_push_back(out_cb,
           out_subblock_num_tiles)`) and its writer waits, writes and pops subblock by subblock,
           so the writes of the first subblocks overlap the matmuls of the last. A spilled
           accumulator pushed whole makes the next K step's first reload wait for the last
           subblock's pack: the unpacker drains once per K step; tt-metal's matmul reloads and
           spills its partials subblock by subblock (`bmm_large_block_zm_fused_bias_activation`).
"""
from __future__ import annotations

from typing import Any

from nanott.ir import replace, walk
from nanott.languages import l9
from nanott.passes._d5c_spill import spill_per_subblock
from nanott.passes._dst_pages import evaluate, executed, subst
from nanott.passes._names import NameSupply, names_in
from nanott.passes._d5c_page_runs import I32, runs, shifted, touches
from nanott.target import Target


def push_output_per_subblock(program: l9.Program, target: Target) -> l9.Program:
    compute, writer = program.kernel("compute"), program.kernel("writer")
    spills = {cb.index: cb.plan.pages for cb in program.cbs if cb.producer == cb.consumer == "compute"}
    reloaded: dict[int, int] = {}                                # spill cb -> pages per trip
    spilled = spill_per_subblock(compute.body, spills, reloaded)
    notes = tuple(l9.Attr("accumulator-pushes", f"cb{c} reloaded and spilled {s} pages at a time",
                          loc=program.loc) for c, s in sorted(reloaded.items()))
    if reloaded:
        program = replace(program, kernels=tuple(replace(k, body=spilled) if k is compute else k
                                                 for k in program.kernels), attrs=program.attrs + notes)
        compute = program.kernel("compute")
    drained = {cb.index for cb in program.cbs if cb.producer == "compute" and cb.consumer == "writer"}
    found: dict[int, int] = {}                                   # cb -> pages per trip
    new_compute = rewrite(compute.body, drained, found, packer)
    if not found:
        return program
    agreed: dict[int, int] = {}
    new_writer = rewrite(writer.body, set(found), agreed, drainer(found, NameSupply(names_in(program))))
    if agreed != found:
        return program                                           # the writer's loop takes other runs
    kernels = tuple(replace(k, body=new_compute) if k is compute else
                    replace(k, body=new_writer) if k is writer else k for k in program.kernels)
    note = l9.Attr("output-pushes", "; ".join(f"cb{c} pushed and written {s} pages at a time"
                                              for c, s in sorted(found.items())), loc=program.loc)
    return replace(program, kernels=kernels, attrs=program.attrs + (note,))


def rewrite(stmts: tuple, cbs: set[int], found: dict[int, int], chunk: Any) -> tuple:
    """stmts with every `open c, n; ...; loop; ...; close c, n` run that `chunk` accepts rewritten,
    in every loop body."""
    out = [replace(s, body=rewrite(s.body, cbs, found, chunk)) if isinstance(s, l9.For) else s for s in stmts]
    for i, s in enumerate(out):
        opening = chunk(None, s, cbs)
        if opening is None:
            continue
        c, n, close_kind = opening
        j = next((j for j in range(i + 1, len(out)) if isinstance(out[j], close_kind) and out[j].cb == c), None)
        loops = [k for k in range(i + 1, j or i) if isinstance(out[k], l9.For) and touches(out[k], c)]
        if j is None or out[j].pages != n or len(loops) != 1 or any(
                touches(out[k], c) for k in range(i + 1, j) if k != loops[0]):
            continue
        loop = chunk((c, n), out[loops[0]], cbs)
        if loop is None:
            continue
        found[c] = next(x.pages for x in walk(loop) if isinstance(x, (l9.CbReserve, l9.CbWait)) and x.cb == c)
        out[loops[0]] = loop
        out[i] = out[j] = None
        for k in range(loops[0] + 1, j):              # the writer's one barrier: each trip has its own
            if isinstance(out[k], l9.NocWriteBarrier):
                out[k] = None
    return tuple(s for s in out if s is not None)


def packer(run: tuple | None, s: Any, cbs: set[int]) -> Any:
    """Compute's side: a reserve opens a run; its loop packs s pages a trip."""
    if run is None:
        return (s.cb, s.pages, l9.CbPush) if isinstance(s, l9.CbReserve) and s.cb in cbs else None
    c, n = run
    k = runs(s, l9.PackTile, c, n)
    if k is None:
        return None
    body = shifted(s.body, l9.PackTile, c, k)
    return replace(s, body=(l9.CbReserve(c, k, loc=s.loc), *body, l9.CbPush(c, k, loc=s.loc)))


def drainer(found: dict[int, int], names: NameSupply) -> Any:
    """The writer's side: a wait opens a run; its loop writes s pages a trip, as compute packs them
    (or k = m * s pages a trip in an inner loop of k trips, which split() cuts into m runs of s)."""
    def chunk(run: tuple | None, s: Any, cbs: set[int]) -> Any:
        if run is None:
            return (s.cb, s.pages, l9.CbPop) if isinstance(s, l9.CbWait) and s.cb in cbs else None
        c, n = run
        k = runs(s, l9.NocWritePage, c, n)
        if k is not None and k > found[c] and k % found[c] == 0:
            return split(s, c, found[c], names)
        if k is None or k != found[c]:
            return None
        return wrapped(s, c, k)
    return chunk


def wrapped(loop: l9.For, c: int, k: int) -> l9.For:
    """Each trip of the loop waits for its k pages, writes them, barriers and pops them."""
    body = shifted(loop.body, l9.NocWritePage, c, k)
    return replace(loop, body=(l9.CbWait(c, k, loc=loop.loc), *body, l9.NocWriteBarrier(loc=loop.loc),
                               l9.CbPop(c, k, loc=loop.loc)))


def split(loop: l9.For, c: int, s: int, names: NameSupply) -> l9.For | None:
    """`for i: for j in 0..m*s: <writes>` (trip i writing m*s pages) as `for i: for jc in 0..m:
    for js in 0..s: <writes, j = jc*s + js>`, each jc trip a run of s pages waited, written,
    barriered and popped; None unless the body is that one inner loop and the (i, jc) trips take
    the pages s at a time, in order (checked by running the index expressions)."""
    if len(loop.body) != 1 or not isinstance(inner := loop.body[0], l9.For) or \
            not isinstance(inner.extent, l9.Const) or inner.extent.value % s or inner.extent.value == s:
        return None
    m, jc, js = inner.extent.value // s, names.fresh(f"{inner.var}c"), names.fresh(f"{inner.var}s")
    j = l9.BinOp("+", l9.BinOp("*", l9.Var(jc), l9.Const(s, I32)), l9.Var(js))
    cut = replace(inner, var=js, extent=l9.Const(s, I32), body=tuple(subst(x, {inner.var: j}) for x in inner.body))
    try:
        for t in range(loop.extent.value):
            for u in range(m):
                pages = sorted(evaluate(x.slot, env) for x, env in executed((cut,), {loop.var: t, jc: u})
                               if isinstance(x, l9.NocWritePage) and x.cb == c)
                if pages != list(range((t * m + u) * s, (t * m + u + 1) * s)):
                    return None
    except KeyError:
        return None
    outer = replace(inner, var=jc, extent=l9.Const(m, I32), body=(cut,))
    return replace(loop, body=(wrapped(outer, c, s),))
