"""The timing facts of a target: what the cycle model (sim/cycles.py) charges, as data.

Every number is either a published figure, with its source, or a stated assumption (marked
ASSUMPTION). Sources are the pages summarised in docs/reference.md:
  §8.1  chip and board (Tenstorrent's "Specifications/Requirements" pages, dev_mem_map.h)
  §8.2  per-core rates (ISA `MatrixUnit.md`, `VectorUnit.md`; tt-metal `tech_reports/matrix_engine`,
        `tech_reports/GEMM_FLOPS`; tt-llk #130 and tt-metal #21624 for measured pack/unpack)
  §8.4  NoC and DRAM (tenstorrent/tt-npe `device_models/{wormhole_b0,blackhole}.hpp`)
The grid and clock come from nanott.target.Target; this module adds what only timing needs.
"""
from __future__ import annotations

from dataclasses import dataclass

# Matrix engine: one 8x16 @ 16x16 MVMUL per cycle per fidelity phase, so a 32x32x32 tile matmul is
# 16 cycles per phase: 16 / 32 / 48 / 64 at LoFi / HiFi2 / HiFi3 / HiFi4 (§8.2, GEMM_FLOPS).
PHASES = {"LoFi": 1, "HiFi2": 2, "HiFi3": 3, "HiFi4": 4}
MATMUL_TILE_CYCLES_PER_PHASE = 16
# ELWADD/ELWSUB: 8x16 per cycle, 8 cycles a tile, no fidelity; ELWMUL 8 per phase (§8.2).
ELTWISE_TILE_CYCLES = 8
# GAPOOL reduce: 16x16 per cycle, at least 4 cycles a tile per phase (§8.2, a derived lower bound).
REDUCE_TILE_CYCLES_PER_PHASE = 4
# ASSUMPTION: copy_tile's datacopy (MOVA2D) and transpose move 8x16 per cycle like ELWADD: 8 cycles.
DATACOPY_TILE_CYCLES = 8
# SFPU: 32 lanes, one instruction per cycle (IPC 1); a 32x32 tile is 32 vectors, so a tile costs
# 32 x (instructions per vector) (§8.2). ASSUMPTION: instructions per vector, load and store
# included, from the shape of each function's SFPU routine (a polynomial or Newton steps for the
# transcendental ones: "hundreds of cycles for exp, recip, gelu", §8.2).
SFPU_VECTORS_PER_TILE = 32
SFPU_INSTRUCTIONS = {
    "relu": 3, "abs": 3, "negative": 3, "rsub": 4, "fill": 2, "typecast": 4, "where": 5,
    "eqz": 3, "nez": 3, "ltz": 3, "lez": 3, "gtz": 3, "gez": 3,
    # ASSUMPTION: an integer bit op is a load, one SFPU integer instruction (SFPAND/SFPOR/SFPXOR,
    # SFPSHFT) and a store per vector, like relu; the same by a second tile's values
    "and": 3, "or": 3, "xor": 3, "shl": 3, "shr": 3,
    "add": 4, "sub": 4, "mul": 4, "max": 5, "min": 5, "div": 14,
    "exp": 14, "exp2": 14, "log": 16, "sqrt": 12, "rsqrt": 12, "recip": 12,
    "sigmoid": 18, "tanh": 18, "gelu": 20,
}
SFPU_DEFAULT_INSTRUCTIONS = 12      # ASSUMPTION: an op missing from the table costs like sqrt
# ASSUMPTION: an init call reprograms a few configuration registers and MOPs: 16 cycles.
INIT_CYCLES = 16
# ASSUMPTION: a RISC-V issuing one NoC page transfer (address generation through the tensor
# accessor, four command-buffer register writes at ~5 cycles per L1/register store, §8.1) is busy
# for 30 cycles; a CB call (a counter read or a 16-bit counter update) for 10.
NOC_ISSUE_CYCLES = 30
CB_CALL_CYCLES = 10
# ASSUMPTION: noc_async_read_set_trid writes one command-buffer register (NOC_PACKET_TAG, ~5 cycles a
# store, §8.1) and returns: 10 cycles, as a CB call.
TRID_CYCLES = 10


@dataclass(frozen=True)
class Timing:
    """What a core's engines and the NoC move per cycle on one target (see the module docstring)."""
    unpack_bytes_per_cycle: float        # one unpacker (§8.2: 4 x 128-bit L1 reads per cycle)
    unpack_both_bytes_per_cycle: float   # SrcA and SrcB together (§8.2: 80 B/cycle)
    pack_bytes_per_cycle: float          # §8.2: WH 4 packers x 16 B; BH 4 interfaces x 32 B
    noc_bytes_per_cycle: tuple[tuple[int, float], ...]   # effective rate by transfer size (§8.4)
    niu_bytes_per_cycle: tuple[float, float]   # a worker NIU's absorption (sink), injection (source)
    dram_bytes_per_cycle: float          # all banks together (§8.4: banks x mean inject/absorb)
    read_latency: int                    # a DRAM read, core to a bank elsewhere on the grid (§8.4)
    write_latency_base: int              # write latency = base + per_hop x hops (§8.4)
    write_latency_per_hop: int
    noc_grid: tuple[int, int]            # NoC grid, for hop counts (§8.1)

    def noc_rate(self, size: int) -> float:
        """Effective NoC bytes per cycle for one transfer of `size` bytes: the tt-npe table,
        interpolated linearly between its sizes (ASSUMPTION between points), capped at the link."""
        points = self.noc_bytes_per_cycle
        if size <= points[0][0]:
            return points[0][1] * size / points[0][0]
        for (s0, r0), (s1, r1) in zip(points, points[1:]):
            if size <= s1:
                return r0 + (r1 - r0) * (size - s0) / (s1 - s0)
        return points[-1][1]

    def mean_hops(self) -> float:
        """ASSUMPTION: interleaved pages spread over every bank, so a transfer travels the mean
        distance of a one-way torus in each dimension, (W - 1) / 2 + (H - 1) / 2 hops."""
        w, h = self.noc_grid
        return (w - 1) / 2 + (h - 1) / 2


TIMING = {
    "wormhole_n150": Timing(
        unpack_bytes_per_cycle=64, unpack_both_bytes_per_cycle=80, pack_bytes_per_cycle=64,
        noc_bytes_per_cycle=((128, 5.5), (256, 10.1), (512, 18.0), (1024, 27.4), (2048, 30.0),
                             (8192, 30.0)),
        niu_bytes_per_cycle=(28.1, 28.1), dram_bytes_per_cycle=12 * 23.6, read_latency=270,
        write_latency_base=40, write_latency_per_hop=10, noc_grid=(10, 12)),
    "blackhole_p150": Timing(
        unpack_bytes_per_cycle=64, unpack_both_bytes_per_cycle=80, pack_bytes_per_cycle=128,
        noc_bytes_per_cycle=((128, 6.0), (256, 12.1), (512, 24.2), (1024, 48.0), (2048, 57.7),
                             (4096, 58.7), (8192, 60.4), (16384, 60.9)),
        niu_bytes_per_cycle=(60.9, 60.9), dram_bytes_per_cycle=8 * 40.0, read_latency=329,
        write_latency_base=40, write_latency_per_hop=11, noc_grid=(17, 12)),
}
