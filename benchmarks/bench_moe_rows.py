"""Rows at a data-dependent start: what each way of moving them costs on the NoC, on the cycle model.

TileLang's routed MoE (examples/fused_moe.py and the progression chapter) reads and writes blocks of
32 rows that start at a row r read from DRAM, r mod 32 = s > 0 in general, and writes only the rows
still inside the expert's group. A tiled DRAM tensor stores each 32x32 tile as four 16x16 faces,
row by row, so one row of a tile is two runs of 16 elements (32 bytes in 16-bit data). The ways a
reader (writer) can move a block of 32 rows x `cols` columns from (to) row r:

  tiles (baseline)   r a multiple of 32: cols/32 tile pages of 2048 B (what fused_moe.py does)
  two tile rows      the cols/32 tiles of both tile rows r touches (2 x the pages), assembled in L1
                     afterwards (the assembly is not charged here: a lower bound)
  face rows          each row's runs straight from (to) DRAM into (from) their places:
                     2 x cols/32 transfers of 32 B per row; for a write, only the valid rows, and no
                     other byte of a tile shared with the next group's block is touched
  row pages          the tensor kept row-major, a page per row: one transfer of cols x 2 B per row
                     (compute then tilizes after the read, untilizes before the write; not charged)

Each is charged exactly as the cycle model charges a kernel's page transfers (CycleModel.transfer:
issue on the RISC-V, the NIU port's tt-npe rate for the size, the DRAM share of 64 busy cores, the
latency), on Wormhole n150, for one block; the figures are modelled cycles until the last transfer
lands, and ratios to the tile baseline of the same run.

    python benchmarks/bench_moe_rows.py [--cols 64] [--rows 32,17,1]
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TILE, ELEMENT = 32, 2              # 16-bit data: float16, bfloat16


def modelled(transfers: list[int], reading: bool) -> float:
    """Cycles until the last of these transfers (sizes in bytes) lands, issued back to back by one
    data-movement kernel of one of 64 busy cores."""
    from nanott.sim.cycles import Core, CycleModel
    from nanott.target import WORMHOLE_N150
    model, core = CycleModel(WORMHOLE_N150, "HiFi2", active_cores=64), Core()
    for size in transfers:
        model.transfer(core, (0,), "reader", size, reading)
    return max(core.clock["reader"], core.nics["reader"].landed)


def ways(cols: int, rows: int) -> dict[str, list[int]]:
    """The transfers of each way, for `rows` valid rows of a 32-row block `cols` wide."""
    tiles = cols // TILE
    return {"tiles (baseline)": [TILE * TILE * ELEMENT] * tiles,
            "two tile rows": [TILE * TILE * ELEMENT] * (2 * tiles),
            "face rows": [16 * ELEMENT] * (2 * tiles * rows),
            "row pages": [cols * ELEMENT] * rows}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cols", type=int, default=64, help="the block's width (a multiple of 32)")
    ap.add_argument("--rows", default="32,17,1", help="valid rows written (reads move all 32)")
    args = ap.parse_args()
    print(f"one block of 32 rows x {args.cols} columns, 16-bit data, Wormhole n150 cycle model")
    print(f"{'':18} {'transfers':>9} {'bytes':>7} {'cycles':>8} {'vs tiles':>8}")
    for what, rows, reading in [("read", TILE, True)] + [("write", int(r), False) for r in args.rows.split(",")]:
        print(f"{what} ({rows} valid rows)" if not reading else "read (a whole block)")
        runs = ways(args.cols, rows)
        base = modelled(runs["tiles (baseline)"], reading)
        for name, sizes in runs.items():
            if not reading and name == "two tile rows":
                continue           # a write of whole tiles would overwrite the next group's rows
            t = modelled(sizes, reading)
            print(f"  {name:16} {len(sizes):9d} {sum(sizes):7d} {t:8.0f} {t / base:7.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
