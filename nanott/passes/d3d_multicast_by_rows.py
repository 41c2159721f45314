"""D3d multicast-by-rows: L8 -> L8

Changes:   where a data mover's step reads one block and multicasts it (D3b's sender/receiver
           handshake, after D3c: `cb_reserve_back c, n`; the receivers' raise; the sender's
           reads in a loop nest whose outer loop of e trips fills the pages t*s .. t*s + s - 1
           at trip t, s = n / e; the barrier; the sender's multicast of the n pages and the
           receivers' wait; `cb_push_back c, n`), the step becomes c parts of e / c rows, each
           its own handshake for its n / c pages, software-pipelined: part 0 is read under
           transaction id 0; in part p everyone reserves two parts (one, in the last), the
           receivers raise `ready` for part p + 1, the sender reads part p + 1 into the slots
           after part p's under id (p + 1) % 2, waits for id p % 2's reads only
           (`noc_async_read_barrier_with_trid`), and part p is multicast, waited for and pushed.
           The even parts and the odd ones each have their `ready`/`valid` pair (D3b's, and two
           new semaphores), so a receiver raises for the part after next while it waits for this
           one. c, a divisor of e, minimises by the cycle model's facts (sim/machine.py) what the
           parts cost the receivers over the b blocks the sender moves in the run (b: the trips
           of the loops around the step, on the core that runs the most): in every block, one
           part's fixed cost (the last part's read barrier waits out the latency, then its
           handshake, before the next block's reads start) and, per part, what half its round
           trip (multicast, two semaphore writes, the calls) or its sender's calls take beyond
           its reads; at the run's start, the wait for the first part (n / c pages read at the
           sender's share of DRAM, then multicast); at its end, the last part's multicast. The
           reads themselves take as long in any number of parts. c = 1 leaves the step as it is.
           The rows a part holds are found from the slots of the reads (affine in the outer
           variable with coefficient s, the rest in 0..s-1), never from names. Only where the
           step moves that one block (a mover that reads two blocks in one step, as the reader
           does where D3c does not apply, is left as it is).
Preserves: every page each core finds in its CB, in the same place of the ring and in the same
           order; the compute kernel and its waits; the semaphores' rules (every receiver raises
           `ready` after its reserve, the sender multicasts a part only after `ready` counts
           every receiver and that part's reads have landed, every receiver pushes a part only
           after its `valid`); a push never covers pages whose reads are in flight (rule 7).
Why:       a sender that reads its whole block before it multicasts any of it leaves its NIU's
           outgoing port idle during the read and the incoming port idle during the multicast:
           tt-npe models a worker NIU as two ports, a sink for data coming in and a source for
           data going out (`NOC0_SINK`, `NOC0_SRC`). In parts, one part's multicast leaves while
           the next arrives; with one barrier for all reads, though, each part's barrier waited
           out a read latency (270 cycles) and the handshake before the next part's reads went
           out, about 400 cycles of an idle sink per part (1024^3 in 128x128x512 blocks: 55.6% of
           the ideal-cycles bound, the last operands at 19,297 cycles). tt-metal's transaction
           ids (`noc_async_read_set_trid`, `noc_async_read_barrier_with_trid`; its DRAM-bandwidth
           kernels and 0.81's `noc.h` read under them) let the next part's reads stream while
           one part's barrier waits, and the semaphore pair per parity takes the handshake's
           round trip off the path of every part: 61.1% (the last operands at 16,042).
"""
from __future__ import annotations

from nanott.ir import replace, walk
from nanott.languages import l8
from nanott.passes._affine import affine, build, subst
from nanott.passes._d3d_parts import parts, read_rate
from nanott.sim.cooperation import Unknown, core_env, value
from nanott.sim.machine import TIMING, Timing
from nanott.target import Target

MOVERS = ("reader", "writer")
STEP = (l8.CbReserve, l8.When, l8.NocReadBarrier, l8.CbPush)    # what a multicast step may hold
SEMS = (l8.SemSet, l8.SemWait, l8.SemInc, l8.SemSetMcast)
SEMAPHORES = 16         # per program (tt_metal/impl/buffers/semaphore.hpp NUM_SEMAPHORES; docs/reference.md §3.6)
I32 = "int32"


