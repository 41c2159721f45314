"""Target descriptions: the machine a kernel is lowered for, as data (never constants in passes).

Numbers from docs/reference.md §4.3 (DST), §5.2 (CBs), §8.1 (chip and board).
"""
from __future__ import annotations

from dataclasses import dataclass

from nanott.dtypes import LOWERED

TILE = 32
FORMATS = {d.name: (d.format, d.tile_bytes) for d in LOWERED.values()}   # the table of nanott/dtypes.py


@dataclass(frozen=True)
class Target:
    name: str
    grid: tuple[int, int]           # user compute grid (x, y) of Tensix cores
    l1_bytes: int                   # L1 per core
    l1_usable_bytes: int            # what is left for circular buffers after firmware and kernel config
    num_cbs: int                    # circular-buffer indices per core
    dst_tiles_16bit: int            # DST capacity in half-sync mode, 16-bit accumulation
    dst_tiles_32bit: int            # DST capacity in half-sync mode, fp32 accumulation
    dram_banks: int
    dram_alignment: int
    clock_ghz: float
    release: str = "0.81.1"         # the ttnn/tt-metal release the C++ is emitted for (api.VERSIONS)
    math_fidelity: str | None = None    # the user's math fidelity (--fidelity), over D5's dtype rule

    @property
    def num_cores(self) -> int:
        return self.grid[0] * self.grid[1]

    def dst_capacity(self, fp32_accumulation: bool) -> int:
        return self.dst_tiles_32bit if fp32_accumulation else self.dst_tiles_16bit


WORMHOLE_N150 = Target("wormhole_n150", (8, 8), 1464 * 1024, 1363 * 1024, 32, 8, 4, 12, 32, 1.0)
BLACKHOLE_P150 = Target("blackhole_p150", (13, 10), 1536 * 1024, 1435 * 1024, 64, 8, 4, 8, 64, 1.35)
TARGETS = {t.name: t for t in (WORMHOLE_N150, BLACKHOLE_P150)}
DEFAULT_TARGET = WORMHOLE_N150


def data_format(dtype: str) -> str:
    """The tt::DataFormat name of a dtype (bf16 is Float16_b)."""
    return FORMATS[dtype][0]


def tile_bytes(dtype: str) -> int:
    return FORMATS[dtype][1]
