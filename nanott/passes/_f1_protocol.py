"""F1's static protocol walk: every fault the simulator can name in one kernel's own calls, found
without running it, on every input and every interleaving.

Each kernel is walked once, with the index range of every loop variable instead of its values, and
every loop body twice: a body must leave the counts after its second trip as after its first (a
wait repeated in every trip is idempotent; a push or pop that does not balance is not).
Per CB it keeps the simulator's own counts (sim/cb_counts.CbCounts: pages reserved and not pushed,
pages waited for since the last pop), so F1 and the simulator apply one model of each call:
  a read of CB pages without a wait covering it           rule 6 (a deleted cb_wait_front)
  a pop before the last read of its pages                 rule 6 at the read that follows the pop
  a pop of pages never waited for (nor pushed by the       rule 5 (the simulator: pop n of n visible)
  kernel itself, as in a CB a kernel feeds itself)
  a push of more than is reserved, a store outside it     rules 5 and 6 (a NoC read, a pack_tile,
  (its reservation)                                       a generate_to_cb)
  a reserve or wait that would cross the end of the ring  rule 3 (pointers move by whole pushes/pops;
                                                          where a CB's write pointer may stand is
                                                          followed through the kernel: a reserve of
                                                          two parts where it never stands at the
                                                          ring's last part is no crossing)
  a push while NoC reads into the pages it pushes are     rule 7 (a deleted noc_async_read_barrier,
  in flight (reads carry their transaction id; a          or a barrier for the wrong id)
  barrier with an id lands that id's reads only)
  a pop while NoC writes from a CB are in flight          rule 8 (a deleted noc_async_write_barrier)
  a wait on a CB the kernel feeds itself, for more than   a deadlock
  it pushed
  a loop body whose trips keep changing a CB's counts     unbalanced per loop trip (NoC transfers
                                                          may stay in flight across trips: a page
                                                          loop before its one barrier; a CB the
                                                          kernel feeds itself may gain or lose the
                                                          same pages every trip)
  a multicast with NoC reads into its pages in flight,    rule "mcast" (sim/cooperation.py)
  or a push while a multicast has not landed (no flag
  to its rectangle after it, nor a write barrier)
An `if` body (D3b's sender or receiver part) is walked as if taken.
A slot whose range cannot be bounded is not judged (the simulator still is).
"""
from __future__ import annotations

from math import prod
from typing import Any

from nanott.ir import NOLOC
from nanott.passes._f1_reads import ReadsInFlight
from nanott.passes._f1_write_pointer import after_any_trips, either, moved, steps
from nanott.languages import l9
from nanott.passes._trip_counts import Deadlock, Unbalanced, walk_trips
from nanott.target import TILE
from nanott.sim.cb_counts import CbCounts
from nanott.sim.errors import RULES, ProtocolError

Range = tuple[int, int] | None

# The CB pages a compute call reads: (cb field, index field) pairs.
READS = {l9.CopyTile: (("cb", "index"),), l9.TransposeTile: (("cb", "index"),),
         l9.UnaryBcast: (("cb", "index"),), l9.BinaryTiles: (("a_cb", "a_index"), ("b_cb", "b_index")),
         l9.MatmulTiles: (("a_cb", "a_index"), ("b_cb", "b_index")),
         l9.ReduceTile: (("cb", "index"), ("scaler_cb", "scaler_index"))}


