"""Zeros the DST already holds: a `fill_tile dst[i], 0` into a slot that no op has written since
the section's tile_regs_acquire writes what is there. tile_regs_release zeroes the section
(docs/reference.md §4.3, §5.3 rule 4; every level's simulator and the CPU runtime do so, and start
the DST at zeros), and tt-metal's matmul kernels rely on it: their first K block accumulates onto
the section they acquire (`bmm_large_block_zm_fused_bias_activation`: no fill, no reload). D5a's
first trip of a spilled accumulator fills the slots its reload would have loaded; at HiFi2 the four
fills of a 1x4 subblock (64 cycles each on the SFPU) hold the unpacker as long as two matmul_blocks.
"""
from __future__ import annotations

from typing import Any

from nanott.ir import replace
from nanott.languages import l9

QUIET = (l9.Init, l9.Let, l9.CbWait, l9.CbPop, l9.CbReserve, l9.CbPush)   # write no DST slot


def drop_zero_fills(stmts: tuple) -> tuple:
    """stmts without the zero fills that follow a tile_regs_acquire with nothing but inits, lets
    and CB calls between (in every loop body)."""
    out: list[Any] = []
    fresh = False                                   # no DST slot written since the acquire
    for s in stmts:
        if fresh and zero_fill(s):
            continue
        if isinstance(s, l9.For):
            s = replace(s, body=drop_zero_fills(s.body))
        fresh = isinstance(s, l9.RegsAcquire) or (fresh and isinstance(s, QUIET))
        out.append(s)
    return tuple(out)


def zero_fill(s: Any) -> bool:
    """A fill of zeros: `fill_tile dst[i], 0`, or a loop of lets and such fills."""
    if isinstance(s, l9.FillTile):
        return s.value == 0
    return isinstance(s, l9.For) and all(isinstance(x, l9.Let) or zero_fill(x) for x in s.body) and any(
        not isinstance(x, l9.Let) for x in s.body)
