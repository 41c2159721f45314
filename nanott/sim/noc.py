"""DRAM as pages, and the NoC transfers a data-movement kernel has in flight.

DRAM: page id = tile row * tile cols + tile col, one 32x32 tile per page in the tensor's dtype
(docs/reference.md §7.1, interleaved: the bank does not change what a page holds). A tensor is
tilized when the run first touches it: page p of a (R*32, C*32) tensor is tile (p // C, p % C),
and the copy holds the pages in order (one fancy index reads a page per core). The caller's
arrays change only when the run ends (the tensors written, untilized back), so a run abandoned
half-way (lockstep falling back to the reference) leaves them as they were.

One writer per row: within a launch, every row of a DRAM page is written by one core at most (rule
"owner"). nanott's writes move a whole page or one row of it (two face rows of 16 elements, 16 B
or more each: whole 16-B units of the DRAM write alignment), so two cores that write different rows
of one page write disjoint bytes, which the NoC does (a row scatter, the lines of a split's
lse). Two cores writing the same row land in an order no semaphore fixes: on silicon the last
write wins, and which is last changes from run to run. The simulator refuses it, so that a
partition or a page id that sends two cores' blocks to one tile is a compiler bug found here, not
a race found on the device. Only a row both write with the same bytes passes: whichever lands
last, DRAM holds the same row (a kernel whose grid repeats a block's work, as TileLang's varlen
NSA forward does over its batch axis, writes each row twice, the same both times). Random inputs
make two different computations give different bytes; equal bytes from different computations
would need inputs chosen for it.

NoC (docs/reference.md §5.4): a read or write is only queued when issued. Its data moves at the issuing
kernel's barrier, in an order drawn from the run's seed (transfers may complete out of order); a
write reads its source page of L1 then, not when issued, which is why rule 8 matters. The kernel
asks how many transfers are still in flight into or out of a CB before it pushes or pops it.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from nanott.sim.cb_ring import CbRing
from nanott.sim.errors import ProtocolError
from nanott.target import TILE


def tiles(a: np.ndarray) -> np.ndarray:
    """(R*32, C*32) elements viewed as (R, 32, C, 32): tile (r, c) is [r, :, c, :]."""
    return a.reshape(a.shape[0] // TILE, TILE, a.shape[1] // TILE, TILE)


class Dram:
    """The DRAM tensors of one run, as pages: each tensor's pages one after another, (pages, 32,
    32), as DRAM holds them (tilized), copied out of the caller's array when the run first reads
    or writes it; written back into the caller's arrays (untilized) when the run ends. A tensor
    the run first writes whole pages of (an output) is not copied in then: its pages are copied
    out of the caller's array only when something needs one the run has not written (a read, a
    row written into a page, the end of the run), and only those pages."""

    def __init__(self, arrays: dict[str, np.ndarray], names: tuple[str, ...]):
        self.arrays = {n: arrays[n] for n in names}
        self.grid = {n: (a.shape[0] // TILE, a.shape[1] // TILE) for n, a in self.arrays.items()}
        self.flat: dict[str, np.ndarray] = {}
        self.unset: dict[str, np.ndarray] = {}   # tensor -> its pages holding nothing yet (True)
        self.copied: set[str] = set()
        self.scratch = None                 # a sim/scratch.Scratch to take the tilized copies from
        self.writers: dict[str, np.ndarray] = {}     # tensor -> (pages, 32) the core writing each row, -1
        self.core_names: dict[int, Any] = {}        # a writer's id -> its core, for the message

    def count(self, tensor: str) -> int:
        """How many pages the tensor has."""
        rows, cols = self.grid[tensor]
        return rows * cols

    def page(self, tensor: str, page: int, call: str) -> int:
        count = self.count(tensor)
        if not 0 <= page < count:
            raise ProtocolError("3.5", f"{call} {tensor}.page[{page}]: {tensor} has {count} pages")
        return page

    def _new(self, tensor: str) -> np.ndarray:
        a, (rows, cols) = self.arrays[tensor], self.grid[tensor]
        shape = (rows, cols, TILE, TILE)
        flat = np.empty(shape, a.dtype) if self.scratch is None else self.scratch.empty(shape, a.dtype)
        return flat

    def pages(self, tensor: str) -> np.ndarray:
        """The tensor's pages, tilized on first use (one pass; a page is then 2 KB in one piece,
        which gathers of many pages at once read several times faster than 32 rows of a matrix)."""
        flat = self.flat.get(tensor)
        if flat is None:
            flat = self._new(tensor)
            flat[...] = tiles(self.arrays[tensor]).transpose(0, 2, 1, 3)
            flat = self.flat[tensor] = flat.reshape(-1, TILE, TILE)
        elif tensor in self.unset:          # the pages not written yet, as the caller's array holds them
            unset = np.flatnonzero(self.unset.pop(tensor))
            if len(unset):
                rows, cols = self.grid[tensor]
                t = tiles(self.arrays[tensor])
                flat[unset] = t[unset // cols, :, unset % cols, :]
        return flat

    def read(self, tensor: str, page: Any) -> np.ndarray:
        """Page(s) of a tensor: (32, 32) for one page id, (*shape, 32, 32) for an array of them."""
        return self.pages(tensor)[page]

    def write(self, tensor: str, page: Any, values: np.ndarray, row: int | None = None) -> None:
        """Page(s) written whole, or only `row` of the page (`values` is then that row)."""
        self.copied.add(tensor)
        if row is None and tensor not in self.flat:        # an output: nothing copied in yet
            self.flat[tensor] = self._new(tensor).reshape(-1, TILE, TILE)
            self.unset[tensor] = np.ones(self.count(tensor), bool)
        if row is None and tensor in self.unset:
            self.flat[tensor][page] = values
            self.unset[tensor][page] = False
        elif row is None:
            self.pages(tensor)[page] = values
        else:
            self.pages(tensor)[page, row] = values

    def claim(self, tensor: str, page: Any, row: Any, core: Any, values: Any = None) -> None:
        """Record that `core` (an id; an array of ids, one per page, in lockstep) writes these rows
        of these pages (row None: all 32); a ProtocolError (rule "owner") when another core of the
        run wrote one of them, or writes it in the same batch, with other bytes than `values` (the
        rows about to be written, in the order of the pages; None: any second writer is refused)."""
        if core is None:
            return
        w = self.writers.get(tensor)
        if w is None:
            w = self.writers[tensor] = np.full(self.count(tensor) * TILE, -1, np.int64)
        page = np.asarray(page)
        who = np.broadcast_to(np.asarray(core), page.shape)
        if row is None:
            keys, who = (page[..., None] * TILE + np.arange(TILE)).reshape(-1), np.repeat(who.reshape(-1), TILE)
        else:
            keys, who = (page * TILE + np.asarray(row)).reshape(-1), who.reshape(-1)
        before = w[keys]
        clash = np.flatnonzero((before >= 0) & (before != who))
        order = np.argsort(keys, kind="stable")
        k, c = keys[order], who[order]
        twice = np.flatnonzero((k[1:] == k[:-1]) & (c[1:] != c[:-1]))
        if (len(clash) or len(twice)) and values is not None:
            held = self.pages(tensor).reshape(-1, TILE)              # as DRAM holds them, in its dtype
            rows = _bytes(np.asarray(values).astype(held.dtype, copy=False).reshape(len(keys), -1))
            clash = clash[(rows[clash] != _bytes(held[keys[clash]])).any(-1)]
            twice = twice[(rows[order][twice] != rows[order][twice + 1]).any(-1)]
        if len(clash) or len(twice):
            key, a, b = ((keys[clash[0]], before[clash[0]], who[clash[0]]) if len(clash)
                         else (k[twice[0]], c[twice[0]], c[twice[0] + 1]))
            name = self.core_names.get
            raise ProtocolError("owner", f"cores {name(int(a), int(a))} and {name(int(b), int(b))} both write "
                                f"row {key % TILE} of {tensor}.page[{key // TILE}] in one launch")
        w[keys] = who

    def untilize_into(self, arrays: dict[str, np.ndarray]) -> None:
        """The tensors written, back into the caller's arrays."""
        for n in self.copied:
            rows, cols = self.grid[n]
            tiles(arrays[n])[...] = self.pages(n).reshape(rows, cols, TILE, TILE).transpose(0, 2, 1, 3)


