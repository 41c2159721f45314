"""Circular-buffer plans and the L1 budget: shared by A2 (user buffers), C3 (intermediate CBs)
and F1 (the final check), so the three can never disagree about sizes.
"""
from __future__ import annotations

from typing import Iterable

from nanott.diagnostics import NanottError, kib
from nanott.ir import Loc
from nanott.languages.l1 import CbPlan
from nanott.target import TILE, Target, data_format, tile_bytes


def cb_plan(shape: tuple[int, ...], dtype: str, depth: int, why: str) -> CbPlan:
    """A CB of one-tile pages holding `depth` blocks of a (rows x cols) buffer, or of a vector (n,),
    which takes n / 32 tiles (its values run down the first column or along the first row of each)."""
    rows, cols = shape if len(shape) == 2 else (TILE, *shape)
    return CbPlan(data_format(dtype), tile_bytes(dtype), (rows // TILE) * (cols // TILE), depth, why)


def check_l1_budget(cbs: Iterable[tuple[str, CbPlan, Loc]], target: Target) -> None:
    """NT201 when the CBs do not fit in a core's L1; NT202 when there are more CBs than indices."""
    cbs = list(cbs)
    if len(cbs) > target.num_cbs:
        name, _, loc = cbs[target.num_cbs]
        raise NanottError("NT202", f"the kernel needs {len(cbs)} circular buffers; a {target.name} "
                          f"core has {target.num_cbs}", loc,
                          "fuse elementwise steps into one T.Parallel, or reuse buffers (C2c already "
                          "shares one CB between buffers compute alone uses, one after another)")
    check_l1_bytes(cbs, target)


def check_l1_bytes(cbs: Iterable[tuple[str, CbPlan, Loc]], target: Target) -> None:
    """NT201 when the CBs do not fit in a core's L1."""
    cbs = list(cbs)
    total = sum(plan.bytes for _, plan, _ in cbs)
    if total > target.l1_usable_bytes:
        name, plan, loc = max(cbs, key=lambda c: c[1].bytes)
        raise NanottError(
            "NT201", f"the circular buffers need {kib(total)} of L1; a {target.name} core has "
            f"{kib(target.l1_usable_bytes)} for them (of {kib(target.l1_bytes)})", loc,
            f"{name} alone takes {kib(plan.bytes)} ({plan.block_pages} tiles x {plan.depth} blocks): "
            "lower num_stages in T.Pipelined, or use smaller blocks")