def multicast_by_rows(program: l8.Program, target: Target) -> l8.Program:
    if target.name not in TIMING:          # no facts to weigh the parts by (a target made for a test)
        return program
    cut: list[str] = []
    split = Split(TIMING[target.name], program, cut)
    kernels = tuple(replace(k, body=split.rewrite(k.body)) if k.role in MOVERS else k for k in program.kernels)
    if not cut:
        return program
    note = l8.Attr("multicast-parts", "; ".join(cut), loc=program.loc)
    return replace(program, kernels=kernels, attrs=program.attrs + (note,))


class Split:
    """The rewrite of the movers' bodies; `cut` collects the note's words."""

    def __init__(self, timing: Timing, program: l8.Program, cut: list[str]):
        self.timing, self.cut = timing, cut
        self.page_bytes = {cb.index: cb.plan.page_bytes for cb in program.cbs}
        self.read_rate = {i: read_rate(program, timing, b) for i, b in self.page_bytes.items()}
        self.cores = program.work.cores
        self.sem = 1 + max((x.sem for x in walk(tuple(k.body for k in program.kernels))
                            if isinstance(x, SEMS)), default=-1)      # the next semaphore id free

    def rewrite(self, stmts: tuple, trips: int = 1) -> tuple:
        """stmts, run `trips` times over the run (the product of the trips of the loops around them)."""
        out = []
        for s in stmts:
            if isinstance(s, l8.For):
                n = trips * self.trips(s.extent)
                body = self.rewrite(s.body, n)
                s = replace(s, body=self.by_parts(body, n) or body)
            elif isinstance(s, l8.When):
                s = replace(s, body=self.rewrite(s.body, trips))
            out.append(s)
        return tuple(out)

    def trips(self, extent: l8.Expr) -> int:
        """A loop's trips on the core that runs the most of them (a persistent loop's extent is the
        core's block count); 1 where the extent reads more than a core's values (ASSUMPTION), or
        where no core runs the program (a work split of no cores: nothing to weigh)."""
        try:
            return max((value(extent, core_env(w)) for w in self.cores), default=1)
        except Unknown:
            return 1

    def by_parts(self, body: tuple, steps: int) -> tuple | None:
        """The step `body`, run `steps` times, as a loop over the parts of its one multicast block,
        or None."""
        if not body or not all(isinstance(s, STEP) for s in body):
            return None
        first, last = body[0], body[-1]
        calls = [s for s in walk(body) if isinstance(s, (l8.CbReserve, l8.CbPush, l8.CbWait, l8.CbPop))]
        casts = [s for s in walk(body) if isinstance(s, l8.McastPages)]
        if not (isinstance(first, l8.CbReserve) and isinstance(last, l8.CbPush) and len(calls) == 2
                and (first.cb, first.pages) == (last.cb, last.pages) and len(casts) == 1
                and (casts[0].cb, casts[0].pages) == (first.cb, first.pages)):
            return None
        cb, n = first.cb, first.pages
        readers = [s for s in body if isinstance(s, l8.When) and any(isinstance(x, l8.NocReadPage) for x in walk(s))]
        if len(readers) != 1 or len(readers[0].body) != 1 or not isinstance(readers[0].body[0], l8.For):
            return None
        nest = readers[0].body[0]
        if not isinstance(nest.extent, l8.Const) or nest.extent.value < 2 or n % nest.extent.value:
            return None
        rows, per_row = nest.extent.value, n // nest.extent.value
        inner = rebased(nest.body, nest.var, per_row, cb, {})
        c = parts(n, self.page_bytes[cb], rows, self.timing, self.read_rate[cb], steps)
        if inner is None or c == 1:
            return None
        size, last_push = n // c, last
        if c == rows:                   # a part per row: the row loop's trip is the part's
            def reads(p: int) -> tuple:
                return subst(inner, {nest.var: l8.Const(p, I32)})
        else:                           # rows // c rows a part: row = part * (rows // c) + r
            g = rows // c

            def reads(p: int) -> tuple:
                row = l8.BinOp("+", l8.Const(p * g, I32), l8.Var(nest.var))
                return (replace(nest, extent=l8.Const(g, I32), body=offset(subst(inner, {nest.var: row}),
                                                                             nest.var, per_row)),)
        roles = {role: [x for x in body if isinstance(x, l8.When) and test(x)] for role, test in (
            ("raise", lambda w: any(isinstance(x, l8.SemInc) for x in w.body)),
            ("cast", lambda w: any(isinstance(x, l8.McastPages) for x in w.body)),
            ("wait", lambda w: all(isinstance(x, l8.SemWait) for x in w.body)))}
        if len(body) != 7 or any(len(v) != 1 for v in roles.values()) or \
                sum(isinstance(x, l8.NocReadBarrier) for x in body) != 1 or self.sem + 2 > SEMAPHORES:
            return None
        (raise_,), (cast,), (wait,) = roles["raise"], roles["cast"], roles["wait"]
        cast = replace(cast, body=tuple(replace(x, pages=size) if isinstance(x, l8.McastPages) else x
                                        for x in cast.body))
        ready = next(x.sem for x in raise_.body if isinstance(x, l8.SemInc))
        valid = next(x.sem for x in cast.body if isinstance(x, l8.SemSetMcast))
        second = {ready: self.sem, valid: self.sem + 1}       # the handshake of the odd parts
        self.sem += 2

        def parity(w: l8.When, q: int) -> l8.When:
            return w if q == 0 else replace(w, body=tuple(replace(x, sem=second.get(x.sem, x.sem))
                                                          if isinstance(x, SEMS) else x for x in w.body))
        loc = readers[0].loc
        step = [replace(first, pages=size), raise_, l8.NocReadTrid(0, loc=loc), replace(readers[0], body=reads(0))]
        for p in range(c):      # part p: part p + 1 raised for and read while p lands and leaves
            q, after, last = p % 2, (p + 1) % 2, p + 1 == c
            step.append(replace(first, pages=size if last else 2 * size))
            if not last:
                step += [parity(raise_, after), l8.NocReadTrid(after, loc=loc),
                         replace(readers[0], body=shifted(reads(p + 1), size))]
            step += [l8.NocReadBarrierTrid(q, loc=next(x for x in body if isinstance(x, l8.NocReadBarrier)).loc),
                     parity(cast, q), parity(wait, q), replace(last_push, pages=size)]
        self.cut.append(f"cb{cb}'s block of {n} pages read and multicast in {c} parts of {size}, the next "
                        f"part read (transaction ids 0, 1) and raised for (sem{ready}/sem{valid}, "
                        f"sem{second[ready]}/sem{second[valid]}) while a part lands and leaves")
        return tuple(step)


