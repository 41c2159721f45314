"""InterpL8: the split kernels with Metalium's CB and NoC protocol, on real pages.

State per core: every CB is a ring of 32x32 pages in the core's L1, in the CB's dtype, with the
two 16-bit counters and the read and write pointers of docs/reference.md §5.1 (sim/cb_ring.CbRing).
DRAM is every tensor tilized to pages when the run first touches it (an output written page by
page: the pages nothing wrote) and untilized into the caller's arrays when it ends (sim/noc.Dram). Each data-movement kernel has its own NoC (sim/noc.Noc): a page read
or write is only queued when issued and moves at that kernel's barrier, in a seeded random order.

Rules checked, each a ProtocolError naming its number (docs/reference.md §5.2) and the statement's line:
  2  reserve / wait n within the CB's pages        3  the wrap rule: pointers land on the limit
  4  cumulative waits: reads below the count waited since the last pop
  5  push after a reserve of at least n, every reserved slot written; pop n of n visible
  6  compute reads only waited slots, stores only reserved slots (NoC transfers too)
  7  no cb_push_back while reads into the pages it pushes are in flight (reads into pages reserved
     beyond them may be: a transaction id's barrier lands some reads and not others)
  8  no cb_pop_front while writes out of that CB are in flight
  §5.4.3  a kernel ends with no transfer in flight; §5.5 every CB ends the run empty
  owner   one core writes each row of a DRAM page in a launch (sim/noc.py)
A kernel blocks only in cb_reserve_back and cb_wait_front; when none can go on, the DeadlockError
names each blocked kernel, its CB with the pages asked and visible or free, and its partner's state.
Init statements are no-ops here (the DST and init checks are InterpL9's). Tile arithmetic is
InterpL5's: a TileRef reads the waited front of its CB at slot row * block_cols + col, a TStore
writes the reserved back at the same slot. A FrontElement (a let of the reader reading a DRAM
element, in the reader or in compute) is the element of the first waited page of its CB, checked as
a read of that slot (rule 6); a BackElement (the reader's, of a page it sends to compute) the
element of the first reserved page, checked as the reader's access to its reserved slot.
Results are bit-identical to InterpL7's.
"""
from __future__ import annotations

from typing import Any, Iterator

import numpy as np

from nanott.languages import l8
from nanott.languages.l0_interp import Env
from nanott.languages.l7_interp import InterpL7, KernelEnv
from nanott.sim.cb_ring import CbRing
from nanott.sim.cooperation import Cooperation
from nanott.sim.errors import ProtocolError
from nanott.sim.noc import Dram, Noc
from nanott.sim.scheduler import Check, Wait
from nanott.target import TILE