class ProtocolWalk:
    def __init__(self, bound: Any, program: l9.Program, role: str, program_steps: dict | None = None):
        self.bound = bound                          # f1_verify.bound: an index expression's range
        self.cbs = {cb.index: CbCounts(cb.index) for cb in program.cbs}
        self.pages = {cb.index: cb.plan.pages for cb in program.cbs}
        self.steps = steps(program) if program_steps is None else program_steps     # steps(program), given
        self.reads = ReadsInFlight()
        self.writes = 0                             # NoC writes issued since their barrier
        self.mcasts: list = []                      # rectangles of multicasts issued and not landed (D3b)
        self.own = dict.fromkeys(self.cbs, 0)       # pages pushed and not popped, of a CB the kernel
        self.fed = {cb.index for cb in program.cbs  # feeds itself: visible to it without a wait
                    if cb.producer == cb.consumer == role}
        self.at: dict[int, frozenset | None] = {i: frozenset({0}) for i in self.cbs}   # where each CB's
                                                    # write pointer may stand (None: not followed)

    def wrap(self, call: str, side: str, cb: int, n: int) -> None:
        """Rule 3, as the ring applies it: a region starts where the pointer stands, and pointers
        advance by whole pushes (pops); with one push (pop) size p over the ring, a region of more
        than p pages starting at page `pages - p` would cross the end of the ring."""
        sizes, pages = self.steps.get((side, cb), set()), self.pages[cb]
        if side == "push" and self.at[cb] is not None:
            if crossing := [x for x in sorted(self.at[cb]) if x + n > pages]:
                raise ProtocolError(3, f"{call} cb{cb}, {n}: the write pointer may stand at page {crossing[-1]} "
                                    f"of the {pages} pages, where a region of {n} crosses the end of the ring")
            return
        if len(sizes) == 1 and (p := next(iter(sizes))) < n and pages % p == 0 and pages > p:
            raise ProtocolError(3, f"{call} cb{cb}, {n}: every cb_{side} moves the pointer by {p} of "
                                f"the {pages} pages, so at page {pages - p} a region of {n} crosses the "
                                "end of the ring")

    def state(self) -> tuple:
        return tuple((i, (*c.state(), self.own[i])) for i, c in sorted(self.cbs.items()))

    def block(self, stmts: tuple, env: dict[str, Range]) -> None:
        for s in stmts:
            try:
                env = self.stmt(s, env)
            except ProtocolError as e:
                e.loc = s.loc if e.loc == NOLOC else e.loc       # the innermost statement's line
                raise
            except Deadlock as e:
                e.loc = getattr(e, "loc", s.loc)
                raise

    def stmt(self, s: Any, env: dict[str, Range]) -> dict[str, Range]:
        match s:
            case l9.For(var=var, extent=extent):
                n = self.bound(extent, env)
                self.at = after_any_trips(self.at, s.body, self.pages)
                if n is None or n[1] > 0:              # two trips: the second starts where the first ended
                    walk_trips(self, s, n, {**env, var: (0, n[1] - 1) if n else None})
            case l9.Let(var, value):
                return {**env, var: self.bound(value, env)}
            case l9.CbReserve(cb, n):
                self.wrap("cb_reserve_back", "push", cb, n)
                self.cbs[cb].reserve(n)
            case l9.CbWait(cb, n):
                self.wrap("cb_wait_front", "pop", cb, n)
                if cb in self.fed and n > self.own[cb]:
                    raise Deadlock(f"cb_wait_front cb{cb}, {n} with {self.own[cb]} pages pushed: the kernel "
                                   "feeds this CB itself, so nothing else can ever push them")
                self.cbs[cb].wait(n)
            case l9.When(_, body):                  # walked as if taken: its reads count either way
                before = dict(self.at)
                self.block(body, env)
                self.at = either(self.at, before)
            case l9.McastPages(cb, n, rect):
                if k := self.reads.into(cb, n):
                    raise ProtocolError("mcast", f"noc_async_write_multicast of cb{cb} with {k} NoC "
                                        "read(s) into its pages in flight (noc_async_read_barrier first)")
                self.cbs[cb].check_back(0, n - 1, "noc_async_write_multicast")
                self.mcasts.append(rect)
            case l9.SemSetMcast(rect=rect):          # the flag lands after the data sent to its rectangle
                self.mcasts = [r for r in self.mcasts if r != rect]
            case l9.CbPush(cb, n):
                if self.mcasts:
                    raise ProtocolError("mcast", f"cb_push_back cb{cb}, {n} with a multicast of its pages not "
                                        "landed (noc_semaphore_set_multicast or noc_async_write_barrier first)")
                if k := self.reads.into(cb, n):
                    raise ProtocolError(7, f"cb_push_back cb{cb}, {n} with {k} NoC read(s) into its pages in "
                                        "flight (noc_async_read_barrier first)")
                self.reads.pushed(cb, n)
                self.cbs[cb].check_push(n)
                self.cbs[cb].pushed(n)
                self.at[cb] = moved(self.at[cb], n, self.pages[cb])
                self.own[cb] += n if cb in self.fed else 0
            case l9.CbPop(cb, n):
                if self.writes:
                    raise ProtocolError(8, f"cb_pop_front cb{cb}, {n} with {self.writes} NoC write(s) in "
                                        "flight (noc_async_write_barrier first)")
                if n > max(self.cbs[cb].waited, self.own[cb]):
                    raise ProtocolError(5, f"cb_pop_front cb{cb}, {n} with {self.cbs[cb].waited} pages "
                                        "waited for (cb_wait_front first)")
                self.cbs[cb].popped(n)
                self.own[cb] = max(0, self.own[cb] - n)
            case l9.NocReadPage(_, _, cb, slot):
                self.slots(self.cbs[cb].check_back, slot, env, "noc_async_read_page")
                self.reads.issue(cb, self.bound(slot, env))
            case l9.NocWritePage(cb, slot, _, _):
                self.slots(self.cbs[cb].check_front, slot, env, "noc_async_write_page")
                self.writes += 1
            case l9.NocReadBarrier():
                self.reads.landed()
            case l9.NocReadTrid(trid):
                self.reads.trid = trid
            case l9.NocReadBarrierTrid(trid):
                self.reads.landed(trid)
            case l9.NocWriteBarrier():
                self.writes, self.mcasts = 0, []
            case l9.GenerateToCb(cb, _, extents, _):           # a block of tiles into the back
                self.cbs[cb].check_back(0, prod(e // TILE for e in extents[-2:]) - 1, "generate_to_cb")
            case l9.PackTile(_, cb, slot):
                self.slots(self.cbs[cb].check_back, slot, env, "pack_tile")
            case l9.MatmulBlock(a_cb, b_cb, a_index, b_index, _, rt, ct, kt):
                for cb, index, span in ((a_cb, a_index, (rt - 1) * kt), (b_cb, b_index, ct - 1)):
                    r = self.bound(index, env)
                    if r is not None:
                        self.cbs[cb].check_front(r[0], r[1] + span, "matmul_block")
            case _ if type(s) in READS:
                for cb_field, index_field in READS[type(s)]:
                    self.slots(self.cbs[getattr(s, cb_field)].check_front, getattr(s, index_field), env,
                               s.head().split(" ")[0])
        return env

    def slots(self, check: Any, slot: Any, env: dict[str, Range], who: str) -> None:
        r = self.bound(slot, env)
        if r is not None:
            check(r[0], r[1], who)


def check_protocol(program: l9.Program, bound: Any, broken: Any) -> None:
    """Every kernel walked; a fault is F1's CheckError naming the simulator's rule."""
    program_steps = steps(program)                  # the whole program's: the same for every kernel
    for k in program.kernels:
        try:
            ProtocolWalk(bound, program, k.role, program_steps).block(k.body, {})
        except ProtocolError as e:
            raise broken(f"protocol rule {e.rule} ({RULES[e.rule]})", k.role, e.detail, loc=e.loc) from None
        except Unbalanced as e:
            raise broken("protocol balance per loop trip", k.role, str(e), loc=e.loc) from None
        except Deadlock as e:
            raise broken("deadlock", k.role, str(e), loc=e.loc) from None
