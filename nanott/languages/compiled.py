"""Every level's compiled executor: the Compiled mixin (languages/l0_compiled.py) before the
level's interpreter, CompiledL0 .. CompiledL8. The statements and expressions a level shares with
L0 run as closures compiled once per node, and so do the tile programs of L5..L8 (the CompiledTiles
mixin, languages/tile_compiled.py); everything else (CBs, tile reads and stores, kernels under the
scheduler, the protocol's checks) by the level's own interpreter, so each is bit-identical to its
reference (tests/test_compiled.py, every example at every level). A tile group whose tiles are
independent runs once on stacks of tiles (the BatchedTiles mixins, languages/tile_batched.py: one
per way a level keeps its tiles), and L7's and L8's kernel loops and lets run without their long
`match` (CompiledKernels, languages/kernel_compiled.py). L9 has its own fast path, the lockstep simulator (sim/lockstep.py).
"""
from __future__ import annotations

from nanott.languages.l0_compiled import Compiled, CompiledL0
from nanott.languages.l1_interp import InterpL1
from nanott.languages.l2_interp import InterpL2
from nanott.languages.l3_interp import InterpL3
from nanott.languages.l4_interp import InterpL4
from nanott.languages.l5_interp import InterpL5
from nanott.languages.l6_interp import InterpL6
from nanott.languages.l7_interp import InterpL7
from nanott.languages.l8_interp import InterpL8
from nanott.languages.kernel_compiled import CompiledKernels
from nanott.languages.tile_batched import BatchedTiles, QueueTiles, RingTiles
from nanott.languages.tile_compiled import CompiledTiles

COMPILED = {"L0": CompiledL0, **{level: type(f"Compiled{level}", (Compiled, interp), {}) for level, interp in (
    ("L1", InterpL1), ("L2", InterpL2), ("L3", InterpL3), ("L4", InterpL4))},
    **{level: type(f"Compiled{level}", (Compiled, batched, CompiledTiles, interp), {}) for level, batched, interp in (
        ("L5", BatchedTiles, InterpL5), ("L6", BatchedTiles, InterpL6))},
    **{level: type(f"Compiled{level}", (Compiled, CompiledKernels, batched, CompiledTiles, interp), {})
       for level, batched, interp in (("L7", QueueTiles, InterpL7), ("L8", RingTiles, InterpL8))}}

__all__ = ["COMPILED"]
