"""InterpL3: runs an L3 kernel as the cores would, one persistent program per core.

There is no grid left: for each core of `work`, in order, the body runs once with the core's
runtime values bound (CoreArg "start" and "count"); the persistent loop in the body recovers the
block indices itself. The core's values live among the scalars under "core.start" and
"core.count", names no user variable can have.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from nanott.languages import l3
from nanott.languages.l0_interp import Env, xy
from nanott.languages.l2_interp import InterpL2


class InterpL3(InterpL2):
    """L3 runs the body once per core, with that core's (start, count)."""

    def run(self, program: l3.Kernel, arrays: dict[str, np.ndarray]) -> None:
        for core in program.work.cores:
            env = Env(dict(arrays), {"core.start": core.start, "core.count": core.count},
                      f"{program.name} core {xy(core.core)}")
            self.exec_block(program.body, env)

    def eval(self, e: Any, env: Env) -> Any:
        match e:
            case l3.CoreArg(name):
                return env.scalars[f"core.{name}"]
            case _:
                return super().eval(e, env)


l3.LANG.interpreter = InterpL3


def demo_kernel() -> l3.Kernel:
    """L2's demo with its grid turned into a persistent loop, as B2 would write it."""
    from nanott.languages.l2_interp import demo_kernel as l2_demo
    k = l2_demo()
    block_id, two = l3.Var("block_id"), l3.Const(2, "int32")
    loop = l3.For("blk", l3.CoreArg("count"), "persistent", 0, (
        l3.Let("block_id", l3.BinOp("+", l3.CoreArg("start"), l3.Var("blk"))),
        l3.Let("bx", l3.BinOp("%", block_id, two)),
        l3.Let("by", l3.BinOp("//", block_id, two)), *k.body))
    return l3.Kernel(k.name, k.params, k.work, (loop,), k.attrs)


if __name__ == "__main__":
    from nanott.languages.l1_interp import demo_run
    l3.LANG.check(demo_kernel())
    demo_run(InterpL3(), demo_kernel())
