"""The NoC reads a data-movement kernel has in flight, as F1's protocol walk follows them.

A read is issued into slots of a CB's back and carries the transaction id set last
(`noc_async_read_set_trid`, docs/reference.md §3.3; 0 until one is set). `noc_async_read_barrier`
lands every read; `noc_async_read_barrier_with_trid(t)` lands the reads of id t alone. A push of n
pages, or a multicast of them, is judged against the reads into those n pages only (rule 7 and
rule "mcast"); a push moves the back on, so the reads into later slots stand n slots nearer.
"""
from __future__ import annotations

Range = tuple[int, int] | None              # slots from the back, or not known


class ReadsInFlight:
    def __init__(self) -> None:
        self.trid = 0                           # the id the next reads carry
        self.flight: list[tuple[int, int, Range]] = []    # (id, cb, slots from the back)

    def issue(self, cb: int, slots: Range) -> None:
        self.flight.append((self.trid, cb, slots))

    def landed(self, trid: int | None = None) -> None:
        """A barrier: every read, or those of one id."""
        self.flight = [] if trid is None else [r for r in self.flight if r[0] != trid]

    def into(self, cb: int, n: int) -> int:
        """The reads in flight into the first n slots of cb's back (a slot range unknown: counted)."""
        return sum(c == cb and (r is None or r[0] < n) for _, c, r in self.flight)

    def pushed(self, cb: int, n: int) -> None:
        """cb's back moved on by n pages."""
        self.flight = [(t, c, r if c != cb or r is None else (r[0] - n, r[1] - n)) for t, c, r in self.flight]
