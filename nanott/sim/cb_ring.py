"""A circular buffer as the simulators see it: a queue of whole blocks (L7), or a ring of real
pages with Metalium's counters and pointers (L8).

The ring follows docs/reference.md §5.1: two free-running 16-bit counters (`received`, bumped by the
producer's push; `acked`, by the consumer's pop), visible = received - acked and free = pages -
visible; a read pointer and a write pointer in pages that wrap only on an exact hit of the limit.
Every rule of §5.2 the ring can see is checked here and raised as a ProtocolError with its number;
the kernel that made the call adds its core, role and source line.
"""
from __future__ import annotations

from collections import deque

import numpy as np

from nanott.languages.l0_interp import empty
from nanott.sim.cb_counts import CbCounts
from nanott.sim.errors import ProtocolError
from nanott.target import TILE

COUNTER = 1 << 16          # pages_received and pages_acked are 16-bit and wrap


class BlockQueue:
    """L7: a CB is a queue of whole blocks (arrays of the CB's shape), at most plan.depth of them."""

    def __init__(self, cb):
        self.cb, self.capacity = cb, cb.plan.depth
        self.blocks: deque[np.ndarray] = deque()

    def has_front(self) -> bool:
        return len(self.blocks) > 0

    def has_room(self) -> bool:
        return len(self.blocks) < self.capacity

    def front(self) -> np.ndarray:
        return self.blocks[0]

    def fresh(self) -> np.ndarray:
        """A new block to fill: NaN, so a tile never stored shows up in the result."""
        return empty(self.cb.shape, self.cb.dtype)

    def push(self, block: np.ndarray) -> None:
        self.blocks.append(block)

    def pop(self) -> None:
        self.blocks.popleft()

    def leftover(self) -> str:
        return f"{len(self.blocks)} block(s)" if self.blocks else ""

    def full_state(self) -> str:
        return f"{len(self.blocks)} of {self.capacity} blocks full"

    def front_state(self) -> str:
        return f"{len(self.blocks)} blocks queued"


class CbRing(CbCounts):
    """L8: a CB as `pages` 32x32 tiles in a core's L1, in the CB's dtype, and its protocol state
    (the counts of its own calls are CbCounts', shared with F1's static walk)."""

    def __init__(self, cb):
        super().__init__(cb.index)
        self.cb, self.num_pages = cb, cb.plan.pages
        self.block_cols = cb.shape[-1] // TILE
        self.pages = empty((self.num_pages, TILE, TILE), cb.dtype)
        self.written = np.zeros(self.num_pages, dtype=bool)   # holds data pushed or to be pushed
        self.received = self.acked = 0
        self.wr = self.rd = 0                  # fifo_wr_ptr, fifo_rd_ptr, in pages; limit = num_pages

    # ----- the counters -----
    def visible(self) -> int:
        return (self.received - self.acked) % COUNTER

    def free(self) -> int:
        return self.num_pages - self.visible()

    def leftover(self) -> str:
        left = [f"{self.visible()} page(s) pushed and not popped"] if self.visible() else []
        left += [f"{self.reserved} page(s) reserved and not pushed"] if self.reserved else []
        return ", ".join(left)

    def visible_state(self, n: int) -> str:
        return f"{self.visible()} of the {n} pages it needs visible"

    def free_state(self, n: int) -> str:
        return f"{self.free()} of the {n} pages it needs free"

    # ----- the calls, each after its wait is ready -----
    def check_count(self, call: str, n: int) -> None:
        """Rule 2: a reserve or wait larger than the ring would block forever."""
        if not 0 < n <= self.num_pages:
            raise ProtocolError(2, f"{call} cb{self.index}, {n}: cb{self.index} holds "
                                f"{self.num_pages} pages")

    def reserve(self, n: int) -> None:
        self.check_region("cb_reserve_back", self.wr, n, "write")
        super().reserve(n)

    def wait(self, n: int) -> None:
        self.check_region("cb_wait_front", self.rd, n, "read")
        super().wait(n)

    def push(self, n: int) -> None:
        self.check_push(n)
        region = self.wr + np.arange(n)
        if not self.written[region].all():        # (lockstep: a flag per core, every core's page)
            holes = ", ".join(str(s) for s in np.flatnonzero(~self.written[region].reshape(n, -1).all(1)))
            raise ProtocolError(5, f"cb_push_back cb{self.index}, {n}: slot(s) {holes} of the "
                                "reserved region were never written")
        self.received = (self.received + n) % COUNTER
        self.wr = self.advance("cb_push_back", self.wr, n, "write")
        self.pushed(n)

    def pop(self, n: int) -> None:
        if n > self.visible():
            raise ProtocolError(5, f"cb_pop_front cb{self.index}, {n} with {self.visible()} pages visible")
        self.written[self.rd + np.arange(n)] = False
        self.acked = (self.acked + n) % COUNTER
        self.rd = self.advance("cb_pop_front", self.rd, n, "read")
        self.popped(n)

    def check_region(self, call: str, ptr: int, n: int, side: str) -> None:
        """Rule 3: the region a call names lies in L1 from the pointer on, contiguous; it must end
        at or before the limit, where the pointer wraps."""
        if ptr + n > self.num_pages:
            raise ProtocolError(3, f"{call} cb{self.index}, {n} at page {ptr} of a {self.num_pages}-page "
                                f"ring: the {side} pointer would cross the end of the ring without "
                                "landing on it; the counts of one trip round the ring must add up to "
                                "exactly its size")

    def advance(self, call: str, ptr: int, n: int, side: str) -> int:
        self.check_region(call, ptr, n, side)
        return 0 if ptr + n == self.num_pages else ptr + n

    # ----- where slots are (rule 6) -----
    def back(self, slot: int, who: str = "a store") -> int:
        """The L1 page of slot `slot` of the reserved region."""
        self.check_back(slot, slot, who)
        return self.wr + slot

    def front(self, slot: int, who: str = "a read") -> int:
        """The L1 page of slot `slot` of the waited region."""
        self.check_front(slot, slot, who)
        return self.rd + slot

    def store(self, slot: int, tile: np.ndarray, who: str = "a store") -> None:
        page = self.back(slot, who)
        self.pages[page] = tile
        self.written[page] = True

    def load(self, slot: int, who: str = "a read") -> np.ndarray:
        return self.pages[self.front(slot, who)]
