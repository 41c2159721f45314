"""InterpL1: runs an L1 kernel. L1 only annotates L0 (tensor layouts and accessors, CB plans), so
the one rule that changes is Alloc, a new production that carries its CB plan: the buffer it
makes is the same fresh NaN block as in L0.
"""
from __future__ import annotations

from typing import Any

from nanott.languages import l1
from nanott.languages.l0_interp import Env, InterpL0, empty


class InterpL1(InterpL0):
    """L1 runs like L0; a CB plan changes where a buffer lives, not what it holds."""

    def exec_stmt(self, s: Any, env: Env) -> None:
        match s:
            case l1.Alloc(name, shape, dtype, _, _):
                env.buffers[name] = empty(shape, dtype)
            case _:
                super().exec_stmt(s, env)


l1.LANG.interpreter = InterpL1


def demo_kernel() -> l1.Kernel:
    """Y = 2 * X + 1 over a 2x2 grid of 32x32 blocks: five lines of L1, built by hand."""
    layout = l1.TileLayout("dram", "interleaved", "Float32", (64, 64), (2, 2), 4096)
    x, y = (l1.Tensor(n, (64, 64), "float32", layout, l1.Accessor(4096, 12, True, 2)) for n in "XY")
    at = (l1.BinOp("*", l1.Var("by"), l1.Const(32, "int32")), l1.BinOp("*", l1.Var("bx"), l1.Const(32, "int32")))
    ij = (l1.Var("i"), l1.Var("j"))
    twice = l1.BinOp("+", l1.BinOp("*", l1.Load("S", ij), l1.Const(2.0, "float32")), l1.Const(1.0, "float32"))
    return l1.Kernel("twice_plus_one", (x, y), (2, 2), ("bx", "by"), (
        l1.Alloc("S", (32, 32), "float32", "shared", l1.CbPlan("Float32", 4096, 1, 2, "double-buffered")),
        l1.Copy(l1.Region("X", at, (32, 32)), l1.Region("S", (l1.Const(0, "int32"),) * 2, (32, 32))),
        l1.Parallel(("i", "j"), (32, 32), (l1.Store("S", ij, twice),)),
        l1.Copy(l1.Region("S", (l1.Const(0, "int32"),) * 2, (32, 32)), l1.Region("Y", at, (32, 32)))), ())


def demo_run(interp: Any, program: Any) -> None:
    """Print the program, run it on random X, and say whether Y is 2 * X + 1."""
    import numpy as np

    from nanott.printing import render
    print(render(program))
    x = np.random.default_rng(0).uniform(-1, 1, (64, 64)).astype(np.float32)
    arrays = {"X": x, "Y": np.full((64, 64), np.nan, np.float32)}
    interp.run(program, arrays)
    print("Y == 2 * X + 1:", np.array_equal(arrays["Y"], x * np.float32(2) + np.float32(1)))


if __name__ == "__main__":
    l1.LANG.check(demo_kernel())
    demo_run(InterpL1(), demo_kernel())
