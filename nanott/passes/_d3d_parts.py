"""How many parts D3d cuts a multicast step into: the divisor of the step's rows that costs the
receivers least, weighed with the cycle model's facts (sim/machine.py), and the rate at which a
sender reads DRAM in that model.
"""
from __future__ import annotations

from nanott.languages import l8
from nanott.sim import machine as m
from nanott.sim.cooperation import moving_cores
from nanott.sim.machine import Timing


def parts(pages: int, page_bytes: int, rows: int, timing: Timing, read_rate: float, steps: int = 1) -> int:
    """The divisor c of `rows` that minimises what the parts cost the receivers over the sender's
    `steps` blocks of the run. In parts (c >= 2) the sender reads part p + 1 under its own
    transaction id while it waits for part p's and multicasts it, so its NIU's incoming port streams
    a block's reads without a gap; a part then takes the longest of: its reads (at `read_rate`,
    bytes per cycle), half the handshake's round trip (the part's multicast, the receivers' `valid`
    and their `ready` for the part after next: two semaphore writes, and the calls around them; the
    even and odd parts have a semaphore pair each, so a round trip spans two parts), and the
    sender's calls for it (a read issued per page, the handshake's). Costs: at the run's start, the wait for the first
    part (its reads, then its multicast); in every block, a part's fixed cost once (the last part's
    read barrier waits out the latency and its handshake before the next block's first reads) and,
    for every part, what its round trip or its calls take beyond its reads; at the end, the last
    part's multicast after the last read. The reads themselves take as long in any number of parts."""
    write = timing.write_latency_base + timing.write_latency_per_hop * timing.mean_hops()
    calls = 4 * m.CB_CALL_CYCLES + 2 * m.NOC_ISSUE_CYCLES
    fixed = timing.read_latency + 2 * write + calls

    def cost(c: int) -> float:
        size = pages // c * page_bytes
        reads = size / read_rate
        cast = size / min(timing.noc_rate(size), timing.niu_bytes_per_cycle[1])
        beyond = 0.0 if c == 1 else max(0.0, (cast + 2 * write + calls) / 2 - reads,
                                        pages // c * m.NOC_ISSUE_CYCLES + calls + 2 * m.TRID_CYCLES - reads)
        return steps * (fixed + c * beyond) + reads + cast + cast
    return min((c for c in range(1, rows + 1) if rows % c == 0), key=cost)


def read_rate(program: l8.Program, timing: Timing, page_bytes: int) -> float:
    """A sender's DRAM reads of `page_bytes` pages, bytes per cycle, as the cycle model streams them
    (sim/cycles.CycleModel.transfer): the NoC rate of one page, the sender's equal share of DRAM
    bandwidth among the cores that read DRAM, and its NIU's absorption rate, whichever is least."""
    readers = moving_cores(program, l8.NocReadPage)
    return min(timing.noc_rate(page_bytes), timing.dram_bytes_per_cycle / readers, timing.niu_bytes_per_cycle[0])
