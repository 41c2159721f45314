"""The DST register file of a core's compute engine, its handshake state machine, and the engine's
init configuration (used by InterpL9).

The DST holds `capacity` tiles of 32x32, modelled at float32 whether or not the kernel asks for
fp32 accumulation (16-bit DST rounding is not modelled yet). One compute thread drives it through
one section, half-sync style, in the order docs/reference.md §5.3 demands:

    idle --acquire--> math --commit--> committed --wait--> packing --release--> idle

Math (copy_tile, *_tiles, matmul_tiles, SFPU ops) writes the DST only in `math`, pack_tile reads
it only in `packing`, and release zeroes the section. Any other order, a second acquire, or an
index outside 0..capacity-1 is a ProtocolError naming the rule. `EngineConfig` follows the init
calls with the model of nanott/sim/engine.py and faults an op run without its init.
Errors are raised without a place; the interpreter tells them where (`ProtocolError.at`).
"""
from __future__ import annotations

from typing import Any

import numpy as np

from nanott.sim.engine import HW_STARTUP, State, needs
from nanott.sim.errors import RULES, ProtocolError
from nanott.target import TILE

RULES.update({
    "4.3": "a DST index is below the DST's capacity",
    "5.3.1": "MATH: tile_regs_acquire -> ops writing DST -> tile_regs_commit, strictly alternating",
    "5.3.2": "PACK: tile_regs_wait -> pack_tile -> tile_regs_release, strictly alternating",
    "5.3.6": "compute_kernel_hw_startup first and once; the matching init before each op",
})

# the handshake: call -> (state it needs, state after, rule)
STEPS = {"tile_regs_acquire": ("idle", "math", "5.3.1"), "tile_regs_commit": ("math", "committed", "5.3.1"),
         "tile_regs_wait": ("committed", "packing", "5.3.2"),
         "tile_regs_release": ("packing", "idle", "5.3.2")}


class DstFile:
    """`capacity` float32 tiles and the state of the handshake on them."""

    def __init__(self, capacity: int):
        self.capacity = capacity
        self.tiles = np.zeros((capacity, TILE, TILE), np.float32)
        self.state = "idle"

    def step(self, call: str) -> None:
        """One handshake call: tile_regs_acquire, _commit, _wait or _release."""
        want, after, rule = STEPS[call]
        if self.state != want:
            raise ProtocolError(rule, f"{call} while the DST is {self.state} (it needs {want}): "
                                "the order is acquire -> commit -> wait -> release")
        if call == "tile_regs_release":
            self.tiles[...] = 0.0
        self.state = after

    def _index(self, i: Any, what: str) -> int:
        i = int(i)
        if not 0 <= i < self.capacity:
            raise ProtocolError("4.3", f"{what} DST index {i}; the DST holds {self.capacity} tiles")
        return i

    def read(self, i: Any) -> np.ndarray:
        """A tile an SFPU or accumulating op reads (math phase only)."""
        self._in("math", "a math op reads the DST", "5.3.1")
        return self.tiles[self._index(i, "reads")].copy()

    def check_math(self, lo: int, hi: int) -> None:
        """The checks `read` makes, on tiles lo..hi at once (math phase, in range), nothing read."""
        self._in("math", "a math op reads the DST", "5.3.1")
        self._index(lo, "reads"), self._index(hi, "reads")

    def write(self, i: Any, tile: np.ndarray) -> None:
        """A math op's result into tile i (math phase only)."""
        self._in("math", "a math op writes the DST", "5.3.1")
        self.tiles[self._index(i, "writes")] = np.asarray(tile, np.float32)

    def pack(self, i: Any) -> np.ndarray:
        """The tile pack_tile reads (pack phase only)."""
        self._in("packing", "pack_tile reads the DST", "5.3.2")
        return self.tiles[self._index(i, "packs")].copy()

    def _in(self, state: str, what: str, rule: str) -> None:
        if self.state != state:
            raise ProtocolError(rule, f"{what} while it is {self.state}; that is allowed only in "
                                f"{'acquire..commit' if state == 'math' else 'wait..release'}")


def to_tf32(x: np.ndarray) -> np.ndarray:
    """Float32 through srcA or srcB: TF32 keeps the top 10 of the 23 mantissa bits (docs/reference.md
    §7.4), the rest cut off, as nanott's CPU runtime does (runtime/src/numerics.hpp)."""
    return (np.asarray(x, dtype=np.float32).view(np.uint32) & np.uint32(0xFFFFE000)).view(np.float32)


class EngineConfig:
    """The engine's configuration slots, as the init calls set them (the init model)."""

    def __init__(self, formats: dict[int, str]):
        self.formats = formats
        self.state = State()
        self.needed: dict[int, tuple] = {}          # id(op) -> (op, its needs): the same on every run of it

    def init(self, init: Any) -> None:
        if init.op == HW_STARTUP and self.state.started:
            raise ProtocolError("5.3.6", f"a second {HW_STARTUP}")
        if init.op != HW_STARTUP and not self.state.started:
            raise ProtocolError("5.3.6", f"{init.head()} before {HW_STARTUP}")
        self.state = self.state.after(init, self.formats)

    def check(self, op: Any) -> None:
        """A ProtocolError unless the op's inits are in effect."""
        hit = self.needed.get(id(op))
        if hit is None or hit[0] is not op:
            hit = self.needed[id(op)] = (op, needs(op, self.formats))
        for n in hit[1]:
            self._check(op, n)

    def _check(self, op: Any, n: Any) -> None:
        if n.slot in ("srca", "srcb") and self.state.started and not self.state.holds(n):
            cb, now = n.init.cbs[0], getattr(self.state, n.slot)
            raise ProtocolError("4.4", f"{op.head()} unpacks cb{cb} ({n.value}) into {n.slot[:3]}{n.slot[3:].upper()}, "
                                f"which is configured for {now or 'an unknown format'}: {n.init.head()} "
                                "before it would fix that")
        if not self.state.holds(n):
            now = getattr(self.state, n.slot) if self.state.started else f"nothing ({HW_STARTUP} not run)"
            raise ProtocolError("5.3.6", f"{op.head()} without {n.init.head()}: the {n.slot} slot "
                                f"holds {now if now is not None else 'an unknown configuration'}")
