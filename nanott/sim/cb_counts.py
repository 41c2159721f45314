"""One kernel's own view of a circular buffer: the protocol rules that need only its own calls.

Both the simulator's ring (cb_ring.CbRing, which adds the pages, the counters and the partner
kernel) and F1's static walk (passes/_f1_protocol.py, which runs each kernel once, with index ranges
instead of values) use this class, so the two never disagree on what a call may do:

  cb_reserve_back n   reserved = max(reserved, n)      (reserve only polls: asking for more than is
                                                         then pushed is legal, docs/reference.md §5.2 rule 5)
  cb_push_back n      n <= reserved (rule 5); reserved -= n
  cb_wait_front n     waited = max(waited, n)          (waits are cumulative, rule 4)
  cb_pop_front n      waited = max(0, waited - n)
  a store to slot i   0 <= i < reserved (rule 6): NoC reads into the CB, pack_tile
  a read of slot i    0 <= i < waited (rule 6): NoC writes from the CB, compute reads
"""
from __future__ import annotations

from nanott.sim.errors import ProtocolError


class CbCounts:
    def __init__(self, index: int):
        self.index = index
        self.reserved = 0                      # pages reserved at the back, not pushed yet
        self.waited = 0                        # pages waited for at the front since the last pop

    def reserve(self, n: int) -> None:
        self.reserved = max(self.reserved, n)

    def wait(self, n: int) -> None:
        self.waited = max(self.waited, n)

    def check_push(self, n: int) -> None:
        if n > self.reserved:
            raise ProtocolError(5, f"cb_push_back cb{self.index}, {n} with {self.reserved} pages "
                                "reserved (cb_reserve_back first)")

    def pushed(self, n: int) -> None:
        self.reserved -= n

    def popped(self, n: int) -> None:
        self.waited = max(0, self.waited - n)

    def check_back(self, lo: int, hi: int, who: str) -> None:
        """Slots lo..hi of the reserved region are stored to."""
        if lo < 0 or hi >= self.reserved:
            raise ProtocolError(6, f"{who} to cb{self.index} back slot {hi if lo >= 0 else lo}, but "
                                f"{self.reserved} pages are reserved")

    def check_front(self, lo: int, hi: int, who: str) -> None:
        """Slots lo..hi of the waited region are read."""
        if lo < 0 or hi >= self.waited:
            raise ProtocolError(6, f"{who} of cb{self.index} front slot {hi if lo >= 0 else lo}, but "
                                f"{self.waited} pages were waited for")

    def state(self) -> tuple[int, int]:
        return self.reserved, self.waited