@dataclass(frozen=True)
class Transfer:
    tensor: str
    page: int
    ring: CbRing
    l1_page: int
    row: int | None = None      # one row: that row of the DRAM page <-> row `to` of the L1 page
    to: int = 0
    trid: int = 0               # the read's transaction id (noc_async_read_set_trid)


class Noc:
    """One data-movement kernel's transfers issued and not yet complete."""

    def __init__(self, dram: Dram, rng: np.random.Generator):
        self.dram, self.rng = dram, rng
        self.reads: list[Transfer] = []
        self.writes: list[Transfer] = []
        self.mcasts: list = []              # sim/cooperation.Mcast, landed by land_mcasts
        self.coop = None                    # the run's sim/cooperation.Cooperation, for landing them
        self.writer: Any = None             # the id of the core whose writes these are (Dram.claim)
        self.trid = 0                       # the id the next reads carry (noc_async_read_set_trid)

    def read(self, tensor: str, page: int, ring: CbRing, slot: int, row: int | None = None, to: int = 0) -> None:
        """noc_async_read_page: DRAM page (or one row of it) -> the ring's reserved slot (its row
        `to`), when the barrier comes."""
        page = self.dram.page(tensor, page, "noc_async_read_page")
        self.reads.append(Transfer(tensor, page, ring, ring.back(slot, "noc_async_read_page"), row, to, self.trid))

    def write(self, ring: CbRing, slot: int, tensor: str, page: int, row: int | None = None, source: int = 0) -> None:
        """noc_async_write_page: the ring's waited slot (its row `source`) -> DRAM page (or one row
        of it, the rest of the page untouched), when the barrier comes."""
        page = self.dram.page(tensor, page, "noc_async_write_page")
        self.writes.append(Transfer(tensor, page, ring, ring.front(slot, "noc_async_write_page"), row, source))

    def landing(self, trid: int | None) -> list[Transfer]:
        """The reads a barrier lands (those of id `trid`; None: every one), taken out of flight."""
        if trid is None:
            out, self.reads = self.reads, []
        else:
            out = [t for t in self.reads if t.trid == trid]
            self.reads = [t for t in self.reads if t.trid != trid]
        return out

    def read_barrier(self, trid: int | None = None) -> None:
        """noc_async_read_barrier (trid None), or noc_async_read_barrier_with_trid: those reads land."""
        reads = self.landing(trid)
        for i in self.rng.permutation(len(reads)):
            t = reads[i]
            page = self.dram.read(t.tensor, t.page)
            if t.row is None:
                t.ring.pages[t.l1_page] = page
            else:                           # the rest of the L1 page keeps what it held
                t.ring.pages[t.l1_page][t.to] = page[t.row]
            t.ring.written[t.l1_page] = True

    def write_barrier(self) -> None:
        for i in self.rng.permutation(len(self.writes)):
            t = self.writes[i]
            values = t.ring.pages[t.l1_page]
            values = values if t.row is None else values[t.to]
            self.dram.claim(t.tensor, t.page, t.row, self.writer, values)
            self.dram.write(t.tensor, t.page, values, t.row)
        self.writes = []
        self.land_mcasts()

    def land_mcasts(self, lanes: Any = None) -> None:
        """The multicasts in flight land (only those sent from `lanes` of a lockstep group, if given)."""
        mine = [lanes is None or m.lane is None or set(m.lane.tolist()) <= lanes for m in self.mcasts]
        for m, landing in zip(self.mcasts, mine):
            if landing:
                self.coop.land(m)
        self.mcasts = [m for m, landing in zip(self.mcasts, mine) if not landing]

    def writes_from(self, ring: CbRing) -> int:
        return sum(t.ring is ring for t in self.writes) + sum(m.ring is ring for m in self.mcasts)

    def reads_into(self, ring: CbRing, region: range | None = None) -> int:
        """Reads in flight into the ring (into its L1 pages `region` only, if given)."""
        return sum(t.ring is ring and (region is None or t.l1_page in region) for t in self.reads)

    def check_idle(self) -> None:
        """§5.4.3: a data-movement kernel ends with every transfer it issued complete."""
        if self.reads or self.writes or self.mcasts:
            raise ProtocolError("5.4.3", f"the kernel ends with {len(self.reads)} reads and "
                                f"{len(self.writes) + len(self.mcasts)} writes in flight (a barrier is missing)")


def _bytes(rows: np.ndarray) -> np.ndarray:
    """Rows (n, 32) as their raw bytes (so -0.0 and 0.0 differ, and a NaN equals the same NaN)."""
    return np.ascontiguousarray(rows).view(np.uint8)