def shifted(stmts: tuple, pages: int) -> tuple:
    """The reads of `stmts` into the slots `pages` further on (the next part, reserved with this one)."""
    out = []
    for s in stmts:
        if isinstance(s, l8.For):
            s = replace(s, body=shifted(s.body, pages))
        elif isinstance(s, l8.NocReadPage):
            s = replace(s, slot=build(*affine(l8.BinOp("+", s.slot, l8.Const(pages, I32)))))
        out.append(s)
    return tuple(out)


def rebased(stmts: tuple, var: str, size: int, cb: int, extents: dict[str, int]) -> tuple | None:
    """The reads of one trip of the row loop `var`, their slots less var * size; None unless every
    read goes into cb at var * size + r, r in 0..size-1 over the inner loops (constant extents)."""
    out = []
    for s in stmts:
        if isinstance(s, l8.Let):
            out.append(s)
        elif isinstance(s, l8.For) and isinstance(s.extent, l8.Const):
            body = rebased(s.body, var, size, cb, {**extents, s.var: s.extent.value})
            if body is None:
                return None
            out.append(replace(s, body=body))
        elif isinstance(s, l8.NocReadPage) and s.cb == cb and s.row is None:
            terms, const = affine(s.slot)
            rest = [(a, k) for a, k in terms if a != l8.Var(var)]
            if dict(terms).get(l8.Var(var)) != size or not all(
                    isinstance(a, l8.Var) and a.name in extents and k > 0 for a, k in rest):
                return None
            if const < 0 or const + sum(k * (extents[a.name] - 1) for a, k in rest) >= size:
                return None
            out.append(replace(s, slot=build(rest, const)))
        else:
            return None
    return tuple(out)


def offset(stmts: tuple, var: str, size: int) -> tuple:
    """The reads of `stmts` with var * size added to their slots (row `var` of a part)."""
    out = []
    for s in stmts:
        if isinstance(s, l8.For):
            s = replace(s, body=offset(s.body, var, size))
        elif isinstance(s, l8.NocReadPage):
            s = replace(s, slot=build(*affine(l8.BinOp("+", l8.BinOp("*", l8.Var(var), l8.Const(size, I32)), s.slot))))
        out.append(s)
    return tuple(out)