class InterpL8(InterpL7):
    """L8 adds the ring of pages per CB, DRAM pages, and NoC transfers landing at their barrier."""

    def start(self, program: l8.Program, arrays: dict[str, np.ndarray]) -> None:
        self.dram = Dram(arrays, tuple(p.name for p in program.params))
        self.rng = np.random.default_rng(self.seed if self.seed is not None else 0)
        self.coop = Cooperation(program)
        self.dram.core_names = {i: c for c, i in self.coop.ids.items()}

    def make_cb(self, cb) -> CbRing:
        return CbRing(cb)

    def setup_kernel(self, env: KernelEnv) -> None:
        env.noc = Noc(self.dram, self.rng) if env.role != "compute" else None
        if env.noc is not None:
            env.noc.coop, env.noc.writer = self.coop, self.coop.ids[env.core]
        env.scalars.setdefault("core.logical_x", env.core[0])
        env.scalars.setdefault("core.logical_y", env.core[1])
        for lane, c in zip(self.lane_ids(env), self.lanes(env)):
            self.coop.core_ready(c, env.cbs, lane)

    def kernel_ended(self, env: KernelEnv) -> None:
        self.coop.finished.add((env.core, env.role))
        if env.noc is not None:
            try:
                env.noc.check_idle()
            except ProtocolError as e:
                raise e.at(env.core, env.role, e.loc) from None

    def finish(self, arrays: dict[str, np.ndarray]) -> None:
        self.dram.untilize_into(arrays)

    def eval(self, e: Any, env: Env) -> Any:
        if isinstance(e, (l8.FrontElement, l8.BackElement)):    # a core reads its L1 (lockstep: every core's)
            ring = env.cbs[e.cb]
            page = ring.pages[ring.front(0, "an element read") if isinstance(e, l8.FrontElement)
                              else ring.back(0, "an element read")]
            r, c = (np.asarray(self.eval(x, env), dtype=np.int64) for x in (e.row, e.col))
            return (page[np.arange(page.shape[0]), r, c] if page.ndim == 3 else page[r, c])[()]
        return super().eval(e, env)

    def exec_kernel_stmt(self, s: Any, env: KernelEnv) -> Iterator[Wait]:
        match s:
            case l8.CbReserve(cb, n):
                ring = env.cbs[cb]
                ring.check_count("cb_reserve_back", n)
                yield Wait(s, (Check(lambda: ring.free() >= n, lambda: ring.free_state(n), cb,
                                            ring.cb.consumer, "consumer"),), s.loc)
                ring.reserve(n)
            case l8.CbWait(cb, n):
                ring = env.cbs[cb]
                ring.check_count("cb_wait_front", n)
                yield Wait(s, (Check(lambda: ring.visible() >= n, lambda: ring.visible_state(n),
                                            cb, ring.cb.producer, "producer"),), s.loc)
                ring.wait(n)
            case l8.CbPush(cb, n):
                ring = env.cbs[cb]
                if env.noc is not None and (k := env.noc.reads_into(ring, range(ring.wr, ring.wr + n))):
                    raise ProtocolError(7, f"cb_push_back cb{cb} before noc_async_read_barrier: "
                                        f"{k} reads in flight")
                ring.push(n)
                yield Wait(s, (), s.loc)          # never blocks; lets the others run
            case l8.CbPop(cb, n):
                ring = env.cbs[cb]
                if env.noc is not None and (k := env.noc.writes_from(ring)):
                    raise ProtocolError(8, f"cb_pop_front cb{cb} before noc_async_write_barrier: "
                                        f"{k} writes in flight")
                ring.pop(n)
                yield Wait(s, (), s.loc)
            case l8.NocReadPage(tensor, page, cb, slot, row, to):
                env.noc.read(tensor, self.index(page, env), env.cbs[cb], self.index(slot, env),
                             None if row is None else self.index(row, env), 0 if to is None else self.index(to, env))
            case l8.NocWritePage(cb, slot, tensor, page, row, source):
                env.noc.write(env.cbs[cb], self.index(slot, env), tensor, self.index(page, env),
                              None if row is None else self.index(row, env), 0 if source is None else self.index(source, env))
            case l8.NocReadBarrier():
                env.noc.read_barrier()
            case l8.NocReadTrid(trid):
                env.noc.trid = trid
            case l8.NocReadBarrierTrid(trid):
                env.noc.read_barrier(trid)
            case l8.NocWriteBarrier():
                env.noc.write_barrier()
            case l8.GenerateToCb(cb, vars, extents, value):
                self.write_block(env.cbs[cb], self.generate(vars, extents, value, env))
            case l8.PrintCb(text, cb):
                self.say_block(text, self.front_block(env.cbs[cb]), env)
            case l8.TileGroup(vars, extents, body):
                self.run_group(vars, extents, body, env)
            case l8.Init():
                pass
            case l8.When(cond, body):
                if self.index(cond, env):
                    yield from self.exec_kernel_block(body, env)
            case l8.SemSet() | l8.SemWait() | l8.SemInc() | l8.McastPages() | l8.SemSetMcast():
                yield from self.cooperate(s, env)
            case _:
                yield from super().exec_kernel_stmt(s, env)

    # ----- cores that cooperate (sim/cooperation.py), for each core a kernel runs on (its lanes) -----
    def lanes(self, env: KernelEnv) -> list[tuple[int, ...]]:
        """The cores this kernel runs for: its own (Lockstep: every core of its group)."""
        return [env.core]

    def lane_ids(self, env: KernelEnv) -> list[int | None]:
        """Where each of the kernel's cores keeps its CB pages: None, its own rings (Lockstep: its
        index on the rings' core axis)."""
        return [None]

    def lane_values(self, e: Any, env: KernelEnv) -> list[int]:
        """An index expression's value on each of the kernel's cores."""
        return [self.index(e, env)]

    def rows(self, env: KernelEnv) -> np.ndarray:
        """The kernel's cores as rows of the run's semaphore table (sim/cooperation.py)."""
        return np.array([self.coop.ids[c] for c in self.lanes(env)])

    def receivers(self, s: Any, env: KernelEnv, call: str) -> np.ndarray:
        """The rows of the cores in the rectangle of a multicast, a row per core of the kernel."""
        corners = tuple(np.asarray(self.lane_values(e, env)) for e in (s.rect.x0, s.rect.y0, s.rect.x1, s.rect.y1))
        return self.coop.rect_rows(self.rows(env), corners, call)

    def rects(self, r: l8.Rect, env: KernelEnv) -> list[tuple[int, int, int, int]]:
        return list(zip(*(self.lane_values(e, env) for e in (r.x0, r.y0, r.x1, r.y1))))

    def cooperate(self, s: Any, env: KernelEnv) -> Iterator[Wait]:
        coop, cores = self.coop, self.lanes(env)
        match s:
            case l8.SemSet(sem, value):
                for c in cores:
                    coop.set(c, sem, value)
            case l8.SemWait(sem, value):
                yield Wait(s, (Check(lambda: all(coop.holds(c, sem, value) for c in cores),
                                            lambda: coop.state(cores, sem, value)),), s.loc)
            case l8.SemInc(sem, x, y):
                for c, *at in zip(cores, self.lane_values(x, env), self.lane_values(y, env)):
                    coop.inc(tuple(at), c, sem)
            case l8.McastPages(cb, pages, rect):
                ring = env.cbs[cb]
                if k := env.noc.reads_into(ring, range(ring.wr, ring.wr + pages)):
                    raise ProtocolError("mcast", f"noc_async_write_multicast of cb{cb} with {k} reads into its "
                                        "pages in flight (noc_async_read_barrier first)")
                receivers = self.receivers(s, env, "noc_async_write_multicast")
                env.noc.mcasts.append(coop.mcast(receivers, env.cbs[cb], pages, self.lane_ids(env)))
            case l8.SemSetMcast(sem, value, rect):
                env.noc.land_mcasts(set(self.lane_ids(env)))
                coop.set_mcast(self.rows(env), sem, value, self.receivers(s, env, "noc_semaphore_set_multicast"))
        yield Wait(s, (), s.loc)          # lets the others run

    def index(self, e: Any, env: Env) -> int:
        return int(self.eval(e, env))

    @staticmethod
    def write_block(ring: CbRing, block: np.ndarray) -> None:
        """A block the reader made, written tile by tile into the reserved back of its CB."""
        for slot in range(ring.block_cols * (block.shape[-2] // TILE)):
            r, c = divmod(slot, ring.block_cols)
            page = ring.back(slot, "generate_to_cb")
            ring.pages[page][...] = block[..., r * TILE:(r + 1) * TILE, c * TILE:(c + 1) * TILE]
            ring.written[page] = True

    @staticmethod
    def front_block(ring: CbRing) -> np.ndarray:
        """The waited front block of a CB, its pages put back into the block's shape (a print reads
        only waited pages: rule 6). Leading axes of the pages stay (the lockstep simulator's cores)."""
        block = np.empty(ring.pages.shape[1:-2] + tuple(ring.cb.shape), ring.pages.dtype)
        for slot in range(ring.cb.plan.block_pages):
            r, c = divmod(slot, ring.block_cols)
            block[..., r * TILE:(r + 1) * TILE, c * TILE:(c + 1) * TILE] = ring.pages[ring.front(slot, "a print")]
        return block

    # ----- tiles: slots of the ring -----
    def exec_tile(self, t: Any, env: Env, temps) -> None:
        if not isinstance(t, l8.Init):
            super().exec_tile(t, env, temps)

    def slot(self, ref, env: Env) -> tuple[CbRing, int]:
        ring = env.cbs[ref.cb]
        return ring, self.index(ref.row, env) * ring.block_cols + self.index(ref.col, env)

    def tile(self, ref, env: Env) -> np.ndarray:
        """A tile a group reads: the page of its slot in the CB's waited front region."""
        ring, slot = self.slot(ref, env)
        return ring.pages[ring.front(slot, "a tile read")]

    def store_tile(self, ref, env: Env) -> np.ndarray:
        """A tile a TStore writes: the page of its slot in the CB's reserved back region."""
        ring, slot = self.slot(ref, env)
        page = ring.back(slot, "a tile store")
        ring.written[page] = True
        return ring.pages[page]


l8.LANG.interpreter = InterpL8


def demo_kernel() -> l8.Program:
    """L7's demo with its protocol made explicit by D3."""
    from nanott.languages.l7_interp import demo_kernel as l7_demo
    from nanott.passes.d3_lower_cb_protocol import lower_cb_protocol
    from nanott.target import DEFAULT_TARGET
    return lower_cb_protocol(l7_demo(), DEFAULT_TARGET)


if __name__ == "__main__":
    from nanott.languages.l1_interp import demo_run
    l8.LANG.check(demo_kernel())
    demo_run(InterpL8(seed=1), demo_kernel())

